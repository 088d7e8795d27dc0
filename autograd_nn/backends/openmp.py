"""`backends.openmp`: Numba's kernels run their own thread pool; report it as available."""

from __future__ import annotations


def is_available() -> bool:
    return True
