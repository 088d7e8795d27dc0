"""Reductions. Axes arrive normalised (a tuple of non-negative ints, or None for all).

Every backward rule uses operators, `.sum(axis=, keepdims=)`, `reshape`/`expand` and `ops/dual.py`,
so it runs on arrays (first order) and on Tensors (`create_graph=True`) alike. Masks and tie weights
are computed once from the data and kept as plain attributes: they are constants of the derivative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from . import dual
from .cumulative import prod_others


def expand_reduced(g: Any, in_shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """Give a reduced gradient back the reduced axes (size 1), so it broadcasts against the input."""
    if keepdims or (axis is None and g.ndim == len(in_shape)):
        return g
    if axis is None:
        return g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for ax in axis:
        shape[ax] = 1
    return g.reshape(tuple(shape))


def reduced_count(shape: tuple, axis: tuple | None) -> int:
    """How many input elements feed each output element."""
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _squeeze(out: np.ndarray, axis: tuple | None, keepdims: bool) -> np.ndarray:
    """Drop the reduced axes of a keepdims result unless `keepdims`.

    Always an ndarray: NumPy turns 0-d results into scalars, and a saved output must be the very
    array the Tensor holds for `create_graph=True` to map it back.
    """
    if not keepdims:
        out = out.reshape(()) if axis is None else np.squeeze(out, axis)
    return np.asarray(out)


def _mean(a: np.ndarray, axis: tuple | None, keepdims: bool) -> np.ndarray:
    """np.mean without its warning on empty input (the result is nan, silently, as in PyTorch)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(a, axis=axis, keepdims=keepdims) / a.dtype.type(reduced_count(a.shape, axis))


def _data(x):
    return x._data if dual.is_tensor(x) else x


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return np.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = expand_reduced(g, self.in_shape, self.axis, self.keepdims)
        return dual.broadcast_to(g, self.in_shape)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        self.n = reduced_count(a.shape, axis)
        return _mean(a, axis, keepdims)

    def backward(self, g):
        g = expand_reduced(g, self.in_shape, self.axis, self.keepdims)
        return dual.broadcast_to(g * (1.0 / max(self.n, 1)), self.in_shape)


class Var(Function):
    """sum((x - mean)^2) / (n - correction); PyTorch clamps the divisor at 0 (giving nan or inf)."""

    def forward(self, a, axis=None, correction=1.0, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        self.dof = max(reduced_count(a.shape, axis) - correction, 0.0)
        self.save(a)
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = a - _mean(a, axis, True)
            return np.sum(centred * centred, axis=axis, keepdims=keepdims) / a.dtype.type(self.dof)

    def backward(self, g):
        (a,) = self.saved
        return _var_backward(self, g, a)


def _var_backward(op, g, a):
    """d var / d a = 2 (a - mean) / dof, times the incoming gradient (shared by Var and Std)."""
    g = expand_reduced(g, op.in_shape, op.axis, op.keepdims)
    n = reduced_count(op.in_shape, op.axis)
    mean = a.sum(axis=op.axis, keepdims=True) * (1.0 / max(n, 1))
    scale = 2.0 / op.dof if op.dof > 0 else math.inf
    with np.errstate(invalid="ignore"):
        return g * (a - mean) * scale


class Std(Function):
    """sqrt(var). Where the std is 0 the gradient is 0 (not inf or nan), as in PyTorch."""

    def forward(self, a, axis=None, correction=1.0, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        self.dof = max(reduced_count(a.shape, axis) - correction, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = a - _mean(a, axis, True)
            var = np.sum(centred * centred, axis=axis, keepdims=keepdims) / a.dtype.type(self.dof)
        out = np.asarray(np.sqrt(var))  # an ndarray (not a NumPy scalar), so create_graph can map it
        self.zero = _data(out) == 0
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        grad_var = dual.where(self.zero, 0.0, g / (2.0 * dual.where(self.zero, 1.0, out)))
        return _var_backward(self, grad_var, a)


class AMax(Function):
    """max (or min with `largest=False`) over axes; tied extremes share the gradient evenly."""

    def forward(self, a, axis=None, keepdims=False, largest=True):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        out = (np.max if largest else np.min)(a, axis=axis, keepdims=True)
        with np.errstate(invalid="ignore"):
            hit = (a == out) | (np.isnan(a) & np.isnan(out))
        self.weight = hit / hit.sum(axis=axis, keepdims=True).astype(a.dtype)
        return _squeeze(out, axis, keepdims)

    def backward(self, g):
        g = expand_reduced(g, self.in_shape, self.axis, self.keepdims)
        return g * self.weight


class LogSumExp(Function):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))), m the max (0 where it is infinite)."""

    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        m = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
        m = np.where(np.isfinite(m), m, 0.0).astype(a.dtype)
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
        out = _squeeze(out, axis, keepdims)
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        g = expand_reduced(g, self.in_shape, self.axis, self.keepdims)
        out = expand_reduced(out, self.in_shape, self.axis, self.keepdims)
        with np.errstate(invalid="ignore"):
            return g * dual.exp(a - out)


class Prod(Function):
    """Product along one axis. The gradient is the product of the other elements, exact with zeros."""

    def forward(self, a, axis, keepdims=False):
        self.axis, self.keepdims = axis, keepdims
        out = np.asarray(np.prod(a, axis=axis, keepdims=keepdims))  # ndarray, not a NumPy scalar
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        if not self.keepdims:
            g = expand_reduced(g, _data(a).shape, (self.axis,), False)
            out = expand_reduced(out, _data(a).shape, (self.axis,), False)
        if not dual.is_tensor(a) and (a != 0).all():
            return g * out / a
        return g * prod_others(a, self.axis)


class Norm(Function):
    """Vector p-norm over axes: p in {2, 1, inf, -inf, 0} or any other real p.

    The gradient is a subgradient where the norm is not differentiable: 0 at the zero vector (never
    nan), ties of the inf-norm share it evenly, as in PyTorch.
    """

    def forward(self, a, p=2.0, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims, self.p = a.shape, axis, keepdims, p
        mag = np.abs(a)
        self.sign = np.sign(a)
        if p == 2:
            out = np.sqrt(np.sum(a * a, axis=axis, keepdims=True))
        elif p == 1:
            out = np.sum(mag, axis=axis, keepdims=True)
        elif math.isinf(p):
            out = (np.max if p > 0 else np.min)(mag, axis=axis, keepdims=True)
            hit = mag == out
            self.weight = self.sign * hit / hit.sum(axis=axis, keepdims=True).astype(a.dtype)
        elif p == 0:
            out = np.sum(a != 0, axis=axis, keepdims=True).astype(a.dtype)
        else:
            out = np.sum(mag**p, axis=axis, keepdims=True) ** (1.0 / p)
        self.zero = out == 0
        out = _squeeze(out, axis, keepdims)
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        p = self.p
        g = expand_reduced(g, self.in_shape, self.axis, self.keepdims)
        if p == 1:
            return g * self.sign
        if math.isinf(p):
            return g * self.weight
        if p == 0:
            return g * np.zeros(self.in_shape, _data(a).dtype)
        out = expand_reduced(out, self.in_shape, self.axis, self.keepdims)
        safe_out = dual.where(self.zero, 1.0, out)
        if p == 2:
            return dual.where(self.zero, 0.0, g * a / safe_out)
        a_zero = _data(a) == 0
        mag = a * self.sign  # |a|, differentiable: the sign is a constant
        safe_mag = dual.where(a_zero, 1.0, mag)
        scale = dual.where(a_zero, 0.0, self.sign * safe_mag ** (p - 1.0))
        return dual.where(self.zero, 0.0, g * scale / safe_out ** (p - 1.0))
