"""softmax and log_softmax along one axis, numerically stable, with backward rules through the output.

Both subtract the row max before exponentiating, so logits of +-1e4 stay finite; a row that is all
-inf gives nan, as in PyTorch. Each backward uses only the saved output and the incoming gradient:

    softmax:      dx = y * (g - sum(g * y))
    log_softmax:  dx = g - exp(y) * sum(g)

so the same rule, run on Tensors, gives differentiable gradients (`create_graph=True`).
"""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


def _shifted(a: np.ndarray, axis: int) -> np.ndarray:
    """`a` minus its max along `axis` (a max of +-inf shifts by 0 instead, avoiding inf - inf)."""
    if a.size == 0:
        return a
    m = np.max(a, axis=axis, keepdims=True)
    return a - np.where(np.isfinite(m), m, 0.0).astype(a.dtype)


class Softmax(Function):
    def forward(self, a, axis):
        self.axis = axis
        e = np.exp(_shifted(a, axis))
        with np.errstate(invalid="ignore"):
            out = np.asarray(e / np.sum(e, axis=axis, keepdims=True))  # 0-d stays an ndarray
        self.save(out)
        return out

    def backward(self, g):
        (y,) = self.saved
        return y * (g - (g * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, a, axis):
        self.axis = axis
        z = _shifted(a, axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True)))
        self.save(out)
        return out

    def backward(self, g):
        (y,) = self.saved
        return g - dual.exp(y) * g.sum(axis=self.axis, keepdims=True)
