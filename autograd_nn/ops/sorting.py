"""Value-selecting ops (sort, topk, kthvalue, median, max/min with a dim) and their index helpers.

Every such op is `take_along(x, indices)`: the indices are computed once on the data (they are
constants of the derivative) and the values gathered. Its gradient scatters back to those indices, and
the scatter's gradient gathers again, so both are differentiable to any order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from . import dual


def take_along(x: Any, indices: np.ndarray, axis: int, keepdims: bool = True) -> Any:
    """`x` gathered at `indices` along `axis` (array or Tensor); `keepdims=False` drops that axis."""
    if dual.is_tensor(x):
        return TakeAlong.apply(x, indices=indices, axis=axis, keepdims=keepdims)
    return _take(x, indices, axis, keepdims)


def scatter_along(g: Any, indices: np.ndarray, axis: int, shape: tuple) -> Any:
    """Zeros of `shape` with `g` written at `indices` along `axis` (indices unique per slice)."""
    if dual.is_tensor(g):
        return ScatterAlong.apply(g, indices=indices, axis=axis, shape=shape)
    return _scatter(g, indices, axis, shape)


def _take(x: np.ndarray, indices: np.ndarray, axis: int, keepdims: bool) -> np.ndarray:
    out = np.take_along_axis(x, indices, axis)
    return out if keepdims else np.squeeze(out, axis)


def _scatter(g: np.ndarray, indices: np.ndarray, axis: int, shape: tuple) -> np.ndarray:
    out = np.zeros(shape, g.dtype)
    if g.ndim < indices.ndim:
        g = np.expand_dims(g, axis)
    np.put_along_axis(out, indices, g, axis)
    return out


class TakeAlong(Function):
    """Gather along one axis at constant integer indices (`indices` has the input's ndim)."""

    def forward(self, a, indices, axis, keepdims=True):
        self.indices, self.axis, self.in_shape = indices, axis, a.shape
        return _take(a, indices, axis, keepdims)

    def backward(self, g):
        return scatter_along(g, self.indices, self.axis, self.in_shape)


class ScatterAlong(Function):
    """The transpose of TakeAlong: write into zeros at indices that are distinct within each slice."""

    def forward(self, g, indices, axis, shape):
        self.indices, self.axis, self.keepdims = indices, axis, g.ndim == indices.ndim
        return _scatter(g, indices, axis, shape)

    def backward(self, g):
        return take_along(g, self.indices, self.axis, self.keepdims)


# ---- index computations (on data only) ------------------------------------------------------------
def argsort(a: np.ndarray, axis: int, descending: bool = False) -> np.ndarray:
    """Stable argsort as int64; NaN sorts as the largest value, ties keep their original order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    n = a.shape[axis]
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(rev, axis)).astype(np.int64, copy=False)


def argextreme(a: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """Index of the first max (or min) along `axis`, keeping the axis (NaN wins, as in PyTorch)."""
    pick = np.argmax if largest else np.argmin
    return np.expand_dims(pick(a, axis=axis), axis).astype(np.int64, copy=False)
