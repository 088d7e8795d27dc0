"""Unary maths primitives: exponentials and logarithms, roots, trigonometric and hyperbolic functions.

Each backward is written with operators and `ops/dual.py`-style helpers, so it runs on arrays for a
first-order gradient and on Tensors under `create_graph=True`. Constants are Python floats, so a
float32 input gives a float32 output and gradient. Inputs outside a function's domain give nan or
inf as in PyTorch (NumPy's RuntimeWarning is left visible: it usually points at a bug).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from . import dual

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _method_or(ufunc: Any, method: str) -> Any:
    """A helper that calls `ufunc` on arrays and the Tensor method `method` on Tensors."""

    def call(x: Any) -> Any:
        return getattr(x, method)() if dual.is_tensor(x) else ufunc(x)

    call.__name__ = method
    return call


_cosh = _method_or(np.cosh, "cosh")
_sinh = _method_or(np.sinh, "sinh")
_rsqrt = _method_or(lambda x: 1.0 / np.sqrt(x), "rsqrt")


class Exp2(Function):
    """2 ** x; d/dx = 2 ** x * ln 2."""

    def forward(self, a):
        out = np.exp2(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * out * _LN2


class Expm1(Function):
    """exp(x) - 1, accurate near 0; d/dx = exp(x) = out + 1."""

    def forward(self, a):
        out = np.expm1(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * (out + 1.0)


class Log2(Function):
    def forward(self, a):
        self.save(a)
        return np.log2(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (a * _LN2)


class Log10(Function):
    def forward(self, a):
        self.save(a)
        return np.log10(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (a * _LN10)


class Log1p(Function):
    """log(1 + x), accurate near 0."""

    def forward(self, a):
        self.save(a)
        return np.log1p(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (a + 1.0)


class Sqrt(Function):
    """sqrt(x); d/dx = 1 / (2 sqrt(x)), inf at 0 as in PyTorch."""

    def forward(self, a):
        out = np.sqrt(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        with np.errstate(divide="ignore"):  # inf at 0, as documented (and as PyTorch)
            return g * 0.5 / out


class Rsqrt(Function):
    """1 / sqrt(x); d/dx = -out^3 / 2."""

    def forward(self, a):
        out = 1.0 / np.sqrt(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * -0.5 * out * out * out


class Reciprocal(Function):
    """1 / x; d/dx = -out^2."""

    def forward(self, a):
        out = 1.0 / a
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return -g * out * out


class Sin(Function):
    def forward(self, a):
        self.save(a)
        return np.sin(a)

    def backward(self, g):
        (a,) = self.saved
        return g * dual.cos(a)


class Cos(Function):
    def forward(self, a):
        self.save(a)
        return np.cos(a)

    def backward(self, g):
        (a,) = self.saved
        return -g * dual.sin(a)


class Tan(Function):
    """tan(x); d/dx = 1 + tan(x)^2, from the output."""

    def forward(self, a):
        out = np.tan(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * (out * out + 1.0)


class Asin(Function):
    """arcsin(x); d/dx = 1 / sqrt(1 - x^2)."""

    def forward(self, a):
        self.save(a)
        return np.arcsin(a)

    def backward(self, g):
        (a,) = self.saved
        return g * _rsqrt(1.0 - a * a)


class Acos(Function):
    """arccos(x); d/dx = -1 / sqrt(1 - x^2)."""

    def forward(self, a):
        self.save(a)
        return np.arccos(a)

    def backward(self, g):
        (a,) = self.saved
        return -g * _rsqrt(1.0 - a * a)


class Atan(Function):
    """arctan(x); d/dx = 1 / (1 + x^2)."""

    def forward(self, a):
        self.save(a)
        return np.arctan(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (a * a + 1.0)


class Sinh(Function):
    def forward(self, a):
        self.save(a)
        return np.sinh(a)

    def backward(self, g):
        (a,) = self.saved
        return g * _cosh(a)


class Cosh(Function):
    def forward(self, a):
        self.save(a)
        return np.cosh(a)

    def backward(self, g):
        (a,) = self.saved
        return g * _sinh(a)


class Tanh(Function):
    """tanh(x), stable at any magnitude; d/dx = 1 - tanh(x)^2, from the output."""

    def forward(self, a):
        out = np.tanh(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * (1.0 - out * out)


class Asinh(Function):
    """arcsinh(x); d/dx = 1 / sqrt(x^2 + 1)."""

    def forward(self, a):
        self.save(a)
        return np.arcsinh(a)

    def backward(self, g):
        (a,) = self.saved
        return g * _rsqrt(a * a + 1.0)


class Acosh(Function):
    """arccosh(x) for x >= 1; d/dx = 1 / sqrt((x - 1)(x + 1))."""

    def forward(self, a):
        self.save(a)
        return np.arccosh(a)

    def backward(self, g):
        (a,) = self.saved
        return g * _rsqrt((a - 1.0) * (a + 1.0))


class Atanh(Function):
    """arctanh(x) for |x| < 1; d/dx = 1 / (1 - x^2)."""

    def forward(self, a):
        self.save(a)
        return np.arctanh(a)

    def backward(self, g):
        (a,) = self.saved
        return g / (1.0 - a * a)
