"""Device choice: an explicit device wins, else CUDA, then MPS, then CPU."""

from __future__ import annotations

__all__ = ["resolve_device", "available_devices", "memory_budget"]

_KNOWN = ("cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """Names of the torch devices usable here, best first.

    Examples
    --------
    >>> "cpu" in available_devices()
    True
    """
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def resolve_device(device=None):
    """Return a ``torch.device`` for ``device``.

    Parameters
    ----------
    device : {None, 'cpu', 'cuda', 'cuda:N', 'mps'} or torch.device
        ``None`` picks the best available device.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For an unknown or unavailable device, naming the ones available.

    Examples
    --------
    >>> resolve_device("cpu").type
    'cpu'
    """
    import torch

    if device is None:
        return torch.device(available_devices()[0])
    if isinstance(device, torch.device):
        dev = device
    else:
        try:
            dev = torch.device(str(device))
        except (RuntimeError, ValueError):
            dev = None
        if dev is None or dev.type not in _KNOWN:
            raise ValueError(
                f"Unknown device {device!r}; pass one of {available_devices()} or None for "
                "the best available."
            ) from None
    if dev.type != "cpu" and dev.type not in available_devices():
        raise ValueError(
            f"Device {device!r} is not available on this machine; pass one of "
            f"{available_devices()} or None for the best available."
        )
    return dev


#: Working memory of the automatic tile size on the CPU (the activations of a
#: 256-pixel tile stay in cache) and on GPUs other than CUDA.
CPU_BUDGET = 256 * 2**20
GPU_BUDGET = 2**30


def memory_budget(device) -> int:
    """Bytes of working memory that set the automatic tile size on ``device``.

    The CPU: 256 MiB. CUDA: a quarter of the device's free memory, at least
    1 GiB, so a big GPU takes a 4096² output in one tile (a tile costs a few
    launches and copies however small it is). Other GPUs: 1 GiB. Tiles shrink
    on out-of-memory errors, and results do not depend on the tile size.

    Examples
    --------
    >>> memory_budget(resolve_device("cpu")) // 2**20
    256
    """
    if device.type == "cpu":
        return CPU_BUDGET
    if device.type == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return max(GPU_BUDGET, free // 4)
    return GPU_BUDGET
