import numpy as np
import pytest

from srcnn_plugin._dtype import input_scale, output_dtype, work_dtype


@pytest.mark.parametrize(
    "dtype,out",
    [
        (np.uint8, np.float64),
        (np.uint16, np.float64),
        (np.int8, np.float64),
        (np.float16, np.float32),
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.dtype(">f4"), np.float32),
        (np.dtype(">f8"), np.float64),
    ],
)
def test_output_dtype(dtype, out):
    assert output_dtype(dtype) == out


def test_input_scale():
    assert input_scale(np.uint16, False) == 1 / 65535
    assert input_scale(np.float32, False) == 1.0


@pytest.mark.parametrize(
    "dtype,wd",
    [
        (np.uint8, np.float32),
        (np.uint16, np.float32),
        (np.int32, np.float64),
        (np.uint32, np.float64),
        (np.float16, np.float32),
        (np.float64, np.float64),
    ],
)
def test_work_dtype_is_exact_for_stored_values(dtype, wd):
    assert work_dtype(dtype) is wd
