"""Loss primitives that pay for being one node: the squared error of a regression step."""
from __future__ import annotations

import numpy as np

from ..function import Function


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
