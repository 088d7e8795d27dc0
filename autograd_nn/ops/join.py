"""Joining and splitting: cat, stack, split, chunk, unbind, narrow.

`Cat` and `Stack` take any number of inputs and hand each its slice of the gradient. Splitting is
slicing (`GetItem`), so every piece is its own node; the engine adds the pieces' gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..function import Function, TensorBase
from ..shapes import normalize_axis
from .index import GetItem, getitem_any


class Cat(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = np.cumsum([0] + [a.shape[axis] for a in arrays]).tolist()
        return np.concatenate(arrays, axis=axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        b = self.bounds
        return tuple(
            getitem_any(g, lead + (slice(b[i], b[i + 1]),), False) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


class Stack(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(
            getitem_any(g, lead + (i,), False) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


def _common(op: str, tensors: Sequence[Any]) -> list:
    """The tensors as a list, cast to their common dtype (PyTorch's promotion)."""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, not a Tensor")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote(dtype, t.dtype)
    return [t if t.dtype == dtype else t.astype(dtype) for t in tensors]


def cat(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Join tensors along an existing dim; 1-D empty tensors are skipped, as in PyTorch."""
    tensors = _common("cat", tensors)
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = kept[0]
    if ref.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = normalize_axis(dim, ref.ndim, "cat")
    for _i, t in enumerate(kept):
        if t.ndim != ref.ndim or t.shape[:d] + t.shape[d + 1 :] != ref.shape[:d] + ref.shape[d + 1 :]:
            raise ShapeError(f"cat: shapes {[tuple(x.shape) for x in kept]} differ outside dim {d}")
    return kept[0] if len(kept) == 1 else Cat.apply(*kept, axis=d)


def stack(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Join same-shaped tensors along a new dim."""
    tensors = _common("stack", tensors)
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        raise ShapeError(
            f"stack: all tensors must have the same shape, got {[tuple(t.shape) for t in tensors]}"
        )
    d = normalize_axis(dim, len(shape) + 1, "stack")
    return Stack.apply(*tensors, axis=d)


def hstack(tensors: Sequence[Any]) -> Any:
    tensors = [t.reshape((1,)) if t.ndim == 0 else t for t in _common("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Any:
    tensors = [t.reshape((1, -1)) if t.ndim < 2 else t for t in _common("vstack", tensors)]
    return cat(tensors, 0)


def narrow(x: Any, dim: int, start: int, length: int) -> Any:
    d = normalize_axis(dim, x.ndim, "narrow")
    n = x.shape[d]
    if not -n <= start <= n:
        raise ShapeError(f"narrow: start {start} is out of range for dim {d} of size {n}")
    start = start % n if start < 0 else start
    if length < 0 or start + length > n:
        raise ShapeError(
            f"narrow: start {start} + length {length} exceeds dim {d} of size {n} (tensor shape {x.shape})"
        )
    return GetItem.apply(x, index=(slice(None),) * d + (slice(start, start + length),), advanced=False)


def split(x: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller), or of the listed sizes."""
    d = normalize_axis(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ShapeError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(
                f"split: sizes {sizes} do not add up to {n}, the size of dim {d} (tensor shape {x.shape})"
            )
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    return tuple(narrow(x, d, s, k) for s, k in zip(starts, sizes))


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple:
    """Up to `chunks` pieces of equal size ceil(n / chunks) (the last may be smaller)."""
    if chunks <= 0:
        raise ShapeError(f"chunk: chunks must be positive, got {chunks}")
    d = normalize_axis(dim, x.ndim, "chunk")
    n = x.shape[d]
    return split(x, -(-n // chunks), d) if n else split(x, [0], d)


def unbind(x: Any, dim: int = 0) -> tuple:
    d = normalize_axis(dim, x.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(GetItem.apply(x, index=lead + (i,), advanced=False) for i in range(x.shape[d]))
