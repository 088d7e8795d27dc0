"""Shared checks and layout helpers of the fused ops (`softmax_ce.py`, `norm.py`, `recurrent.py`).

The Numba kernels take C-contiguous float32 or float64 arrays of one dtype and trust their shapes; the
ops call these helpers first so a bad input fails with an error that names the op, the shapes and the
dtypes instead of reaching a kernel.
"""

from __future__ import annotations

import numpy as np

from ...errors import DTypeError, ShapeError

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# At and above this many elements the exp-heavy passes use NumPy's SIMD exp (measured about 0.7 ns an
# element for float32 on this machine) rather than a Numba loop calling libm's scalar exp (about 5 ns);
# below it the single Numba pass wins because it saves NumPy's per-call overhead and temporaries.
NUMPY_EXP_MIN = 1 << 14


def check_float(op: str, *arrays: np.ndarray) -> np.dtype:
    """The common dtype of `arrays`, which must all be float32 or all float64."""
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype not in KERNEL_DTYPES or a.dtype != dtype:
            got = ", ".join(f"{tuple(x.shape)} {x.dtype}" for x in arrays)
            raise DTypeError(f"{op}: needs float32 or float64 arrays of one dtype, got {got}")
    return dtype


def to_rows(a: np.ndarray, dim: int) -> np.ndarray:
    """A C-contiguous (rows, a.shape[dim]) view or copy of `a`, with axis `dim` moved last."""
    if a.ndim == 0:
        return a.reshape(1, 1)
    if dim != a.ndim - 1:
        a = np.moveaxis(a, dim, -1)
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def from_rows(a2: np.ndarray, shape: tuple, dim: int) -> np.ndarray:
    """Undo `to_rows`: give `a2` back the shape `shape`, with its last axis at `dim`."""
    if len(shape) == 0:
        return a2.reshape(())
    if dim == len(shape) - 1:
        return a2.reshape(shape)
    moved = shape[:dim] + shape[dim + 1 :] + (shape[dim],)
    return np.moveaxis(a2.reshape(moved), -1, dim)


def affine_arrays(
    op: str, x: np.ndarray, affine: tuple, has_weight: bool, has_bias: bool, shape: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """(weight, bias) flattened for a kernel, each an empty array when absent; checks shape and dtype."""
    if len(affine) != int(has_weight) + int(has_bias):
        raise ShapeError(
            f"{op}: got {len(affine)} affine arrays for has_weight={has_weight}, has_bias={has_bias}"
        )
    empty = np.empty(0, x.dtype)
    it = iter(affine)
    out = []
    for present, name in ((has_weight, "weight"), (has_bias, "bias")):
        if not present:
            out.append(empty)
            continue
        a = next(it)
        if a.shape != shape:
            raise ShapeError(f"{op}: {name} has shape {a.shape}, expected {shape} for input {x.shape}")
        check_float(op, x, a)
        out.append(np.ascontiguousarray(a).reshape(-1))
    return out[0], out[1]


def stable_shift(x: np.ndarray, axis: int) -> np.ndarray:
    """The max along `axis` (keepdims), 0 where it is not finite: a constant shift before `exp`."""
    if x.size == 0:
        return np.zeros(x.shape[:axis] + (1,) + x.shape[axis + 1 :], x.dtype)
    m = x.max(axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0).astype(x.dtype)
