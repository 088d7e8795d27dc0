"""Rounding and remainders: floor, ceil, round, trunc, sign, floor_divide (all with a zero gradient,
as PyTorch), frac, and the two remainders (`remainder`: sign of the divisor, like Python's %; `fmod`:
sign of the dividend, like C). Inputs are floats or integers; integer inputs never require grad.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


class _ZeroGrad(Function):
    """Piecewise-constant ops: the gradient is zero everywhere (PyTorch returns zeros, not None)."""

    def backward(self, g):
        return dual.zeros_like(g)


class Floor(_ZeroGrad):
    def forward(self, a):
        return np.floor(a)


class Ceil(_ZeroGrad):
    def forward(self, a):
        return np.ceil(a)


class Trunc(_ZeroGrad):
    def forward(self, a):
        return np.trunc(a)


class Round(_ZeroGrad):
    """Round half to even (as PyTorch), to `decimals` decimal places."""

    def forward(self, a, decimals):
        return np.round(a, decimals)


class Sign(_ZeroGrad):
    def forward(self, a):
        return np.sign(a)


class _ZeroGrad2(_ZeroGrad):
    """A piecewise-constant op of two inputs: zero gradients for both."""

    def backward(self, g):
        return dual.zeros_like(g), dual.zeros_like(g)


class FloorDivide(_ZeroGrad2):
    """floor(a / b). PyTorch has no derivative for it; here it is zero, like the other roundings."""

    def forward(self, a, b):
        return np.floor_divide(a, b)


class Frac(Function):
    """x - trunc(x); d/dx = 1."""

    def forward(self, a):
        return a - np.trunc(a)

    def backward(self, g):
        return g


class Remainder(Function):
    """a - b * floor(a / b): the result has the sign of b (Python's %, torch.remainder).

    d/da = 1, d/db = -floor(a / b). The quotient is a piecewise constant, kept as a plain constant.
    """

    def forward(self, a, b):
        if self.needs_input_grad[1]:
            self.quotient = np.floor(a / b)
        return np.remainder(a, b)

    def backward(self, g):
        return g, (-g * self.quotient) if self.needs_input_grad[1] else None


class Fmod(Function):
    """a - b * trunc(a / b): the result has the sign of a (C's fmod, torch.fmod).

    d/da = 1, d/db = -trunc(a / b).
    """

    def forward(self, a, b):
        if self.needs_input_grad[1]:
            self.quotient = np.trunc(a / b)
        return np.fmod(a, b)

    def backward(self, g):
        return g, (-g * self.quotient) if self.needs_input_grad[1] else None


class TruncDivide(_ZeroGrad2):
    """trunc(a / b) (div with rounding_mode='trunc'), exact for integers too; zero gradient."""

    def forward(self, a, b):
        if a.dtype.kind == "f":
            return np.trunc(a / b)
        q = np.floor_divide(a, b)
        return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
