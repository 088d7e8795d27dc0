"""Scatter-add of rows: out[idx[i]] += src[i], the gradient of an embedding lookup or of x[idx].

Repeated indices must accumulate (NumPy's `out[idx] += src` would keep only one of them). One
serial pass over the rows, in order: the sum is deterministic, and for embedding-sized rows the work
is memory-bound, so a second thread only adds wake-up cost (measured: tens of ms on a busy machine).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _scatter_add_rows(out, idx, src):  # pragma: no cover - jitted
    n, d = src.shape
    for i in range(n):
        dst = out[idx[i]]
        row = src[i]
        for j in range(d):
            dst[j] += row[j]


def scatter_add_rows(out: np.ndarray, idx: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Add each row src[i] into out[idx[i]] in place and return `out`.

    out: (M, ...) float32/float64, C-contiguous; idx: (n,) integers in [-M, M) (negative counts from
    the end, as in NumPy); src: (n, ...) with out's trailing shape and dtype.
    """
    if not isinstance(out, np.ndarray) or out.dtype not in (np.float32, np.float64) or out.ndim < 1:
        raise TypeError(
            f"scatter_add_rows: out must be a float32/float64 array with at least one "
            f"axis, got {getattr(out, 'dtype', type(out).__name__)}"
        )
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("scatter_add_rows: out must be a writeable C-contiguous array")
    idx = np.asarray(idx)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise TypeError(f"scatter_add_rows: idx must be a 1-D integer array, got {idx.dtype} {idx.shape}")
    src = np.asarray(src)
    if src.dtype != out.dtype or src.shape != idx.shape + out.shape[1:]:
        raise ValueError(
            f"scatter_add_rows: src {src.dtype} {src.shape} must be {out.dtype} "
            f"{idx.shape + out.shape[1:]} for idx {idx.shape} and out {out.shape}"
        )
    m = out.shape[0]
    if idx.size and (idx.min() < -m or idx.max() >= m):
        raise IndexError(f"scatter_add_rows: an index is outside [-{m}, {m}) for out {out.shape}")
    if idx.size == 0 or out.size == 0:
        return out
    idx = np.where(idx < 0, idx + m, idx).astype(np.int64)
    d = out.size // m
    _scatter_add_rows(out.reshape(m, d), idx, np.ascontiguousarray(src).reshape(idx.size, d))
    return out


__all__ = ["scatter_add_rows"]
