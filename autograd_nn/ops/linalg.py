"""Matrix products. Dense matmul goes to BLAS through NumPy."""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..function import Function
from . import dual


class MatMul(Function):
    """(..., M, K) @ (..., K, N), with NumPy's rules for 1-D operands and batch broadcasting."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"MatMul: both operands need at least 1 dimension, got {a.shape} @ {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ShapeError(f"MatMul: inner dimensions differ: {a.shape} @ {b.shape}")
        self.save(a, b)
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.saved
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a2 = a.reshape(1, -1) if a_vec else a  # promote vectors to matrices, as matmul does
        b2 = b.reshape(-1, 1) if b_vec else b
        if a_vec and b_vec:
            g2 = g.reshape(1, 1)
        elif a_vec:
            g2 = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
        elif b_vec:
            g2 = g.reshape(g.shape + (1,))
        else:
            g2 = g
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g2 @ dual.swapaxes(b2, -1, -2)
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if a_vec else ga
        if self.needs_input_grad[1]:
            gb = dual.swapaxes(a2, -1, -2) @ g2
            gb = gb.reshape(gb.shape[:-1]) if b_vec else gb
        return ga, gb
