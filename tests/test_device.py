import pytest

from srcnn_plugin._device import available_devices, resolve_device


def test_cpu_always_available():
    assert available_devices()[-1] == "cpu"
    assert resolve_device("cpu").type == "cpu"


def test_none_picks_best():
    assert resolve_device(None).type == available_devices()[0]


def test_explicit_device_wins():
    import torch

    assert resolve_device(torch.device("cpu")).type == "cpu"


@pytest.mark.parametrize("bad", ["tpu", "gpu0", "xla"])
def test_unknown_device(bad):
    with pytest.raises(ValueError, match="Unknown device"):
        resolve_device(bad)


def test_unavailable_device_names_alternatives():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="not available on this machine.*cpu"):
        resolve_device("cuda")


def test_memory_budget_on_the_cpu_is_fixed():
    from srcnn_plugin._device import CPU_BUDGET, memory_budget

    assert memory_budget(resolve_device("cpu")) == CPU_BUDGET == 256 * 2**20
