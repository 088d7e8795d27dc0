"""Elementwise primitives: arithmetic, the binary ops, clamping and rounding.

Broadcasting is undone by the engine. Subgradients at kinks follow PyTorch: abs'(0) = 0, clamp passes
the gradient at its bounds (inclusive), maximum/minimum split a tie 0.5/0.5. Rounding and remainders
are in `ops/rounding.py`.
"""

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
        if p == 0:  # x ** 0 is constant: gradient 0 everywhere, also at x = 0 (as PyTorch)
            return dual.zeros_like(g)
        if p == 2:
            return g * 2.0 * a
        with np.errstate(divide="ignore", invalid="ignore"):  # p < 1 at 0: inf, as PyTorch
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
    """a ** b, both tensors, with PyTorch's gradients where the formulas break down:

    d/da = b a^(b-1), but 0 where b == 0 (a ** 0 is constant, also at a = 0);
    d/db = a^b log(a), but 0 where a == 0 and b >= 0 (NaN for a < 0, as log is).
    """

    def forward(self, a, b):
        out = _int_pow(a, b) if a.dtype.kind in "iub" and b.dtype.kind in "iub" else a**b
        self.save(a, b, out)
        return out

    def backward(self, g):
        a, b, out = self.saved
        ad, bd = (x._data if dual.is_tensor(x) else x for x in (a, b))
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** negative, log of <= 0
            if self.needs_input_grad[0]:
                ga = dual.where(np.broadcast_to(bd == 0, g.shape), 0.0, g * b * a ** (b - 1))
            if self.needs_input_grad[1]:
                flat = np.broadcast_to((bd >= 0) & (ad == 0), g.shape)
                gb = dual.where(flat, 0.0, g * out * dual.log(a))
        return ga, gb


def _int_pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer a ** b with PyTorch's rule for negative exponents (NumPy refuses them): 1 for a = 1,
    +-1 for a = -1 (by the exponent's parity), 0 otherwise."""
    negative = b < 0
    if not negative.any():
        return a**b
    out = a ** np.where(negative, 0, b)
    minus_one = np.where(b % 2 == 0, 1, -1)
    small = np.where(a == 1, 1, np.where(a == -1, minus_one, 0))
    return np.where(negative, small, out).astype(out.dtype)


class Maximum(Function):
    """Elementwise max; a tie splits the gradient evenly, as PyTorch does."""

    def forward(self, a, b):
        self.save(a, b)
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.saved
        ad, bd = (x._data if dual.is_tensor(x) else x for x in (a, b))
        wa = (ad > bd) + 0.5 * (ad == bd)
        wa = wa.astype(ad.dtype)
        return g * wa, g * (1.0 - wa)


class Minimum(Function):
    def forward(self, a, b):
        self.save(a, b)
        return np.minimum(a, b)

    def backward(self, g):
        a, b = self.saved
        ad, bd = (x._data if dual.is_tensor(x) else x for x in (a, b))
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


class Abs(Function):
    """|x|; the subgradient at 0 is 0 (sign(0))."""

    def forward(self, a):
        self.save(a)
        return np.abs(a)

    def backward(self, g):
        (a,) = self.saved
        return g * dual.sign(a)


class Clamp(Function):
    """clip(x, lo, hi) with scalar bounds (either may be None); the gradient passes where
    lo <= x <= hi, bounds included (PyTorch's clamp rule)."""

    def forward(self, a, lo, hi):
        inside = np.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        self.inside = inside
        return np.clip(a, lo, hi)

    def backward(self, g):
        return g * self.inside


class ClampBound(Function):
    """max(x, bound) (`upper=False`) or min(x, bound) (`upper=True`) with a tensor bound.

    x gets the gradient where it is kept (ties included); the bound gets it where it replaced x.
    """

    def forward(self, a, bound, upper):
        self.keep = (a <= bound) if upper else (a >= bound)
        return np.minimum(a, bound) if upper else np.maximum(a, bound)

    def backward(self, g):
        return g * self.keep, g * ~self.keep


class ClampTensor(Function):
    """min(max(x, lo), hi) with tensor bounds, PyTorch's gradients: x where lo <= x <= hi; lo where
    x < lo < hi; hi where x > hi or hi < lo (a crossed pair clamps to hi)."""

    def forward(self, a, lo, hi):
        self.masks = ((a >= lo) & (a <= hi), (a < lo) & (lo < hi), (a > hi) | (hi < lo))
        return np.minimum(np.maximum(a, lo), hi)

    def backward(self, g):
        return tuple(g * m for m in self.masks)


class Lerp(Function):
    """start + weight * (end - start) with a scalar weight."""

    def forward(self, start, end, weight):
        self.weight = weight
        return start + weight * (end - start)

    def backward(self, g):
        w = self.weight
        return g * (1.0 - w), g * w


class LerpTensor(Function):
    """start + weight * (end - start) with a tensor weight; d/dweight = end - start."""

    def forward(self, start, end, weight):
        self.save(start, end, weight)
        return start + weight * (end - start)

    def backward(self, g):
        start, end, weight = self.saved
        gw = g * (end - start) if self.needs_input_grad[2] else None
        return g * (1.0 - weight), g * weight, gw


class Atan2(Function):
    """atan2(a, b), the angle of (b, a); d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).

    Where 1 / (a^2 + b^2) overflows (the origin, or squares that underflow) both gradients are 0, as
    in PyTorch.
    """

    def forward(self, a, b):
        self.save(a, b)
        return np.arctan2(a, b)

    def backward(self, g):
        a, b = self.saved
        r2 = a * a + b * b
        r2_data = r2._data if dual.is_tensor(r2) else r2
        with np.errstate(divide="ignore", over="ignore"):
            degenerate = np.isinf(1.0 / r2_data)
        scale = g / dual.where(degenerate, 1.0, r2)
        if not degenerate.any():
            return scale * b, -scale * a
        return dual.where(degenerate, 0.0, scale * b), dual.where(degenerate, 0.0, -scale * a)


class NanToNum(Function):
    """Replace nan, +inf and -inf by finite numbers; the gradient is 0 where the input was not finite."""

    def forward(self, a, nan, posinf, neginf):
        self.finite = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return g * self.finite
