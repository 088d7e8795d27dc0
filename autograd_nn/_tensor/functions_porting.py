"""More `autograd_nn.<name>(...)` functions under PyTorch's names: matrix products (`mm`, `bmm`,
`matmul`, `addmm`, ...), writes (`scatter`, `index_fill`, ...), sampling (`multinomial`, `normal`,
...), counting (`unique`, `bincount`) and type queries (`is_tensor`, `is_floating_point`, `numel`).

Like `functions.py`, most are the Tensor method of the same name applied to the first argument.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..random import resolve
from .distances import cdist, cosine_similarity, pairwise_distance, pdist
from .factories import as_tensor, linspace
from .functions import _unary
from .sparse import SparseTensor, sparse_coo_tensor
from .tensor import Tensor

# __all__ stays grouped by family, as the module reads (not one name per line)
# fmt: off
__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "addmm", "addmv", "addbmm", "baddbmm",
    "t", "scatter", "index_fill", "index_copy", "index_put", "multinomial", "bernoulli", "poisson",
    "normal", "unique", "unique_consecutive", "bincount", "histc", "is_tensor", "is_floating_point",
    "is_complex", "is_nonzero", "numel", "result_type", "spmm", "sparse_coo_tensor", "cdist",
    "cosine_similarity", "pairwise_distance", "pdist", "nonzero", "argwhere", "addcmul", "addcdiv", "logit",
    "diff", "cross", "deg2rad", "rad2deg", "logspace", "searchsorted", "bucketize",
]
# fmt: on

_t = as_tensor

bmm = _unary("bmm")
mv = _unary("mv")
dot = _unary("dot")
vdot = _unary("vdot")
outer = _unary("outer")
ger = _unary("ger")
addmm = _unary("addmm")
addmv = _unary("addmv")
addbmm = _unary("addbmm")
baddbmm = _unary("baddbmm")
t = _unary("t")
scatter = _unary("scatter")
index_fill = _unary("index_fill")
index_copy = _unary("index_copy")
index_put = _unary("index_put")
multinomial = _unary("multinomial")
bernoulli = _unary("bernoulli")
poisson = _unary("poisson")
unique_consecutive = _unary("unique_consecutive")
bincount = _unary("bincount")
histc = _unary("histc")
nonzero = _unary("nonzero")
argwhere = _unary("argwhere")
addcmul = _unary("addcmul")
addcdiv = _unary("addcdiv")
logit = _unary("logit")
diff = _unary("diff")
cross = _unary("cross")
deg2rad = _unary("deg2rad")
rad2deg = _unary("rad2deg")


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    out: Any = None,
    layout: Any = None,
) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    exponents = linspace(start, end, steps, dtype=np.float64, device=device, out=out, layout=layout)
    values = np.power(float(base), exponents.numpy())
    want = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    out_t = Tensor._make(values.astype(want), False)
    return out_t.requires_grad_(True) if requires_grad else out_t


def searchsorted(
    sorted_sequence: Any,
    input: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Any = None,
) -> Tensor:
    """For each value of `input`, the index where it would be inserted in `sorted_sequence` (its last
    dim, row by row for an N-d sequence) to keep it sorted."""
    seq = np.asarray(_t(sorted_sequence).numpy())
    values = np.asarray(_t(input).numpy()) if not isinstance(input, (int, float)) else np.asarray(input)
    which = cast(Literal["left", "right"], side or ("right" if right else "left"))  # NumPy checks it
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(_t(sorter).numpy()), -1)
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise ShapeError(
            f"searchsorted: the leading dims of sorted_sequence {seq.shape} and input "
            f"{values.shape} must match"
        )
    if seq.ndim <= 1:
        idx = np.searchsorted(seq, values, side=which)
    else:
        rows = seq.reshape(-1, seq.shape[-1])
        vals = values.reshape(rows.shape[0], -1)
        idx = np.stack([np.searchsorted(r, v, side=which) for r, v in zip(rows, vals)]).reshape(values.shape)
    return Tensor._make(np.asarray(idx).astype(np.int32 if out_int32 else np.int64), False)


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of `input` among the sorted 1-D `boundaries` (torch.bucketize)."""
    if _t(boundaries).ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape {tuple(_t(boundaries).shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def matmul(input: Any, other: Any) -> Any:
    """input @ other with NumPy's (and PyTorch's) broadcasting rules (torch.matmul); a sparse
    `input` multiplies a dense matrix."""
    return input @ other if isinstance(input, SparseTensor) else _t(input) @ other


def mm(input: Any, mat2: Any) -> Any:
    """(n, m) @ (m, p) for matrices; a sparse `input` gives sparse @ dense (torch.mm)."""
    return input.mm(mat2) if isinstance(input, SparseTensor) else _t(input).mm(mat2)


def spmm(input: SparseTensor, mat2: Any) -> Any:
    """sparse (n, m) @ dense (m, p) -> dense (torch.spmm), differentiable in both."""
    if not isinstance(input, SparseTensor):
        raise TypeError(
            f"spmm: input must be a sparse tensor (sparse_coo_tensor / to_sparse), got {type(input).__name__}"
        )
    return input.mm(mat2)


def unique(
    input: Any,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct values of `input` (sorted), optionally with inverse indices and counts."""
    return _t(input).unique(sorted, return_inverse, return_counts, dim)


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples: elementwise for tensor `mean`/`std` (broadcast), or `size` samples for two
    numbers (torch.normal's forms). The samples are constants of the graph."""
    m = mean._data if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    s = std._data if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    if np.any(s < 0):
        raise ValueError("normal: std must be non-negative")
    if size is not None:
        shape = tuple(size) if isinstance(size, (tuple, list)) else (int(size),)
        if isinstance(mean, Tensor) or isinstance(std, Tensor):
            raise TypeError("normal: size= is for float mean and std; tensors give the shape themselves")
    else:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    kinds = [x.dtype for x in (mean, std) if isinstance(x, Tensor)]
    out_dtype = (
        dtypes.as_dtype(dtype) if dtype is not None else (kinds[0] if kinds else dtypes.get_default_dtype())
    )
    draws = resolve(generator).standard_normal(shape) * s + m
    out = Tensor._make(np.asarray(draws).astype(out_dtype), False)
    return out.requires_grad_(True) if requires_grad else out


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def _need_tensor(op: str, input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expects a Tensor, got {type(input).__name__}")
    return input


def is_floating_point(input: Tensor) -> bool:
    return _need_tensor("is_floating_point", input).is_floating_point()


def is_complex(input: Tensor) -> bool:
    _need_tensor("is_complex", input)
    return False


def is_nonzero(input: Tensor) -> bool:
    """The truth of a one-element tensor (an error for any other size, as in PyTorch)."""
    if _need_tensor("is_nonzero", input).numel() != 1:
        raise RuntimeError(f"is_nonzero: a tensor with {input.numel()} elements is ambiguous")
    return bool(input.item())


def numel(input: Tensor) -> int:
    return _need_tensor("numel", input).numel()


def result_type(tensor1: Any, tensor2: Any) -> np.dtype:
    """The dtype `tensor1 <op> tensor2` would have (PyTorch's promotion rules)."""
    a = _t(tensor1)
    return a._operand(tensor2)[0].dtype
