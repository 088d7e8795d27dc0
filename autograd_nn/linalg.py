"""`autograd_nn.linalg`: PyTorch's `torch.linalg` functions that ported models use: `cholesky`,
`solve_triangular`, `inv`, `norm` / `vector_norm`, `matrix_norm` (Frobenius), with gradients (see
`ops/decompositions.py` for the rules)."""

from __future__ import annotations

from typing import Any

from ._tensor import Tensor, as_tensor
from .ops.decompositions import Cholesky, Inverse, SolveTriangular

__all__ = ["cholesky", "solve_triangular", "inv", "norm", "vector_norm", "matrix_norm"]


def cholesky(A: Any, *, upper: bool = False) -> Tensor:
    """L with A = L L^T (lower), or its transpose with `upper=True`."""
    out = Cholesky.apply(as_tensor(A))
    return out.mT if upper else out


def solve_triangular(
    A: Any, B: Any, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """X with A X = B (left=True) or X A = B (left=False), A triangular."""
    a, b = as_tensor(A), as_tensor(B)
    if unitriangular:
        raise ValueError("solve_triangular: unitriangular=True is not supported")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return SolveTriangular.apply(a.mT, b.mT, upper=not upper).mT
    return SolveTriangular.apply(a, b, upper=upper)


def inv(A: Any) -> Tensor:
    """The inverse of a square matrix (batched)."""
    return Inverse.apply(as_tensor(A))


def vector_norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The vector `ord`-norm over `dim` (all elements by default)."""
    return as_tensor(x).norm(ord, dim, keepdim, dtype)


def matrix_norm(
    A: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """The Frobenius norm of the matrices over `dim` (other orders are not supported)."""
    if ord != "fro":
        raise ValueError(f"matrix_norm: only ord='fro' is supported, got {ord!r}")
    return as_tensor(A).norm(2, dim, keepdim, dtype)


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """`vector_norm` (2-norm of all elements when ord and dim are None), or `matrix_norm` for
    ord='fro' over two dims."""
    if ord == "fro":
        return matrix_norm(A, "fro", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
