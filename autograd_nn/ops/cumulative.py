"""Scans along one axis: cumsum, cumprod, and the flips and shifts their gradients are built from.

Each backward rule is written with the functions below (`cumsum`, `cumprod`, `flip`, `shift`), which
run on ndarrays in a first-order backward and apply the primitives on Tensors under
`create_graph=True`; so every gradient here is itself differentiable, to any order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from . import dual


# ---- array-or-Tensor helpers used by backward rules ------------------------------------------------
def flip(x: Any, axis: int) -> Any:
    """Reverse `x` along `axis`."""
    return Flip.apply(x, axis=axis) if dual.is_tensor(x) else np.flip(x, axis)


def cumsum(x: Any, axis: int, reverse: bool = False) -> Any:
    """Inclusive running sum along `axis` (from the end when `reverse`)."""
    if reverse:
        return flip(cumsum(flip(x, axis), axis), axis)
    return Cumsum.apply(x, axis=axis) if dual.is_tensor(x) else np.cumsum(x, axis)


def cumprod(x: Any, axis: int, reverse: bool = False) -> Any:
    """Inclusive running product along `axis` (from the end when `reverse`)."""
    if reverse:
        return flip(cumprod(flip(x, axis), axis), axis)
    return Cumprod.apply(x, axis=axis) if dual.is_tensor(x) else np.cumprod(x, axis)


def shift(x: Any, axis: int, step: int, fill: float) -> Any:
    """Move elements `step` (+1 or -1) places along `axis`; the emptied slot gets `fill`."""
    if dual.is_tensor(x):
        return Shift.apply(x, axis=axis, step=step, fill=fill)
    return _shift(x, axis, step, fill)


def prod_others(x: Any, axis: int) -> Any:
    """For each element, the product of the other elements of its slice along `axis`.

    Written as (exclusive product from the left) * (exclusive product from the right), which needs no
    division, so it is exact with one zero or several and differentiable everywhere.
    """
    left = cumprod(shift(x, axis, 1, 1.0), axis)
    right = cumprod(shift(x, axis, -1, 1.0), axis, reverse=True)
    return left * right


def _shift(a: np.ndarray, axis: int, step: int, fill: float) -> np.ndarray:
    out = np.full_like(a, fill)
    n = a.shape[axis]
    src = [slice(None)] * a.ndim
    dst = [slice(None)] * a.ndim
    src[axis] = slice(0, n - 1) if step > 0 else slice(1, n)
    dst[axis] = slice(1, n) if step > 0 else slice(0, n - 1)
    out[tuple(dst)] = a[tuple(src)]
    return out


# ---- primitives ------------------------------------------------------------------------------------
class Flip(Function):
    def forward(self, a, axis):
        self.axis = axis
        return np.flip(a, axis)

    def backward(self, g):
        return flip(g, self.axis)


class Shift(Function):
    """Elements moved one place along an axis (the gradient moves back; the filled slot gets none)."""

    def forward(self, a, axis, step, fill):
        self.axis, self.step = axis, step
        return _shift(a, axis, step, fill)

    def backward(self, g):
        return shift(g, self.axis, -self.step, 0.0)


class Cumsum(Function):
    def forward(self, a, axis):
        self.axis = axis
        return np.cumsum(a, axis)

    def backward(self, g):
        return cumsum(g, self.axis, reverse=True)


class Cumprod(Function):
    """Running product. The gradient is exact when the slice holds zeros (as PyTorch's is).

    First order, with z the first zero of a slice: before z the gradient is revcumsum(g * y) / x
    (x is nonzero there); at z it is revcumsum(g * y') with y' the running product with x_z replaced
    by 1, summed from z on; after z it is 0. Under `create_graph=True` with zeros present, the
    gradient after z is 0 but its derivative is not, so the dense form `_cumprod_grad_dense` is used.
    """

    def forward(self, a, axis):
        self.axis = axis
        out = np.cumprod(a, axis)
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        axis = self.axis
        ad = a._data if dual.is_tensor(a) else a
        is_zero = ad == 0
        if not is_zero.any():
            return cumsum(g * out, axis, reverse=True) / a
        if dual.is_tensor(a):
            return _cumprod_grad_dense(a, g, axis)
        zeros_seen = np.cumsum(is_zero, axis)
        before = zeros_seen == 0
        first_zero = is_zero & (zeros_seen == 1)
        grad = np.where(before, cumsum(g * out, axis, reverse=True) / np.where(before, a, 1.0), 0.0)
        partial = np.cumprod(np.where(first_zero, 1.0, a), axis)
        at_zero = cumsum(g * partial * ~before, axis, reverse=True)
        return (grad + np.where(first_zero, at_zero, 0.0)).astype(a.dtype, copy=False)


def _cumprod_grad_dense(a: Any, g: Any, axis: int) -> Any:
    """grad_k = sum_{i >= k} g_i prod_{j <= i, j != k} a_j, built from differentiable ops.

    A new axis k (placed before `axis`) holds n copies of the input, copy k with a_k replaced by 1;
    their running products give every prod_{j <= i, j != k} a_j at once. O(n^2) memory, so it is used
    only for higher-order gradients through zeros, as PyTorch does.
    """
    shape = tuple(a.shape)
    n = shape[axis]
    tail = (1,) * (len(shape) - axis - 1)
    expanded = shape[:axis] + (1,) + shape[axis:]
    copies = dual.broadcast_to(a.reshape(expanded), shape[:axis] + (n,) + shape[axis:])
    eye = np.eye(n, dtype=bool).reshape((n, n) + tail)
    upper = np.triu(np.ones((n, n), a.dtype)).reshape((n, n) + tail)  # [k, i] = i >= k
    partial = cumprod(dual.where(eye, 1.0, copies), axis + 1)
    return (partial * g.reshape(expanded) * upper).sum(axis=axis + 1)
