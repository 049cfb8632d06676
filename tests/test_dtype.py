import numpy as np
import pytest

from srcnn_plugin._dtype import output_dtype, value_affine, work_dtype


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


def test_value_affine_slope():
    assert value_affine(np.uint16, False)[0] == 1 / 65535
    assert value_affine(np.float32, False)[0] == 1.0


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
