"""Special functions elementwise: erf (for exact GELU), via the C library's erf in a compiled loop.

NumPy has no erf ufunc; a vectorised rational approximation in NumPy takes dozens of array passes,
while one compiled loop over `math.erf` takes one.
"""

import math

import numpy as np
from numba import njit


@njit(cache=True)
def erf_flat(x: np.ndarray, out: np.ndarray) -> None:
    """out[i] = erf(x[i]) for 1-D arrays of equal length (computed in float64)."""
    for i in range(x.shape[0]):
        out[i] = math.erf(x[i])


def erf(x: np.ndarray) -> np.ndarray:
    """erf of a float32/float64 array of any shape, in the same dtype."""
    if x.dtype.kind != "f" or x.dtype.itemsize not in (4, 8):
        raise TypeError(f"kernels.special.erf: needs a float32/float64 array, got {x.dtype}")
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    erf_flat(flat, out)
    return out.reshape(x.shape)
