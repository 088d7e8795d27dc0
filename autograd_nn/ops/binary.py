"""Binary pointwise primitives: copysign, logaddexp, logaddexp2 (forward and backward as PyTorch's).

Inputs arrive broadcast-compatible and of one float dtype (the Tensor methods promote); the engine
sums each gradient back to its input's shape.
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


class CopySign(Function):
    """|a| with the sign of b (also of b = -0.0). Gradient for a: g * result / a, 0 where a = 0
    (PyTorch's copysign_tensor_self_backward); for b: 0 (the sign is piecewise constant)."""

    def forward(self, a, b):
        out = np.copysign(a, b)
        self.save(a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        av = a._data if dual.is_tensor(a) else a
        zero = av == 0
        ratio = dual.where(zero, 0.0, out / dual.where(zero, 1.0, a))
        gb = dual.zeros_like(g) if self.needs_input_grad[1] else None
        return g * ratio, gb


class LogAddExp(Function):
    """log(exp(a) + exp(b)), stable: max(a, b) + log1p(exp(-|a - b|)); inf + inf stays inf.
    Gradients: g / (1 + exp(b - a)) and g / (1 + exp(a - b)), as PyTorch."""

    def forward(self, a, b):
        self.save(a, b)
        with np.errstate(invalid="ignore"):
            return np.logaddexp(a, b)

    def backward(self, g):
        a, b = self.saved
        with np.errstate(over="ignore", invalid="ignore"):
            ga = g / (1.0 + dual.exp(b - a)) if self.needs_input_grad[0] else None
            gb = g / (1.0 + dual.exp(a - b)) if self.needs_input_grad[1] else None
        return ga, gb


class LogAddExp2(Function):
    """log2(2^a + 2^b), stable. Gradients: g / (1 + 2^(b - a)) and g / (1 + 2^(a - b))."""

    def forward(self, a, b):
        self.save(a, b)
        with np.errstate(invalid="ignore"):
            return np.logaddexp2(a, b)

    def backward(self, g):
        a, b = self.saved
        ln2 = float(np.log(2.0))
        with np.errstate(over="ignore", invalid="ignore"):
            ga = g / (1.0 + dual.exp((b - a) * ln2)) if self.needs_input_grad[0] else None
            gb = g / (1.0 + dual.exp((a - b) * ln2)) if self.needs_input_grad[1] else None
        return ga, gb
