"""Reductions. Axes arrive normalised (a tuple of non-negative ints, or None for all)."""
from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


def expand_reduced(g, in_shape: tuple, axis: tuple | None, keepdims: bool):
    """Give a reduced gradient back the reduced axes (size 1), so it broadcasts against the input."""
    if keepdims or axis is None and g.ndim == len(in_shape):
        return g
    if axis is None:
        return g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for ax in axis:
        shape[ax] = 1
    return g.reshape(tuple(shape))


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.in_shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return np.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = expand_reduced(g, self.in_shape, self.axis, self.keepdims)
        return dual.broadcast_to(g, self.in_shape)
