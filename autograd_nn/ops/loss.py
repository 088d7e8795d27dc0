"""Loss primitives that pay for being one node: the squared error of a regression step."""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


class SquaredError(Function):
    """mean or sum of (a - b)^2 as one node (the MSE loss; `reduction` is 'mean' or 'sum').

    Three primitive nodes (subtract, square, reduce) become one, which matters for small models,
    where the per-node cost is most of a training step. Inputs broadcast; the engine reduces the
    gradients to each input's shape.
    """

    def forward(self, a, b, reduction):
        self.save(a, b)
        diff = a - b
        self.shape, self.mean = diff.shape, reduction == "mean"
        total = np.vdot(diff, diff) if diff.dtype.kind == "f" else np.sum(diff * diff)
        out = np.asarray(total, dtype=diff.dtype)
        return out / diff.size if self.mean and diff.size else out

    def backward(self, g):
        a, b = self.saved
        scale = 2.0 / max(int(np.prod(self.shape)), 1) if self.mean else 2.0
        ga = (a - b) * (g * scale)
        return ga, (-ga if self.needs_input_grad[1] else None)


# binary_cross_entropy's guards, PyTorch's constants: each log is clamped at -100 in the forward, and
# the backward's denominator p (1 - p) is kept at least 1e-12 (a C float in PyTorch, so in float64
# too the floor is float32(1e-12), and p = 1, t = 0 gives 1.000000004e12).
BCE_LOG_FLOOR = -100.0
BCE_EPSILON = float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    """Elementwise -(t log p + (1 - t) log(1 - p)) with PyTorch's clamps, forward and backward.

    Forward: (t - 1) max(log1p(-p), -100) - t max(log p, -100). Backward for p:
    g (p - t) / max(p (1 - p), 1e-12), finite at p = 0 and p = 1 (1e12 at p = 1, t = 0, as
    PyTorch; 0 at p = t = 1); for t: -g logit(p) (unclamped, +-inf at the edges, as PyTorch).
    """

    def forward(self, p, t):
        self.save(p, t)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), BCE_LOG_FLOOR)
            log_q = np.maximum(np.log1p(-p), BCE_LOG_FLOOR)
        return (t - 1.0) * log_q - t * log_p

    def backward(self, g):
        p, t = self.saved
        gp = gt = None
        if self.needs_input_grad[0]:
            den = (1.0 - p) * p
            small = (den._data if dual.is_tensor(den) else den) < BCE_EPSILON
            gp = g * (p - t) / dual.where(small, BCE_EPSILON, den)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gt = g * (dual.log(1.0 - p) - dual.log(p))
        return gp, gt
