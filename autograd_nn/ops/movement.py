"""Movement ops: they rearrange elements without arithmetic."""
from __future__ import annotations

import numpy as np

from ..function import Function
from . import dual


class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Permute(Function):
    def forward(self, a, axes):
        self.inverse = tuple(np.argsort(axes).tolist())
        return np.transpose(a, axes)

    def backward(self, g):
        return g.transpose(self.inverse) if not dual.is_tensor(g) else g.permute(*self.inverse)


class Expand(Function):
    """Broadcast to a larger shape (a read-only view); the engine sums the gradient back."""

    def forward(self, a, shape):
        return np.broadcast_to(a, shape)

    def backward(self, g):
        return g
