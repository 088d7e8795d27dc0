"""Elementwise primitives: arithmetic and the binary ops. Broadcasting is undone by the engine."""
from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, -g


class Mul(Function):
    def forward(self, a, b):
        self.save(a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved
        return g * b, g * a


class Div(Function):
    def forward(self, a, b):
        self.save(a, b)
        return a / b

    def backward(self, g):
        a, b = self.saved
        ga = g / b
        return ga, (-ga * a / b) if self.needs_input_grad[1] else None


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class PowScalar(Function):
    """x ** p for a constant exponent p."""

    def forward(self, a, exponent):
        self.exponent = exponent
        self.save(a)
        return a**exponent

    def backward(self, g):
        (a,) = self.saved
        p = self.exponent
        if p == 2:
            return g * 2.0 * a
        return g * p * a ** (p - 1)


class RPowScalar(Function):
    """c ** x for a constant base c > 0."""

    def forward(self, a, base):
        self.log_base = float(np.log(base))
        out = np.power(np.asarray(base, dtype=a.dtype), a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * out * self.log_base


class Pow(Function):
    """a ** b, both tensors. The gradient for b is taken where a > 0 (0 elsewhere)."""

    def forward(self, a, b):
        out = a**b
        self.save(a, b, out)
        return out

    def backward(self, g):
        a, b, out = self.saved
        ga = g * b * a ** (b - 1) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            positive = (a.data if dual.is_tensor(a) else a) > 0
            safe_a = dual.where(positive, a, 1.0)
            gb = dual.where(positive, g * out * dual.log(safe_a), 0.0)
        return ga, gb


class Maximum(Function):
    """Elementwise max; a tie splits the gradient evenly, as PyTorch does."""

    def forward(self, a, b):
        self.save(a, b)
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.saved
        ad, bd = (x.data if dual.is_tensor(x) else x for x in (a, b))
        wa = (ad > bd) + 0.5 * (ad == bd)
        wa = wa.astype(ad.dtype)
        return g * wa, g * (1.0 - wa)


class Minimum(Function):
    def forward(self, a, b):
        self.save(a, b)
        return np.minimum(a, b)

    def backward(self, g):
        a, b = self.saved
        ad, bd = (x.data if dual.is_tensor(x) else x for x in (a, b))
        wa = (ad < bd) + 0.5 * (ad == bd)
        wa = wa.astype(ad.dtype)
        return g * wa, g * (1.0 - wa)


class Where(Function):
    """where(cond, a, b); cond is a constant bool tensor."""

    def forward(self, cond, a, b):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, g):
        zero = 0.0
        return (
            None,
            dual.where(self.cond, g, zero) if self.needs_input_grad[1] else None,
            dual.where(self.cond, zero, g) if self.needs_input_grad[2] else None,
        )


class Exp(Function):
    def forward(self, a):
        out = np.exp(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * out


class Log(Function):
    def forward(self, a):
        self.save(a)
        return np.log(a)

    def backward(self, g):
        (a,) = self.saved
        return g / a


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype by the engine."""

    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


# Ops with a Python-number operand: the number is a parameter, not a graph input, which saves
# wrapping it in a tensor on every call (the common `x * 2.0`, `1 - x`, `x / n`).
class AddScalar(Function):
    def forward(self, a, c):
        return a + c

    def backward(self, g):
        return g


class MulScalar(Function):
    def forward(self, a, c):
        self.c = c
        return a * c

    def backward(self, g):
        return g * self.c


class RSubScalar(Function):
    """c - x."""

    def forward(self, a, c):
        return c - a

    def backward(self, g):
        return -g


class DivScalar(Function):
    """x / c."""

    def forward(self, a, c):
        self.c = c
        return a / c

    def backward(self, g):
        return g / self.c


class RDivScalar(Function):
    """c / x."""

    def forward(self, a, c):
        out = c / a
        self.c = c
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        return -g * out / a
