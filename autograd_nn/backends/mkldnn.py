"""`backends.mkldnn`: oneDNN is not used (NumPy's BLAS and Numba kernels do the work)."""

from __future__ import annotations

enabled = False


def is_available() -> bool:
    return False
