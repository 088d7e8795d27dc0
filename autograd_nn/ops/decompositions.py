"""Cholesky factorisation, triangular solves and the inverse, for `autograd_nn.linalg` and the
multivariate normal distribution. Batched over leading dims; float32/float64.

    L = cholesky(A)             A = L L^T, L lower triangular
        dA = L^-T  Phi(L^T dL)  L^-1,  Phi(X) = tril(X) with its diagonal halved, symmetrised as
        PyTorch does (0.5 * (X + tril(X, -1)^T)), for perturbations of a symmetric A
    X = solve_triangular(L, B)  L X = B, L lower (or upper) triangular
        dB = L^-T dX,  dL = -tril(dB X^T)   (triu for upper)
    Y = inv(A)                  dA = -Y^T dY Y^T

The rules run on arrays (first-order); under `create_graph=True` they raise, as these ops have no
composite form here.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..function import Function


def _mT(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _square(op: str, a: np.ndarray) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{op}: expects square matrices (..., n, n), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise ShapeError(f"{op}: expects a floating-point tensor, got {a.dtype}")


def _solve_tri(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    """t^-1 b for triangular t (NumPy's general solver: exact for these small, well-posed systems)."""
    return np.linalg.solve(t, b)


class Cholesky(Function):
    differentiable_backward = False

    def forward(self, a):
        _square("cholesky", a)
        try:
            out = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise ValueError(
                "cholesky: the input is not positive-definite (the factorisation failed)"
            ) from None
        self.save(out)
        return out

    def backward(self, g):
        (low,) = self.saved
        phi = np.tril(_mT(low) @ g)
        phi = 0.5 * (phi + _mT(np.tril(phi, -1)))
        inv_lt = _solve_tri(_mT(low), phi)  # L^-T phi
        return _mT(_solve_tri(_mT(low), _mT(inv_lt)))  # (L^-T (L^-T phi)^T)^T = L^-T phi L^-1


class SolveTriangular(Function):
    differentiable_backward = False

    def forward(self, t, b, upper):
        _square("solve_triangular", t)
        if b.ndim < 2 or b.shape[-2] != t.shape[-1]:
            raise ShapeError(f"solve_triangular: B of shape {b.shape} does not fit A of shape {t.shape}")
        tri = np.triu(t) if upper else np.tril(t)
        out = _solve_tri(tri, b)
        self.upper = upper
        self.save(t, out)
        return out

    def backward(self, g):
        t, x = self.saved
        tri = np.triu(t) if self.upper else np.tril(t)
        gb = _solve_tri(_mT(tri), g)
        gt = None
        if self.needs_input_grad[0]:
            full = -(gb @ _mT(x))
            gt = np.triu(full) if self.upper else np.tril(full)
        return gt, gb


class Inverse(Function):
    differentiable_backward = False

    def forward(self, a):
        _square("inv", a)
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise ValueError("inv: the matrix is singular") from None
        self.save(out)
        return out

    def backward(self, g):
        (y,) = self.saved
        return -(_mT(y) @ g @ _mT(y))
