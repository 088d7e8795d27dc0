"""Matrix products. Dense matmul goes to BLAS through NumPy, split over the thread pool (gemm.py)."""

from __future__ import annotations

from ..errors import ShapeError
from ..function import Function
from . import dual
from .gemm import matmul


class MatMul(Function):
    """(..., M, K) @ (..., K, N), with NumPy's rules for 1-D operands and batch broadcasting."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"MatMul: both operands need at least 1 dimension, got {a.shape} @ {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ShapeError(f"MatMul: inner dimensions differ: {a.shape} @ {b.shape}")
        self.save(a, b)
        if a.ndim > 2 and b.ndim == 2:  # (..., M, K) @ (K, N): all rows in one GEMM
            return matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
        return matmul(a, b)

    def backward(self, g):
        a, b = self.saved
        if a.ndim > 2 and b.ndim == 2:  # folded as in forward: no per-batch products, no batch sum
            g2 = g.reshape(-1, g.shape[-1])  # (rows, N)
            ga = (
                dual.matmul(g2, dual.swapaxes(b, 0, 1)).reshape(a.shape) if self.needs_input_grad[0] else None
            )
            gb = None
            if self.needs_input_grad[1]:
                gb = dual.matmul(dual.swapaxes(a.reshape(-1, a.shape[-1]), 0, 1), g2)  # (K, N)
            return ga, gb
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
            ga = dual.matmul(g2, dual.swapaxes(b2, -1, -2))
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if a_vec else ga
        if self.needs_input_grad[1]:
            gb = dual.matmul(dual.swapaxes(a2, -1, -2), g2)
            gb = gb.reshape(gb.shape[:-1]) if b_vec else gb
        return ga, gb


class Linear(Function):
    """x @ W^T + b as one node: x (..., K), W (N, K), b (N,) -> (..., N).

    The batch dims fold into one GEMM each way, and the bias gradient is one row sum, instead of a
    transpose node, a matmul node and a broadcasting add node.
    """

    def forward(self, x, w, b=None):
        if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
            raise ShapeError(
                f"linear: input {x.shape} does not fit weight {w.shape} "
                "(expected input (..., in_features), weight (out_features, in_features))"
            )
        if b is not None and b.shape != (w.shape[0],):
            raise ShapeError(f"linear: bias {b.shape} does not fit weight {w.shape}")
        self.save(x, w)
        y = matmul(x.reshape(-1, x.shape[-1]), w.T)  # (rows, N)
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    def backward(self, g):
        x, w = self.saved
        g2 = g.reshape(-1, g.shape[-1])  # (rows, N)
        gx = dual.matmul(g2, w).reshape(x.shape) if self.needs_input_grad[0] else None
        gw = None
        if self.needs_input_grad[1]:
            gw = dual.matmul(dual.swapaxes(g2, 0, 1), x.reshape(-1, x.shape[-1]))  # (N, K)
        if len(self.needs_input_grad) == 2:
            return gx, gw
        gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
        return gx, gw, gb
