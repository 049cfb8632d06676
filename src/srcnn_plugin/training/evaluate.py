"""Paper-protocol evaluation (placeholder filled below)."""
import numpy as np
from skimage.metrics import peak_signal_noise_ratio


def to_uint8(x):
    return np.clip(np.round(np.asarray(x, np.float64) * 255.0), 0, 255).astype(np.uint8)


def psnr_y(hr, sr, scale):
    a, b = to_uint8(hr), to_uint8(sr)
    s = int(np.ceil(scale))
    a, b = a[s:-s, s:-s], b[s:-s, s:-s]
    return peak_signal_noise_ratio(a, b, data_range=255)
