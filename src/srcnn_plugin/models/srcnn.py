"""The SRCNN network (Dong et al., TPAMI 2016).

Three convolutions on the bicubic-upsampled single-channel image::

    conv f1 x f1 x n1 -> ReLU -> conv f2 x f2 x n2 -> ReLU -> conv f3 x f3 x 1

The convolutions are *valid* (no padding), exactly as in the paper: an
``(H, W)`` input gives an ``(H - 2 h, W - 2 h)`` output with the halo
``h = (f1 + f2 + f3 - 3) // 2``. Callers pad by the halo (see
[predict_padded][srcnn_plugin.models.srcnn.predict_padded]) so the output
lines up with the input pixel for pixel, and tiles overlap by that halo.

Deviation from the paper: with ``residual=True`` (our default) the network
predicts the difference to the bicubic input and adds it back. The function
class is the same; training converges several times faster, which matters on
a CPU budget.

Noise-aware models (``noise_aware=True``) are told the noise level ``sigma``
of their input (standard deviation, in the normalised units the network sees;
see [estimate_noise][srcnn_plugin.degradations.estimate_noise]). It enters as
a learned shift of the first two layers' biases,
``b_k + (NOISE_UNIT_SCALE * sigma) * v_k``, which is what a constant noise-level
map as an extra input channel (FFDNet's design) amounts to for valid
convolutions, at no extra cost per pixel. With ``v_k = 0`` the network is the
plain SRCNN, so noise-aware models are fine-tuned from the paper's. For
signal-dependent (shot) noise the level varies with the intensity: a noise
map (one ``sigma`` per first-layer output pixel, see
[noise_map][srcnn_plugin.models.srcnn.noise_map]) makes the same shift per
pixel, what FFDNet's non-constant map input amounts to.

Low-resolution-grid models (``stride=s``, an integer factor) keep the input
and the output on the output grid but compute on the low-resolution grid,
as ESPCN does (Shi et al., CVPR 2016): the first layer strides by ``s`` over
the bicubic input, the second runs on those features, and the last makes
``s * s`` channels, each one phase of the ``s x s`` output pixels of a
low-resolution pixel (the sub-pixel convolution, ``pixel_shuffle``). The
layers after the first then cost ``1 / s**2`` per output pixel, so a model
of the same cost can be much larger. Such a model serves its factor only,
on inputs whose sides are multiples of ``s`` and whose first pixel starts a
low-resolution pixel (the phase it was trained on); callers pad and tile on
multiples of ``s``. ``stride=1`` is the paper's network.

Blur-aware models (``blur_aware=True``) are told, the same way, how much
optical blur to undo: ``blur``, the Gaussian PSF sigma in *input* pixels
(the PSF in output pixels divided by the factor), as
``(BLUR_UNIT_SCALE * blur) * u_k``. 0 means "only the camera's pixel
integration": the same optics at a finer pixel size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "SRCNNConfig",
    "SRCNN",
    "predict_padded",
    "infer",
    "conv_to_one_channel",
    "conv_relu",
    "cpu_activations",
    "point_symmetric",
    "dihedral_ensemble",
    "flat_response",
    "noise_map",
    "as_condition",
    "NOISE_UNIT_SCALE",
    "BLUR_UNIT_SCALE",
]

#: The noise condition is ``NOISE_UNIT_SCALE * sigma`` (sigma in percent of the unit range).
NOISE_UNIT_SCALE = 100.0
#: The blur condition is ``BLUR_UNIT_SCALE * blur`` (blur: PSF sigma in input pixels).
BLUR_UNIT_SCALE = 4.0


@dataclass(frozen=True)
class SRCNNConfig:
    """Architecture of an SRCNN.

    Parameters
    ----------
    f1, f2, f3 : int
        Kernel sizes of the three layers (odd). The paper's best is 9-5-5;
        9-1-5 and 9-3-5 are its smaller variants.
    n1, n2 : int
        Filters of the first two layers (64 and 32 in the paper).
    residual : bool
        Learn the residual over the bicubic input.
    noise_aware : bool
        Take the input's noise level (see the module notes).
    blur_aware : bool
        Take the PSF to undo (see the module notes).
    stride : int
        1 for the paper's network on the output grid; an integer factor
        ``s`` for a network on the low-resolution grid (see the module
        notes), which serves that factor only.

    Examples
    --------
    >>> SRCNNConfig().halo
    8
    >>> SRCNNConfig(f2=1).halo
    6
    >>> c = SRCNNConfig(f2=1, stride=3)
    >>> c.name, c.halo, c.macs_per_pixel
    ('9-1-5/x3', 9, 1603)
    """

    f1: int = 9
    f2: int = 5
    f3: int = 5
    n1: int = 64
    n2: int = 32
    residual: bool = True
    noise_aware: bool = False
    blur_aware: bool = False
    stride: int = 1

    def __post_init__(self):
        for name in ("f1", "f2", "f3"):
            k = getattr(self, name)
            if not isinstance(k, int) or k < 1 or k % 2 == 0:
                raise ValueError(f"{name} must be a positive odd integer, got {k!r}.")
        for name in ("n1", "n2"):
            n = getattr(self, name)
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"{name} must be a positive integer, got {n!r}.")
        s = self.stride
        if not isinstance(s, int) or isinstance(s, bool) or s < 1:
            raise ValueError(f"stride must be a positive integer factor, got {s!r}.")
        if s > 1 and (-(-self.f1 // s) + self.f2 + self.f3 - 3) % 2:
            raise ValueError(
                f"A {self.f1}-{self.f2}-{self.f3} network on the x{s} grid loses an odd number "
                "of low-resolution pixels; pass f1, f2, f3 whose halo is a whole number of "
                "them (e.g. 9-1-5 or 9-5-5 at x2, x3 or x4)."
            )

    @property
    def halo(self) -> int:
        """Pixels lost at each border by the valid convolutions (a multiple of ``stride``).

        On the low-resolution grid the first layer loses ``ceil(f1 / s) - 1``
        low-resolution pixels, the others ``f2 - 1`` and ``f3 - 1``, for
        inputs whose sides are multiples of ``s``.
        """
        s = self.stride
        if s == 1:
            return (self.f1 + self.f2 + self.f3 - 3) // 2
        return s * (-(-self.f1 // s) + self.f2 + self.f3 - 3) // 2

    @property
    def name(self) -> str:
        """Short name such as ``"9-5-5"``, or ``"9-1-5/x2"`` on the x2 grid."""
        base = f"{self.f1}-{self.f2}-{self.f3}"
        return base if self.stride == 1 else f"{base}/x{self.stride}"

    @property
    def macs_per_pixel(self) -> int:
        """Multiply-adds per output pixel."""
        s2 = self.stride**2
        return (self.f1**2 * self.n1 + self.f2**2 * self.n1 * self.n2) // s2 + self.f3**2 * self.n2

    def to_dict(self) -> dict:
        """Plain-dict form stored in weight files."""
        return asdict(self)


class SRCNN(nn.Module):
    """SRCNN as a plain ``nn.Module`` on ``(N, 1, H, W)`` tensors.

    Parameters
    ----------
    config : SRCNNConfig, optional
        Architecture; the paper's 9-5-5 by default.

    Examples
    --------
    >>> import torch
    >>> net = SRCNN()
    >>> net(torch.zeros(1, 1, 33, 33)).shape
    torch.Size([1, 1, 17, 17])
    """

    def __init__(self, config: SRCNNConfig | None = None):
        super().__init__()
        self.config = config or SRCNNConfig()
        c = self.config
        self.conv1 = nn.Conv2d(1, c.n1, c.f1, stride=c.stride)
        self.conv2 = nn.Conv2d(c.n1, c.n2, c.f2)
        self.conv3 = nn.Conv2d(c.n2, c.stride**2, c.f3)
        if c.noise_aware:
            self.noise1 = nn.Parameter(torch.zeros(c.n1))
            self.noise2 = nn.Parameter(torch.zeros(c.n2))
        if c.blur_aware:
            self.blur1 = nn.Parameter(torch.zeros(c.n1))
            self.blur2 = nn.Parameter(torch.zeros(c.n2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default initialisation, with a zero-bias last layer.

        He-normal weights with Adam at 1e-3 left the second layer's ReLUs dead
        within 2,000 steps in our runs; the default (smaller, uniform) init
        trains reliably.
        """
        for conv in (self.conv1, self.conv2, self.conv3):
            conv.reset_parameters()
        nn.init.zeros_(self.conv3.bias)
        if self.config.noise_aware:
            nn.init.zeros_(self.noise1)
            nn.init.zeros_(self.noise2)
        if self.config.blur_aware:
            nn.init.zeros_(self.blur1)
            nn.init.zeros_(self.blur2)

    @property
    def halo(self) -> int:
        """Pixels lost at each border (see [SRCNNConfig][srcnn_plugin.models.srcnn.SRCNNConfig])."""
        return self.config.halo

    def condition_shift(self, noise, blur, layer: int, like: torch.Tensor):
        """``(N, C, 1, 1)`` bias shift of ``layer`` (1 or 2) for the conditions.

        ``noise``/``blur``: numbers or one per batch item; ``None`` (or a model
        that does not take one) adds nothing. ``None`` when nothing is added.
        A noise map (``_is_map``) is left to ``map_shift``.
        """
        shift = None
        for value, aware, unit, name in (
            (None if _is_map(noise) else noise, self.config.noise_aware, NOISE_UNIT_SCALE, "noise"),
            (blur, self.config.blur_aware, BLUR_UNIT_SCALE, "blur"),
        ):
            if value is None or not aware:
                continue
            v = getattr(self, f"{name}{layer}").to(like.dtype).view(1, -1, 1, 1)
            c = torch.as_tensor(value, dtype=like.dtype, device=like.device).reshape(-1, 1, 1, 1)
            term = (unit * c) * v
            shift = term if shift is None else shift + term
        return shift

    def map_shift(self, noise, layer: int, y: torch.Tensor):
        """``y`` plus the per-pixel shift of a noise map (in place), or ``y`` as is.

        ``noise`` is a map on the first layer's output grid (see
        [noise_map][srcnn_plugin.models.srcnn.noise_map]); the second layer's
        output is ``f2 - 1`` pixels smaller, so the map is cropped to it.
        """
        if not (_is_map(noise) and self.config.noise_aware):
            return y
        if layer == 2:
            c = (self.config.f2 - 1) // 2
            noise = noise[..., c : noise.shape[-2] - c, c : noise.shape[-1] - c] if c else noise
        v = getattr(self, f"noise{layer}").to(y.dtype).view(1, -1, 1, 1)
        return y.addcmul_(noise.to(y.dtype), v, value=NOISE_UNIT_SCALE)

    def forward(self, x: torch.Tensor, noise=None, blur=None) -> torch.Tensor:
        """Valid-convolution forward pass; output is ``2 * halo`` smaller per axis.

        ``noise`` / ``blur`` (noise- / blur-aware models): a number or one per
        batch item; ``noise`` may also be a per-pixel map
        (``(N, 1, H - f1 + 1, W - f1 + 1)``, see
        [noise_map][srcnn_plugin.models.srcnn.noise_map]).
        """
        y = x
        for layer, conv in ((1, self.conv1), (2, self.conv2)):
            y = conv(y)
            shift = self.condition_shift(noise, blur, layer, y)
            y = y if shift is None else y + shift
            y = F.relu(self.map_shift(noise, layer, y))
        y = self.conv3(y)
        if self.config.stride > 1:
            y = F.pixel_shuffle(y, self.config.stride)
        if self.config.residual:
            y = y + _inner(x, self.halo, y)
        return y


def _inner(x: torch.Tensor, h: int, like: torch.Tensor) -> torch.Tensor:
    """The pixels of ``x`` that the output ``like`` covers (``h`` in from the top left)."""
    return x[..., h : h + like.shape[-2], h : h + like.shape[-1]]


def infer(model: SRCNN, x: torch.Tensor, noise=None, blur=None) -> torch.Tensor:
    """Inference-only forward pass, equal to ``model(x)`` up to float rounding.

    On the CPU it is about 1.25x faster for 9-5-5: the last layer runs as
    [conv_to_one_channel][srcnn_plugin.models.srcnn.conv_to_one_channel]
    (oneDNN handles a single output channel, or the 4 phases of x2, poorly), and the ReLUs are fused
    into the convolutions that feed them (see
    [conv_relu][srcnn_plugin.models.srcnn.conv_relu]; a separate ReLU reads
    and writes the largest activations once more). Other devices run
    ``model(x)`` (cuDNN has no such weak spot).
    Call it without autograd (``torch.inference_mode``).

    Examples
    --------
    >>> import torch
    >>> net = SRCNN().eval()
    >>> x = torch.rand(2, 1, 40, 30)
    >>> with torch.inference_mode():
    ...     torch.allclose(infer(net, x), net(x), atol=1e-5)
    True
    """
    if x.device.type != "cpu":
        return model(x, noise, blur)
    # A noise map shifts each pixel between a convolution and its ReLU, which
    # then cannot be fused into the convolution.
    fuse = not (_is_map(noise) and model.config.noise_aware)
    y = x
    for layer, conv in ((1, model.conv1), (2, model.conv2)):
        y = _conditioned_conv(model, conv, y, noise, blur, layer, relu=fuse)
        if not fuse:
            y = model.map_shift(noise, layer, y).relu_()
    stride, w3, b3 = model.config.stride, model.conv3.weight, model.conv3.bias
    y = conv_to_one_channel(y, w3, b3) if _last_by_product(stride) else F.conv2d(y, w3, b3)
    if stride > 1:
        y = F.pixel_shuffle(y, stride)
    if model.config.residual:
        y += _inner(x, model.halo, y)
    return y


def _last_by_product(stride: int) -> bool:
    """Whether `infer` runs the last layer as `conv_to_one_channel` on the CPU.

    oneDNN is slow for few output channels (1 on the output grid, 4 at x2);
    from 9 (x3) on its convolution is faster than the product (one thread,
    128^2 tiles).
    """
    return stride**2 < 8


def cpu_activations(config: SRCNNConfig) -> float:
    """Floats of activations per output pixel in `infer` on the CPU.

    The two hidden layers' channels, and the last layer's work: its ``f3**2``
    tap maps per phase when it runs as a product (`conv_to_one_channel`),
    else its ``stride**2`` phases; on the low-resolution grid, per
    ``stride**2`` output pixels. The engine sizes its CPU tiles by it.

    Examples
    --------
    >>> cpu_activations(SRCNNConfig())  # 64 + 32 + 25
    121.0
    >>> cpu_activations(SRCNNConfig(f2=1, stride=3))  # (64 + 32 + 9) / 9
    11.666666666666666
    """
    s2 = config.stride**2
    last = config.f3**2 * s2 if _last_by_product(config.stride) else s2
    return (config.n1 + config.n2 + last) / s2


def _is_map(noise) -> bool:
    """True for a per-pixel noise map (a 4-D tensor) rather than levels."""
    return isinstance(noise, torch.Tensor) and noise.ndim == 4


def noise_map(model: SRCNN, x: torch.Tensor, line) -> torch.Tensor:
    """Per-pixel noise level of signal-dependent noise, on the first layer's output grid.

    ``sigma = sqrt(max(a * mu + b, 0))`` with ``mu`` the mean of ``x`` over
    the first layer's ``f1 x f1`` window: the local intensity each
    first-layer output sees. Computed from the input alone, so a tile (with
    its halo) gets the same map as the whole image, and a rotated or
    mirrored input gets the rotated or mirrored map (the self-ensembles stay
    exact).

    Parameters
    ----------
    model : SRCNN
    x : (N, 1, H, W) tensor
        Normalised input, as the network takes it.
    line : (2,) or (N, 2) tensor or sequence
        The variance line ``(a, b)`` in the network's units, for all items
        or one per item (see
        [estimate_poisson_gaussian][srcnn_plugin.degradations.estimate_poisson_gaussian]).

    Returns
    -------
    (N, 1, H - f1 + 1, W - f1 + 1) float32 tensor
        On the low-resolution grid (``stride`` s): ``(N, 1, (H - f1) // s + 1,
        (W - f1) // s + 1)``, the first layer's output grid.

    Examples
    --------
    >>> import torch
    >>> net = SRCNN(SRCNNConfig(noise_aware=True)).eval()
    >>> m = noise_map(net, torch.full((1, 1, 20, 20), 0.5), (0.02, 0.0))
    >>> m.shape, round(float(m[0, 0, 0, 0]), 4)  # sqrt(0.02 * 0.5)
    (torch.Size([1, 1, 12, 12]), 0.1)
    """
    f1, stride = model.config.f1, model.config.stride
    box = torch.full((1, 1, f1, 1), 1.0 / f1, device=x.device)
    # Two 1-D box filters: local (a tile gets its pixels' exact values, unlike running
    # sums), about 4x faster than a 2-D pooling on the CPU, and kept in float32. On the
    # low-resolution grid they stride as the first layer does.
    with torch.autocast(x.device.type, enabled=False):
        mu = F.conv2d(x.float().contiguous(), box, stride=(stride, 1))
        mu = F.conv2d(mu, box.transpose(-2, -1), stride=(1, stride))
    line = torch.as_tensor(line, dtype=torch.float32, device=x.device).reshape(-1, 2, 1, 1)
    return (line[:, :1] * mu + line[:, 1:]).clamp_min_(0).sqrt_()


def conv_relu(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int = 1
) -> torch.Tensor:
    """``relu(conv2d(x, weight, bias, stride))`` (valid), in one pass where the CPU allows.

    On x86-64 CPUs, in float32 and outside autocast, oneDNN applies the ReLU as
    the convolution writes its output (``torch.ops.mkldnn._convolution_pointwise``,
    the fused operator PyTorch's compiler uses), which saves reading and
    writing the activations once more: on one thread the 9-1-5 models run
    1.3x faster end to end, 9-5-5 as before; on two threads the difference
    was within the machine's noise (``benchmarks/bench_speed.py``, its fused
    table). Elsewhere, or where this PyTorch lacks the operator, it is
    ``F.conv2d(x, weight, bias).relu_()``. Both give the same values.

    Examples
    --------
    >>> import torch
    >>> x, w, b = torch.rand(1, 1, 12, 12), torch.randn(4, 1, 3, 3), torch.randn(4)
    >>> torch.allclose(conv_relu(x, w, b), F.conv2d(x, w, b).relu(), atol=1e-6)
    True
    """
    global _FUSED
    if (
        _FUSED is not None
        and x.device.type == "cpu"
        and x.dtype == weight.dtype == torch.float32
        and not _cpu_autocast()
    ):
        try:
            return _FUSED(x, weight, bias, [0, 0], [stride] * 2, [1, 1], 1, "relu", [], "")
        except RuntimeError:  # this build cannot run it: the plain path from now on
            _FUSED = None
    return F.conv2d(x, weight, bias, stride).relu_()


def _cpu_autocast() -> bool:
    """True inside a CPU autocast region (any PyTorch >= 2.1)."""
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # before PyTorch 2.4
        return torch.is_autocast_cpu_enabled()


def _fused_op():
    """oneDNN's fused convolution on x86-64 (where it was measured), else ``None``."""
    import platform

    try:
        if platform.machine().lower() not in ("x86_64", "amd64") or not (
            torch.backends.mkldnn.is_available()
        ):
            return None
        return torch.ops.mkldnn._convolution_pointwise
    except (AttributeError, RuntimeError):
        return None


_FUSED = _fused_op()


def _conditioned_conv(model: SRCNN, conv, x: torch.Tensor, noise, blur, layer: int, relu=False):
    """``conv(x)`` plus the condition shift, folded into the convolution's bias.

    Folding costs nothing (no extra pass over the activations). Items with
    different shifts (channels with different noise levels) run as groups,
    each exactly as it would alone, so a channel's result does not depend on
    the other channels in the batch. ``relu=True`` applies the ReLU too
    (fused, see [conv_relu][srcnn_plugin.models.srcnn.conv_relu]).
    """

    def run(t, bias):
        stride = conv.stride[0]
        if relu:
            return conv_relu(t, conv.weight, bias, stride)
        return F.conv2d(t, conv.weight, bias, stride)

    shift = model.condition_shift(noise, blur, layer, x)
    if shift is None:
        return run(x, conv.bias)
    rows = shift.reshape(shift.shape[0], -1)
    if rows.shape[0] == 1 or bool((rows == rows[:1]).all()):
        return run(x, conv.bias + rows[0].to(conv.bias.dtype))
    uniq, inverse = torch.unique(rows, dim=0, return_inverse=True)
    out = None
    for g in range(uniq.shape[0]):
        idx = (inverse == g).nonzero().view(-1)
        y = run(x[idx], conv.bias + uniq[g].to(conv.bias.dtype))
        if out is None:
            out = y.new_empty((x.shape[0], *y.shape[1:]))
        out[idx] = y
    return out


def conv_to_one_channel(y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Valid convolution of ``(N, C, H, W)`` to one channel (or a few) by a product and shifts.

    ``C -> M*k*k`` is one matrix product (the weights of each output
    channel's kernel taps), then each channel's ``k*k`` maps are summed, in
    float32, with their tap's shift. This runs at matrix-product speed: on a
    256-pixel CPU tile, 1.3-2x the convolution library's speed for a single
    output channel (measured by ``benchmarks/bench_speed.py``; this machine
    is noisy); the last layer of a network on the low-resolution grid has
    ``s * s`` channels. It accepts either memory format.

    Examples
    --------
    >>> import torch
    >>> y, w, b = torch.rand(1, 4, 9, 8), torch.rand(1, 4, 3, 3), torch.rand(1)
    >>> ref = torch.nn.functional.conv2d(y, w, b)
    >>> torch.allclose(conv_to_one_channel(y, w, b), ref, atol=1e-5)
    True
    >>> w4, b4 = torch.rand(4, 4, 3, 3), torch.rand(4)  # four channels
    >>> ref4 = torch.nn.functional.conv2d(y, w4, b4)
    >>> torch.allclose(conv_to_one_channel(y, w4, b4), ref4, atol=1e-5)
    True
    """
    n, c, h, w = y.shape
    m, k = weight.shape[0], weight.shape[-1]
    ho, wo = h - k + 1, w - k + 1
    taps = weight.permute(0, 2, 3, 1).reshape(m * k * k, c).to(y.dtype)
    # One 2-D product per item: a batched product of a channels-last ``y`` copies
    # the strided operand first (slower on the CPU).
    maps = y.new_empty((n, m * k * k, h * w))
    for i in range(n):
        torch.mm(taps, y[i].flatten(1), out=maps[i])
    maps = maps.view(n, m, k, k, h, w)
    out = maps[:, :, 0, 0, :ho, :wo].float() + bias.float().view(1, m, 1, 1)
    for dy in range(k):
        for dx in range(k):
            if dy or dx:
                out += maps[:, :, dy, dx, dy : dy + ho, dx : dx + wo]
    return out


def point_symmetric(fn, x: torch.Tensor) -> torch.Tensor:
    """``(fn(x) + R fn(R x)) / 2`` in float32, ``R`` the 180-degree rotation.

    Makes any image-to-image ``fn`` exactly equivariant to point reflection
    (a symmetric feature keeps its centre), at the cost of two calls.

    Examples
    --------
    >>> import torch
    >>> x = torch.rand(1, 1, 5, 6)
    >>> y = point_symmetric(lambda t: t * t.cumsum(-1), x)
    >>> torch.allclose(point_symmetric(lambda t: t * t.cumsum(-1), x.flip(-2, -1)), y.flip(-2, -1))
    True
    """
    flipped = torch.flip(fn(torch.flip(x, (-2, -1))), (-2, -1))
    return 0.5 * (fn(x).float() + flipped.float())


def flat_response(model: SRCNN, levels: torch.Tensor, noise=None, blur=None) -> torch.Tensor:
    """The network's output on constant images, exactly and cheaply.

    Valid convolutions of a constant image are constants (each layer's
    kernel summed over its taps), so ``model`` on a flat image of value ``c``
    is a small multilayer perceptron of ``c``: no image is needed.

    Parameters
    ----------
    model : SRCNN
    levels : (L,) tensor
        The constant values ``c``.
    noise, blur : float, optional
        Conditions of noise- and blur-aware models; ``noise`` may be an
        ``(L,)`` tensor, one level per constant (a noise map of a flat image
        is that constant's level).

    Returns
    -------
    (L,) tensor
        ``model(c)`` for each level. A model on the low-resolution grid
        (``stride`` s) gives ``(L, s, s)``: its output on a flat image repeats
        an ``s x s`` pattern, one value per phase (the phase of output pixel
        ``(i, j)`` is ``(i % s, j % s)``, the input's first pixel starting a
        low-resolution pixel).

    Examples
    --------
    >>> import torch
    >>> net = SRCNN().eval()
    >>> c = torch.tensor([0.2, 0.7])
    >>> with torch.inference_mode():
    ...     ref = torch.stack([net(torch.full((1, 1, 17, 17), float(v))).mean() for v in c])
    ...     torch.allclose(flat_response(net, c), ref, atol=1e-5)
    True
    """
    x = levels.reshape(-1, 1)
    w1 = model.conv1.weight.sum((-2, -1))  # (n1, 1)
    y = x @ w1.T + model.conv1.bias
    shift = model.condition_shift(noise, blur, 1, y)
    y = F.relu(y if shift is None else y + shift.reshape(shift.shape[0], -1))
    y = y @ model.conv2.weight.sum((-2, -1)).T + model.conv2.bias
    shift = model.condition_shift(noise, blur, 2, y)
    y = F.relu(y if shift is None else y + shift.reshape(shift.shape[0], -1))
    y = y @ model.conv3.weight.sum((-2, -1)).T + model.conv3.bias
    stride = model.config.stride
    y = y[:, 0] if stride == 1 else y.reshape(-1, stride, stride)
    if not model.config.residual:
        return y
    return y + (levels if stride == 1 else levels.reshape(-1, 1, 1))


def dihedral_ensemble(fn, x: torch.Tensor) -> torch.Tensor:
    """Mean of ``T^-1 fn(T x)`` over the 8 rotations and mirrors ``T``, in float32.

    Makes any fully convolutional ``fn`` exactly equivariant to quarter turns
    and mirrors (a self-ensemble of 8 calls).

    Examples
    --------
    >>> import torch
    >>> f = lambda t: t * t.cumsum(-1)
    >>> x = torch.rand(1, 1, 5, 6)
    >>> y = dihedral_ensemble(f, x)
    >>> torch.allclose(dihedral_ensemble(f, x.rot90(1, (-2, -1))), y.rot90(1, (-2, -1)))
    True
    """
    total = None
    for k in range(4):
        for flip in (False, True):
            t = torch.rot90(x, k, (-2, -1))
            t = torch.flip(t, (-1,)) if flip else t
            y = fn(t).float()
            y = torch.flip(y, (-1,)) if flip else y
            y = torch.rot90(y, -k, (-2, -1))
            total = y if total is None else total + y
    return total / 8


def predict_padded(
    model: SRCNN, x: torch.Tensor, mode: str = "replicate", noise=None, blur=None
) -> torch.Tensor:
    """Run ``model`` on ``x`` padded by its halo so the output keeps ``x``'s size.

    Parameters
    ----------
    model : SRCNN
        The network.
    x : (N, 1, H, W) tensor
        Bicubic-upsampled input.
    mode : {'replicate', 'reflect'}
        Padding at the image border.
    noise, blur : optional
        As for ``forward``; ``noise`` may also be ``(N, 2)`` variance lines,
        made into a map of the padded input (see
        [noise_map][srcnn_plugin.models.srcnn.noise_map]).

    Returns
    -------
    (N, 1, H, W) tensor
        A model on the low-resolution grid (``stride`` s) takes ``x``'s first
        pixel as the start of a low-resolution pixel (as the bicubic image of
        an ``s``-times smaller one has it).

    Examples
    --------
    >>> import torch
    >>> predict_padded(SRCNN(), torch.zeros(2, 1, 20, 30)).shape
    torch.Size([2, 1, 20, 30])
    >>> predict_padded(SRCNN(SRCNNConfig(f2=1, stride=3)), torch.zeros(1, 1, 21, 31)).shape
    torch.Size([1, 1, 21, 31])
    """
    h, stride = model.halo, model.config.stride
    if min(x.shape[-2:]) <= h and mode == "reflect":
        mode = "replicate"
    height, width = x.shape[-2:]
    # On the low-resolution grid the padded sides are multiples of the stride.
    xp = F.pad(x, (h, h + (-width) % stride, h, h + (-height) % stride), mode=mode)
    y = model(xp, as_condition(model, xp, noise), blur)
    return y[..., :height, :width] if stride > 1 else y


def as_condition(model: SRCNN, x: torch.Tensor, noise):
    """``noise`` as ``forward`` takes it: ``(N, 2)`` variance lines become a map of ``x``.

    Levels (numbers, one per item) and maps pass through unchanged.
    """
    if isinstance(noise, torch.Tensor) and noise.ndim == 2:
        return noise_map(model, x, noise)
    return noise
