"""Sparse COO matrices, enough for graph networks: `sparse_coo_tensor`, `x.to_sparse()`,
`s.to_dense()`, and the sparse @ dense product (`torch.spmm`, `torch.sparse.mm`, `s @ x`, `s.mm(x)`)
with gradients for the dense matrix and for the non-zero values.

A `SparseTensor` holds `indices` (2, nnz) int64, `values` (nnz,) (a Tensor, which may require grad)
and a 2-D `shape`; repeated positions add up, as in an uncoalesced PyTorch tensor (`coalesce()` sums
them). Unlike PyTorch's, it is not a `Tensor`: it has the sparse matrix's own methods (and the device
and dtype conversions ported code calls on it), and dense ops refuse it clearly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..devices import CPU, as_device, device
from ..errors import ShapeError
from ..function import TensorBase
from ..ops.index import IndexAdd
from ..ops.sparse import SparseDenseMM
from .tensor import Tensor


class SparseTensor:
    """A 2-D sparse matrix in COO form (see the module docstring)."""

    is_sparse = True
    layout = "sparse_coo"

    def __init__(self, indices: np.ndarray, values: Tensor, shape: tuple) -> None:
        self._idx, self._vals, self.shape = indices, values, tuple(shape)

    # ---- what it is ----------------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        return self._vals.dtype

    @property
    def device(self) -> device:
        return CPU

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    @property
    def is_cuda(self) -> bool:
        return False

    def dim(self) -> int:
        return len(self.shape)

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def sparse_dim(self) -> int:
        return 2

    def dense_dim(self) -> int:
        return 0

    def _nnz(self) -> int:
        return int(self._idx.shape[1])

    def indices(self) -> Tensor:
        return Tensor._make(self._idx, False)

    _indices = indices

    def values(self) -> Tensor:
        return self._vals

    _values = values

    def is_coalesced(self) -> bool:
        keys = self._idx[0] * self.shape[1] + self._idx[1]
        return bool(np.all(np.diff(keys) > 0))

    def coalesce(self) -> SparseTensor:
        """Sorted positions, each once (values at a repeated position summed)."""
        keys = self._idx[0] * self.shape[1] + self._idx[1]
        unique, inverse = np.unique(keys, return_inverse=True)
        summed = IndexAdd.apply(self._vals, index=(inverse,), advanced=True, shape=(unique.size,))
        indices = np.stack([unique // self.shape[1], unique % self.shape[1]]).astype(np.int64)
        return SparseTensor(indices, summed, self.shape)

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        self._vals.requires_grad_(requires_grad)
        return self

    # ---- conversions -------------------------------------------------------------------------------
    def to_dense(self) -> Tensor:
        """The dense matrix (differentiable in the values)."""
        return IndexAdd.apply(self._vals, index=(self._idx[0], self._idx[1]), advanced=True, shape=self.shape)

    def to(self, *args: Any, **kwargs: Any) -> SparseTensor:
        values = self._vals.to(*args, **kwargs)
        return self if values is self._vals else SparseTensor(self._idx, values, self.shape)

    def cpu(self) -> SparseTensor:
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> SparseTensor:
        as_device("cuda" if device is None else device)
        return self  # pragma: no cover - as_device raises

    def float(self) -> SparseTensor:
        return self.to(dtypes.float32)

    def double(self) -> SparseTensor:
        return self.to(dtypes.float64)

    def detach(self) -> SparseTensor:
        return SparseTensor(self._idx, self._vals.detach(), self.shape)

    def t(self) -> SparseTensor:
        return SparseTensor(self._idx[::-1].copy(), self._vals, self.shape[::-1])

    def transpose(self, dim0: int = 0, dim1: int = 1) -> SparseTensor:
        if {dim0 % 2, dim1 % 2} != {0, 1}:
            return self
        return self.t()

    @property
    def T(self) -> SparseTensor:
        return self.t()

    # ---- products ----------------------------------------------------------------------------------
    def mm(self, mat2: Any) -> Tensor:
        """self @ mat2 for a dense (K, N) matrix (or (K,) vector): a dense result."""
        if isinstance(mat2, SparseTensor):
            return self.mm(mat2.to_dense())
        if not isinstance(mat2, TensorBase):
            raise TypeError(f"sparse mm: mat2 must be a Tensor, got {type(mat2).__name__}")
        if mat2.ndim == 1:
            return self.mm(mat2.reshape(-1, 1)).reshape(-1)
        dense = mat2 if mat2.dtype == self.dtype else mat2.astype(dtypes.promote(mat2.dtype, self.dtype))
        values = self._vals if self._vals.dtype == dense.dtype else self._vals.astype(dense.dtype)
        return SparseDenseMM.apply(values, dense, rows=self._idx[0], cols=self._idx[1], shape=self.shape)

    matmul = spmm = mm

    def __matmul__(self, other: Any) -> Tensor:
        return self.mm(other)

    def __mul__(self, other: Any) -> SparseTensor:
        if not isinstance(other, (int, float)):
            raise TypeError("sparse *: only a Python number can scale a sparse tensor here")
        return SparseTensor(self._idx, self._vals * other, self.shape)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return (
            f"tensor(indices={self._idx.tolist()},\n       values={self._vals!r},\n       "
            f"size={self.shape}, nnz={self._nnz()}, layout=torch.sparse_coo)"
        )


def sparse_coo_tensor(
    indices: Any,
    values: Any,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    check_invariants: Any = None,
    is_coalesced: Any = None,
) -> SparseTensor:
    """A sparse 2-D matrix with `values[i]` at (indices[0, i], indices[1, i]); `size` defaults to the
    smallest shape that holds every index."""
    as_device(device)
    idx = np.asarray(indices._data if isinstance(indices, TensorBase) else indices)
    if idx.dtype.kind not in "iu" or idx.ndim != 2 or idx.shape[0] != 2:
        raise ShapeError(
            f"sparse_coo_tensor: indices must be a (2, nnz) integer tensor, got "
            f"{idx.dtype} of shape {idx.shape} (only 2-D sparse matrices are supported)"
        )
    vals = (
        values
        if isinstance(values, Tensor)
        else Tensor._make(
            np.asarray(values, dtype=dtypes.get_default_dtype() if dtype is None else None), False
        )
    )
    if dtype is not None:
        vals = vals.astype(dtypes.as_dtype(dtype))
    if vals.ndim != 1 or vals.shape[0] != idx.shape[1]:
        raise ShapeError(
            f"sparse_coo_tensor: values must be 1-D with one value per index column, got "
            f"shape {vals.shape} for {idx.shape[1]} indices"
        )
    if size is None:
        shape = tuple(int(idx[d].max()) + 1 if idx.shape[1] else 0 for d in range(2))
    else:
        shape = tuple(int(s) for s in size)
    if len(shape) != 2:
        raise ShapeError(f"sparse_coo_tensor: size must be 2-D, got {shape}")
    if idx.size and (idx.min() < 0 or idx[0].max() >= shape[0] or idx[1].max() >= shape[1]):
        raise ShapeError(f"sparse_coo_tensor: an index lies outside the size {shape}")
    if requires_grad:
        vals.requires_grad_(True)
    return SparseTensor(idx.astype(np.int64), vals, shape)


def to_sparse(x: Tensor) -> SparseTensor:
    """The non-zero elements of a dense 2-D tensor as a sparse matrix (values differentiable)."""
    if x.ndim != 2:
        raise ShapeError(f"to_sparse: only 2-D tensors are supported, got shape {x.shape}")
    rows, cols = np.nonzero(x._data)
    return SparseTensor(np.stack([rows, cols]).astype(np.int64), x[rows, cols], x.shape)
