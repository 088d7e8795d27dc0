"""`autograd_nn.sparse`: PyTorch's `torch.sparse` functions for 2-D COO matrices (see
`autograd_nn/_tensor/sparse.py`): `mm`, `addmm`, `sum`, and the legacy `sparse.FloatTensor(indices,
values, size)` constructors that older graph-network code uses."""

from __future__ import annotations

from typing import Any

from . import dtypes
from ._tensor.sparse import SparseTensor, sparse_coo_tensor

__all__ = ["mm", "addmm", "sum", "FloatTensor", "DoubleTensor", "SparseTensor"]


def _need_sparse(op: str, x: Any) -> SparseTensor:
    if not isinstance(x, SparseTensor):
        raise TypeError(f"sparse.{op}: expected a sparse tensor, got {type(x).__name__}")
    return x


def mm(mat1: SparseTensor, mat2: Any) -> Any:
    """sparse @ dense -> dense, differentiable in the dense matrix and the sparse values."""
    return _need_sparse("mm", mat1).mm(mat2)


def addmm(mat: Any, mat1: SparseTensor, mat2: Any, *, beta: float = 1.0, alpha: float = 1.0) -> Any:
    """beta * mat + alpha * (mat1 @ mat2), mat1 sparse."""
    return mat * beta + _need_sparse("addmm", mat1).mm(mat2) * alpha


def sum(input: SparseTensor, dim: Any = None) -> Any:
    """The sum of all values (dense 0-d), or along `dim` (a dense vector)."""
    x = _need_sparse("sum", input)
    return x.values().sum() if dim is None else x.to_dense().sum(dim)


def FloatTensor(indices: Any, values: Any, size: Any = None) -> SparseTensor:
    """Legacy `torch.sparse.FloatTensor(indices, values, size)`: float32 values."""
    return sparse_coo_tensor(indices, values, size, dtype=dtypes.float32)


def DoubleTensor(indices: Any, values: Any, size: Any = None) -> SparseTensor:
    """Legacy `torch.sparse.DoubleTensor(indices, values, size)`: float64 values."""
    return sparse_coo_tensor(indices, values, size, dtype=dtypes.float64)
