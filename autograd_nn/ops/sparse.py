"""`SparseDenseMM`: the product of a sparse COO matrix with a dense one, A @ D.

A is given by its non-zero `values` (nnz,) (an input, so they can be learned) and the constant
`rows`, `cols` (nnz,) and `shape` (M, K); D is (K, N). Each non-zero adds values[i] * D[cols[i]]
into row rows[i] of the output, with the Numba row scatter-add (repeated positions add up, as in
an uncoalesced PyTorch tensor):

    out  = A @ D                      (M, N)
    dD   = A^T @ g                    scatter of values[i] * g[rows[i]] into row cols[i]
    dval = sum_n g[rows, n] D[cols, n]

The backward runs on arrays; for higher-order gradients the composite (A made dense, then `@`) is
differentiated instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..kernels import scatter as kscatter
from .index import IndexAdd


def _scatter_rows(m: int, rows: np.ndarray, src: np.ndarray) -> np.ndarray:
    out = np.zeros((m,) + src.shape[1:], dtype=src.dtype)
    if src.size:
        kscatter.scatter_add_rows(out, rows, np.ascontiguousarray(src))
    return out


class SparseDenseMM(Function):
    """(sparse (M, K) given by values/rows/cols) @ dense (K, N) -> dense (M, N)."""

    differentiable_backward = False

    def forward(self, values, dense, rows, cols, shape):
        if dense.ndim != 2 or dense.shape[0] != shape[1]:
            raise ShapeError(
                f"sparse.mm: sparse matrix of shape {tuple(shape)} cannot multiply a "
                f"dense one of shape {dense.shape}"
            )
        if values.dtype != dense.dtype or values.dtype.kind != "f":
            raise DTypeError(
                f"sparse.mm: expected floating values and dense matrix of one dtype, got "
                f"{values.dtype} and {dense.dtype}"
            )
        self.rows, self.cols, self.shape = rows, cols, shape
        self.save(values, dense)
        return _scatter_rows(shape[0], rows, values[:, None] * dense[cols])

    def backward(self, g):
        values, dense = self.saved
        g = np.ascontiguousarray(g)
        dvalues = np.einsum("ij,ij->i", g[self.rows], dense[self.cols]) if self.needs_input_grad[0] else None
        ddense = (
            _scatter_rows(self.shape[1], self.cols, values[:, None] * g[self.rows])
            if self.needs_input_grad[1]
            else None
        )
        return dvalues, ddense

    def composite(self, values: Any, dense: Any) -> Any:
        matrix = IndexAdd.apply(values, index=(self.rows, self.cols), advanced=True, shape=self.shape)
        return matrix @ dense
