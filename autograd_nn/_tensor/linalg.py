"""Matrix products under PyTorch's names: `t`, `mm`, `bmm`, `mv`, `dot`, `outer`, `addmm`, `addmv`,
`addbmm`, `baddbmm` (methods, and `autograd_nn.<name>` functions in `functions.py`).

All are `@` (`ops/linalg.MatMul`, one primitive, one backward) with PyTorch's shape rules checked first,
so a mistake names the op and both shapes (PyTorch's `mm` refuses a batch, `dot` a matrix, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..errors import ShapeError
from ..function import TensorBase
from ..ops import movement as mv

if TYPE_CHECKING:
    from .tensor import Tensor


def _need(op: str, name: str, x: Any, ndim: int) -> None:
    if not isinstance(x, TensorBase):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim != ndim:
        kind = {1: "a vector (1-D)", 2: "a matrix (2-D)", 3: "a batch of matrices (3-D)"}[ndim]
        raise ShapeError(f"{op}: {name} must be {kind}, got shape {tuple(x.shape)}")


def _fits(op: str, a: Any, b: Any) -> None:
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ShapeError(
            f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})"
        )


def _scaled(x: Any, factor: Any) -> Any:
    return x if factor == 1 else x * factor


class LinalgMixin(TensorBase):
    __slots__ = ()

    def t(self) -> Any:
        """The transpose of a matrix; a 0-d or 1-d tensor is returned as is (as in PyTorch)."""
        if self.ndim > 2:
            raise ShapeError(
                f"t: expects a tensor with <= 2 dims, got shape {self.shape}; use "
                "transpose(dim0, dim1) or .mT"
            )
        return mv.swap(self, 0, 1, "t") if self.ndim == 2 else self

    def mm(self, mat2: Any) -> Any:
        """(n, m) @ (m, p), matrices only."""
        _need("mm", "self", self, 2)
        _need("mm", "mat2", mat2, 2)
        _fits("mm", self, mat2)
        return self @ mat2

    def bmm(self, mat2: Any) -> Any:
        """(b, n, m) @ (b, m, p): a batch of matrix products, no broadcasting."""
        _need("bmm", "self", self, 3)
        _need("bmm", "mat2", mat2, 3)
        if self.shape[0] != mat2.shape[0]:
            raise ShapeError(f"bmm: batch sizes differ: {tuple(self.shape)} and {tuple(mat2.shape)}")
        _fits("bmm", self, mat2)
        return self @ mat2

    def mv(self, vec: Any) -> Any:
        """(n, m) @ (m,) -> (n,)."""
        _need("mv", "self", self, 2)
        _need("mv", "vec", vec, 1)
        _fits("mv", self, vec)
        return self @ vec

    def dot(self, other: Any) -> Any:
        """The inner product of two vectors of the same length (a 0-d tensor)."""
        _need("dot", "self", self, 1)
        _need("dot", "other", other, 1)
        if self.shape != other.shape:
            raise ShapeError(f"dot: vectors of different lengths {self.shape[0]} and {other.shape[0]}")
        return self @ other

    vdot = dot

    def outer(self, vec2: Any) -> Any:
        """The outer product of two vectors: (n,) x (m,) -> (n, m)."""
        _need("outer", "self", self, 1)
        _need("outer", "vec2", vec2, 1)
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    def addmm(self, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """beta * self + alpha * (mat1 @ mat2), self broadcasting to the product's shape."""
        return _scaled(self, beta) + _scaled(self._mm_like("addmm", mat1, mat2, 2), alpha)

    def addmv(self, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """beta * self + alpha * (mat @ vec)."""
        return _scaled(self, beta) + _scaled(mat.mv(vec), alpha)

    def baddbmm(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """beta * self + alpha * (batch1 @ batch2), batch by batch."""
        return _scaled(self, beta) + _scaled(batch1.bmm(batch2), alpha)

    def addbmm(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """beta * self + alpha * sum over the batch of batch1[i] @ batch2[i]."""
        return _scaled(self, beta) + _scaled(batch1.bmm(batch2).sum(0), alpha)

    def to_sparse(self, sparse_dim: int | None = None) -> Any:
        """This 2-D tensor's non-zero elements as a sparse COO matrix (`_tensor/sparse.py`)."""
        from .sparse import to_sparse  # the sparse class builds on Tensor

        return to_sparse(cast("Tensor", self))

    to_sparse_coo = to_sparse

    def to_dense(self) -> Any:
        """A dense tensor is its own dense form."""
        return self

    def _mm_like(self, op: str, a: Any, b: Any, ndim: int) -> Any:
        _need(op, "mat1", a, ndim)
        _need(op, "mat2", b, ndim)
        _fits(op, a, b)
        return a @ b
