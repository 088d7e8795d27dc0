"""Indexing ops: `GetItem` reads elements, `IndexAdd` adds values into a zero tensor at an index.

The two are each other's backward (reading is adjoint to scatter-adding), so gradients of any order
work. Every index-based op in the library (gather, index_select, take_along_dim, masked_select,
diagonal, embedding, reflect/replicate/circular padding) is a `GetItem` with a NumPy index tuple, so
there is one place where indices are validated and one place (`_scatter_add`) where repeated indices
accumulate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import IndexedGrad
from ..errors import DTypeError, OpIndexError, ShapeError
from ..function import Function, TensorBase
from ..kernels import scatter as kscatter
from . import dual


def _scatter_add(out: np.ndarray, index: tuple, values: np.ndarray) -> None:
    """out[index] += values, with repeated indices accumulating.

    Rows picked by one integer index array on the first axis (embedding lookups, `x[idx]`) go to the
    Numba row kernel; any other index falls back to `np.add.at`.
    """
    if (
        len(index) == 1
        and isinstance(index[0], np.ndarray)
        and index[0].dtype.kind in "iu"
        and out.dtype in (np.float32, np.float64)
        and out.flags.c_contiguous
        and out.ndim >= 1
    ):
        rows = index[0].reshape(-1)
        src = np.ascontiguousarray(np.broadcast_to(values, index[0].shape + out.shape[1:]), out.dtype)
        kscatter.scatter_add_rows(out, rows, src.reshape((rows.size,) + out.shape[1:]))
        return
    np.add.at(out, index, values)


class GetItem(Function):
    """a[index] for a normalised NumPy index (see `normalize_index`): a view for basic indices."""

    is_view = True

    def forward(self, a, index, advanced):
        self.in_shape, self.index, self.advanced = a.shape, index, advanced
        return a[index]

    def backward(self, g):
        if dual.is_tensor(g):
            return index_add_any(g, self.index, self.advanced, self.in_shape)
        return IndexedGrad(self.index, g, self.advanced, _scatter_add)


class IndexAdd(Function):
    """zeros(shape)[index] += v; repeated indices add up. Its backward reads v's gradient back."""

    def forward(self, v, index, advanced, shape):
        self.index, self.advanced = index, advanced
        out = np.zeros(shape, dtype=v.dtype)
        if advanced:
            _scatter_add(out, index, v)
        else:
            out[index] = v
        return out

    def backward(self, g):
        return getitem_any(g, self.index, self.advanced)


def getitem_any(x: Any, index: tuple, advanced: bool) -> Any:
    """x[index] for an array or (differentiably) a Tensor."""
    return GetItem.apply(x, index=index, advanced=advanced) if dual.is_tensor(x) else x[index]


def index_add_any(v: Any, index: tuple, advanced: bool, shape: tuple) -> Any:
    """A zero array/Tensor of `shape` with `v` added at `index`."""
    if dual.is_tensor(v):
        return IndexAdd.apply(v, index=index, advanced=advanced, shape=shape)
    out = np.zeros(shape, dtype=v.dtype)
    if advanced:
        _scatter_add(out, index, v)
    else:
        out[index] = v
    return out


# ---- index normalisation and validation ----------------------------------------------------------
def _as_index_array(item: Any, op: str) -> np.ndarray:
    arr = np.asarray(item._data if isinstance(item, TensorBase) else item)
    if arr.dtype.kind in "biu":
        return arr
    if arr.size == 0:
        return arr.astype(np.int64)
    raise DTypeError(f"{op}: tensors used as indices must be integer or bool, got {arr.dtype}")


def _check_ints(op: str, arr: Any, size: int, dim: int, shape: tuple, low: int | None = None) -> None:
    """Indices must lie in [low, size): low is -size (Python-style negatives) unless given."""
    a = np.asarray(arr)
    low = -size if low is None else low
    if a.size and (a.min() < low or a.max() >= size):
        bad = a.min() if a.min() < low else a.max()
        raise OpIndexError(
            f"{op}: index {int(bad)} is out of bounds for dim {dim} with size {size} (tensor shape {shape})"
        )


def normalize_index(index: Any, shape: tuple, op: str = "__getitem__") -> tuple[tuple, bool]:
    """Check a PyTorch-style index against `shape` and turn it into a NumPy index tuple.

    Returns (index, advanced). Tensors and lists become arrays; bool masks become the integer arrays
    of their nonzero positions (NumPy's own equivalence), so scatter-adds see integer indices only.
    Errors name the op, the index and the shape instead of surfacing a raw NumPy IndexError.
    """
    items = list(index) if isinstance(index, tuple) else [index]
    parsed: list[Any] = []
    consumed = 0
    for it in items:
        if it is None or it is Ellipsis:
            parsed.append(it)
        elif isinstance(it, slice):
            if it.step is not None and int(it.step) <= 0:
                raise OpIndexError(
                    f"{op}: slice step must be positive, got {it.step} (PyTorch has "
                    "no negative steps; use flip())"
                )
            parsed.append(it)
            consumed += 1
        elif isinstance(it, (bool, np.bool_)):
            raise OpIndexError(f"{op}: a bare bool index ({it}) is not supported; use a mask tensor")
        elif isinstance(it, (int, np.integer)):
            parsed.append(int(it))
            consumed += 1
        elif isinstance(it, (TensorBase, np.ndarray, list, tuple)):
            arr = _as_index_array(it, op)
            if arr.dtype.kind == "b" and arr.ndim == 0:
                raise OpIndexError(
                    f"{op}: a 0-d bool mask is not supported; use a mask tensor with the indexed dims' shape"
                )
            parsed.append(arr)
            consumed += arr.ndim if arr.dtype.kind == "b" else 1
        else:
            raise DTypeError(
                f"{op}: unsupported index of type {type(it).__name__} "
                f"(use ints, slices, None, ..., integer or bool tensors)"
            )
    if sum(it is Ellipsis for it in parsed) > 1:
        raise OpIndexError(f"{op}: an index can have only one ellipsis (...)")
    if consumed > len(shape):
        raise OpIndexError(f"{op}: too many indices ({consumed}) for a tensor of shape {shape}")
    out: list[Any] = []
    dim = 0
    advanced = False
    for it in parsed:
        if it is None:
            out.append(None)
        elif it is Ellipsis:
            out.append(Ellipsis)
            dim += len(shape) - consumed
        elif isinstance(it, slice):
            out.append(it)
            dim += 1
        elif isinstance(it, int):
            _check_ints(op, it, shape[dim], dim, shape)
            out.append(it)
            dim += 1
        elif it.dtype.kind == "b":
            want = shape[dim : dim + it.ndim]
            if it.shape != want:
                raise ShapeError(
                    f"{op}: bool mask of shape {it.shape} does not match the indexed "
                    f"dims {want} of a tensor of shape {shape} (from dim {dim})"
                )
            out.extend(np.nonzero(it))
            dim += it.ndim
            advanced = True
        else:
            _check_ints(op, it, shape[dim], dim, shape)
            out.append(it)
            dim += 1
            advanced = True
    return tuple(out), advanced


def getitem(x: Any, index: Any) -> Any:
    """x[index] with PyTorch's semantics; gradients of repeated indices add up.

    PyTorch applies integer indices as plain selections before advanced indexing, where NumPy
    would count them as advanced indices (which moves the result's dims). With both present, the
    integers are therefore applied first, in a separate step.
    """
    idx, advanced = normalize_index(index, x.shape)
    ints = [isinstance(it, int) for it in idx]
    if advanced and any(ints):
        first = tuple(
            it if isinstance(it, int) or it is Ellipsis else slice(None) for it in idx if it is not None
        )
        x = GetItem.apply(x, index=first, advanced=False)
        idx = tuple(it for it, is_int in zip(idx, ints) if not is_int)
    return GetItem.apply(x, index=idx, advanced=advanced)


# ---- gather / scatter family (all reduce to GetItem and IndexAdd) -------------------------------
def _int_index(index: Any, op: str) -> np.ndarray:
    arr = np.asarray(index._data if isinstance(index, TensorBase) else index)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise DTypeError(f"{op}: index must be an integer tensor, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _grid(shape: tuple, dim: int, index: np.ndarray) -> tuple:
    """The advanced index reading x[i0, .., index[i0, .., ik], .., ik] over `shape` (gather)."""
    nd = len(shape)
    return tuple(
        index if d == dim else np.arange(n).reshape((-1,) + (1,) * (nd - 1 - d)) for d, n in enumerate(shape)
    )


def _check_nonnegative(op: str, index: np.ndarray, size: int, dim: int, shape: tuple) -> None:
    """gather/scatter/index_select take no negative indices (as in PyTorch)."""
    _check_ints(op, index, size, dim, shape, low=0)


def _gather_index(op: str, shape: tuple, dim: int, index: np.ndarray) -> tuple:
    """Validate gather/scatter arguments (PyTorch's rules) and build the advanced index."""
    if index.ndim != len(shape):
        raise ShapeError(
            f"{op}: index has {index.ndim} dims but the tensor has {len(shape)} "
            f"(shapes {index.shape} and {shape})"
        )
    for d in range(len(shape)):
        if d != dim and index.shape[d] > shape[d]:
            raise ShapeError(
                f"{op}: index shape {index.shape} is larger than the tensor's {shape} in dim {d}"
            )
    _check_nonnegative(op, index, shape[dim], dim, shape)
    return _grid(index.shape, dim, index)


def gather(x: Any, dim: int, index: Any) -> Any:
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1 (torch.gather)."""
    from ..shapes import normalize_axis

    d = normalize_axis(dim, x.ndim, "gather")
    idx = _int_index(index, "gather")
    if x.ndim == 0:  # a 0-d tensor gathers like a 1-element vector
        if idx.ndim > 1:
            raise ShapeError(f"gather: index of shape {idx.shape} for a 0-d tensor")
        return gather(x.reshape((1,)), 0, idx.reshape(-1)).reshape(idx.shape)
    return GetItem.apply(x, index=_gather_index("gather", x.shape, d, idx), advanced=True)


def scatter_add(x: Any, dim: int, index: Any, src: Any) -> Any:
    """x with src[i][j][k] added at x[i][index[i][j][k]][k] for dim=1; repeats accumulate."""
    from ..shapes import normalize_axis

    d = normalize_axis(dim, x.ndim, "scatter_add")
    idx = _int_index(index, "scatter_add")
    if x.ndim == 0:
        if idx.ndim > 1 or src.ndim > 1:
            raise ShapeError(f"scatter_add: index {idx.shape} / src {src.shape} for a 0-d tensor")
        return scatter_add(x.reshape((1,)), 0, idx.reshape(-1), src.reshape((-1,))).reshape(())
    if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape)):
        raise ShapeError(f"scatter_add: index shape {idx.shape} must not exceed src shape {src.shape}")
    grid = _gather_index("scatter_add", x.shape, d, idx)
    if src.shape != idx.shape:
        src = GetItem.apply(src, index=tuple(slice(0, n) for n in idx.shape), advanced=False)
    return x + IndexAdd.apply(src, index=grid, advanced=True, shape=x.shape)


def index_select(x: Any, dim: int, index: Any) -> Any:
    from ..shapes import normalize_axis

    d = normalize_axis(dim, x.ndim, "index_select")
    idx = _int_index(index, "index_select")
    if idx.ndim > 1:
        raise ShapeError(f"index_select: index must be 0-d or 1-d, got shape {idx.shape}")
    if x.ndim == 0:
        _check_nonnegative("index_select", idx, 1, 0, x.shape)
        return x.reshape((1,))[idx.reshape(-1)].reshape(idx.shape)
    _check_nonnegative("index_select", idx, x.shape[d], d, x.shape)
    return GetItem.apply(x, index=(slice(None),) * d + (idx.reshape(-1),), advanced=True)


def index_add(x: Any, dim: int, index: Any, source: Any, alpha: float = 1) -> Any:
    """x with alpha * source[..., i, ...] added at x[..., index[i], ...] (torch.index_add)."""
    from ..shapes import normalize_axis

    d = normalize_axis(dim, x.ndim, "index_add")
    idx = _int_index(index, "index_add").reshape(-1)
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1 :]
    if tuple(source.shape) != want:
        raise ShapeError(
            f"index_add: source shape {source.shape} should be {want} for a tensor of "
            f"shape {x.shape}, dim {dim} and {idx.size} indices"
        )
    _check_nonnegative("index_add", idx, x.shape[d], d, x.shape)
    if alpha != 1:
        source = source * alpha
    return x + IndexAdd.apply(source, index=(slice(None),) * d + (idx,), advanced=True, shape=x.shape)


def take_along_dim(x: Any, indices: Any, dim: int | None = None) -> Any:
    """take_along_axis, broadcasting the other dims; dim=None reads the flattened tensor."""
    from ..shapes import normalize_axis

    idx = _int_index(indices, "take_along_dim")
    if dim is None:
        flat = x.reshape((-1,))
        _check_ints("take_along_dim", idx, flat.shape[0], 0, x.shape)
        return GetItem.apply(flat, index=(idx.reshape(-1),), advanced=True)
    d = normalize_axis(dim, x.ndim, "take_along_dim")
    if idx.ndim != x.ndim:
        raise ShapeError(
            f"take_along_dim: indices have {idx.ndim} dims but the tensor has "
            f"{x.ndim} (shapes {idx.shape} and {x.shape})"
        )
    _check_ints("take_along_dim", idx, x.shape[d], d, x.shape)
    try:
        other = np.broadcast_shapes(
            tuple(1 if i == d else n for i, n in enumerate(x.shape)),
            tuple(1 if i == d else n for i, n in enumerate(idx.shape)),
        )
    except ValueError:
        raise ShapeError(
            f"take_along_dim: shapes {x.shape} and {idx.shape} do not broadcast outside dim {d}"
        ) from None
    idx = np.broadcast_to(idx, other[:d] + (idx.shape[d],) + other[d + 1 :])
    grid = tuple(
        idx
        if i == d
        else (np.arange(n) if x.shape[i] == n else np.zeros(n, np.int64)).reshape(
            (-1,) + (1,) * (x.ndim - 1 - i)
        )
        for i, n in enumerate(other)
    )
    return GetItem.apply(x, index=grid, advanced=True)


def _mask_array(mask: Any, op: str) -> np.ndarray:
    m = np.asarray(mask._data if isinstance(mask, TensorBase) else mask)
    if m.dtype.kind != "b":
        raise DTypeError(f"{op}: mask must be a bool tensor, got {m.dtype}")
    return m


def masked_fill(x: Any, mask: Any, value: Any) -> Any:
    """x with `value` where the (broadcast) mask is True."""
    from .elementwise import Where

    m = _mask_array(mask, "masked_fill")
    try:
        shape = np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        raise ShapeError(
            f"masked_fill: mask of shape {m.shape} does not broadcast to the tensor's shape {x.shape}"
        ) from None
    if shape != x.shape:
        raise ShapeError(
            f"masked_fill: mask of shape {m.shape} would grow the tensor's shape {x.shape} to {shape}"
        )
    if isinstance(value, TensorBase):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a 0-d tensor, got shape {value.shape}")
        fill = value if value.dtype == x.dtype else value.astype(x.dtype)
    else:
        fill = x._make(np.asarray(value, dtype=x.dtype), False)
    return Where.apply(x._make(m, False), fill, x)


def masked_select(x: Any, mask: Any) -> Any:
    """The elements of x where the mask is True, as a 1-D tensor (mask and x broadcast)."""
    from .movement import expand

    m = _mask_array(mask, "masked_select")
    try:
        shape = np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        raise ShapeError(
            f"masked_select: mask of shape {m.shape} and tensor of shape {x.shape} do not broadcast"
        ) from None
    full = expand(x, shape, "masked_select")
    return GetItem.apply(full, index=np.nonzero(np.broadcast_to(m, shape)), advanced=True)
