"""`scatter` and `scatter_reduce` (torch.Tensor.scatter / scatter_reduce), with PyTorch's gradients.

Along `dim`, element i of `src` goes to position index[i] of a copy of the input: `Scatter` writes it
(the last write wins where an index repeats), `ScatterReduce` combines all values that reach a
position with sum, prod, mean, amax or amin, with or without the input's own value (`include_self`).

Backward rules are PyTorch's (FunctionsManual's scatter_reduce_backward): sum and mean pass the
gradient through (divided by the counts for mean), amax / amin share it evenly among the tied
winners, prod divides the result by each factor (with the product of the others where a factor is
the only zero). They are written with operations arrays and Tensors share, so `create_graph=True`
works; prod's rule calls the op itself on the masked inputs.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from . import dual
from .index import _gather_index, _int_index, getitem_any

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce: str, dtype: np.dtype) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:  # bool
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _reduce_arrays(
    x: np.ndarray,
    src: np.ndarray,
    grid: tuple,
    touched: np.ndarray,
    counts: np.ndarray | None,
    reduce: str,
    include_self: bool,
) -> np.ndarray:
    out = np.array(x, copy=True)
    if not include_self:
        out[touched] = _identity(reduce, x.dtype)
    _UFUNC[reduce].at(out, grid, src)
    if reduce == "mean":
        assert counts is not None, "mean needs the counts"
        safe = np.maximum(counts, 1)
        if out.dtype.kind == "f":
            out = out / safe.astype(out.dtype)
        else:
            out = np.floor_divide(out, safe).astype(out.dtype)
        out = np.where(counts > 0, out, x) if not include_self else out
    return out


class ScatterReduce(Function):
    """out = input with each src value combined into out[..., index[..], ..] along `dim`."""

    def forward(
        self, x: np.ndarray, src: np.ndarray, *, grid: tuple, reduce: str, include_self: bool
    ) -> np.ndarray:
        touched = np.zeros(x.shape, bool)
        touched[grid] = True
        counts = None
        if reduce == "mean":
            counts = np.full(x.shape, 1 if include_self else 0, np.int64)
            np.add.at(counts, grid, 1)
        out = _reduce_arrays(x, src, grid, touched, counts, reduce, include_self)
        self.grid, self.reduce, self.include_self = grid, reduce, include_self
        self.touched, self.counts = touched, counts
        self.save(x, src, out)
        return out

    def backward(self, g):
        x, src, out = self.saved
        grid, reduce = self.grid, self.reduce
        keep = (~self.touched).astype(g.dtype) if not self.include_self else None

        def gather(a: Any) -> Any:
            return getitem_any(a, grid, True)

        if reduce == "sum":
            gx, gs = g, gather(g)
        elif reduce == "mean":
            assert self.counts is not None  # set by forward for 'mean'
            inv = 1.0 / np.maximum(self.counts, 1).astype(g.dtype)
            gx, gs = g * inv, gather(g * inv)
        elif reduce in ("amax", "amin"):
            xv, sv, ov = (_values(a) for a in (x, src, out))
            self_wins = (xv == ov).astype(g.dtype)
            src_wins = (sv == ov[grid]).astype(g.dtype)
            share = np.array(self_wins, copy=True)
            np.add.at(share, grid, src_wins)
            inv = 1.0 / np.maximum(share, 1.0)
            gx, gs = g * (self_wins * inv), gather(g * inv) * src_wins
        else:
            gx, gs = self._prod_grads(g, x, src, out, gather)
        if keep is not None:
            gx = gx * keep
        return gx, gs

    def _prod_grads(self, g: Any, x: Any, src: Any, out: Any, gather: Any) -> tuple:
        xv, sv = _values(x), _values(src)
        grid, include_self = self.grid, self.include_self
        masked_x = dual.where(xv == 0, 1.0, x)
        gx = g * _scatter_reduce_any(masked_x, src, grid, "prod", include_self) / masked_x
        src_zero = sv == 0
        zeros_here = np.zeros(xv.shape, np.int64)
        np.add.at(zeros_here, grid, src_zero.astype(np.int64))
        single = src_zero & (zeros_here[grid] == 1)
        masked_src = dual.where(single, 1.0, src)
        without = _scatter_reduce_any(x, masked_src, grid, "prod", include_self)
        gs = dual.where(single, gather(g * without), gather(g * out) / dual.where(src_zero, 1.0, src))
        return gx, gs


def _values(a: Any) -> np.ndarray:
    return a._data if dual.is_tensor(a) else a


def _scatter_reduce_any(x: Any, src: Any, grid: tuple, reduce: str, include_self: bool) -> Any:
    if dual.is_tensor(x) or dual.is_tensor(src):
        ref = x if dual.is_tensor(x) else src
        x, src = (a if dual.is_tensor(a) else ref._make(np.asarray(a, ref.dtype), False) for a in (x, src))
        return ScatterReduce.apply(x, src, grid=grid, reduce=reduce, include_self=include_self)
    touched = np.zeros(x.shape, bool)
    touched[grid] = True
    return _reduce_arrays(x, src, grid, touched, None, reduce, include_self)


class Scatter(Function):
    """out = input with src[i] written at out[..., index[i], ..] along `dim` (last write wins)."""

    def forward(self, x: np.ndarray, src: np.ndarray, *, grid: tuple) -> np.ndarray:
        out = np.array(x, copy=True)
        out[grid] = src
        keep = np.ones(x.shape, bool)
        keep[grid] = False
        self.grid, self.keep = grid, keep
        return out

    def backward(self, g):
        return g * self.keep.astype(g.dtype), getitem_any(g, self.grid, True)


# ---- argument handling for the Tensor methods ----------------------------------------------------
def _prepare(op: str, x: Any, dim: int, index: Any, src: Any) -> tuple[tuple, Any]:
    """Validate dim, index and src (PyTorch's rules); the advanced index, and src cut to index."""
    from ..shapes import normalize_axis

    if x.ndim == 0:
        raise ShapeError(f"{op}: expected a tensor with at least one dim, got a 0-d tensor")
    d = normalize_axis(dim, x.ndim, op)
    idx = _int_index(index, op)
    if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape)):
        raise ShapeError(
            f"{op}: index of shape {idx.shape} must not be larger than src of shape "
            f"{src.shape} in any dim (and have as many dims)"
        )
    grid = _gather_index(op, x.shape, d, idx)
    if src.shape != idx.shape:
        src = getitem_any(src, tuple(slice(0, n) for n in idx.shape), False)
    return grid, src


def scatter(x: Any, dim: int, index: Any, src: Any, reduce: str | None = None) -> Any:
    """x with src (a tensor of index's shape or larger, or a scalar) written along `dim`."""
    op = "scatter"
    if reduce is not None and dual.is_tensor(src):
        warnings.warn(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will "
            "be removed in a future PyTorch release. Use torch.scatter_reduce instead "
            "for more reduction options.",
            UserWarning,
            stacklevel=3,
        )
    if not dual.is_tensor(src):
        value = np.asarray(src, dtype=x.dtype)
        src = x._make(np.broadcast_to(value, np.shape(_int_index(index, op))), False)
    elif src.dtype != x.dtype:
        raise DTypeError(f"{op}: expected self.dtype ({x.dtype}) to be equal to src.dtype ({src.dtype})")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"{op}: reduce argument must be either 'add' or 'multiply', got {reduce!r}")
        return scatter_reduce(x, dim, index, src, "sum" if reduce == "add" else "prod")
    grid, src = _prepare(op, x, dim, index, src)
    return Scatter.apply(x, src, grid=grid)


def scatter_reduce(x: Any, dim: int, index: Any, src: Any, reduce: str, include_self: bool = True) -> Any:
    """x with the src values reaching each position combined by `reduce` (sum, prod, mean, amax,
    amin), together with x's own value unless include_self=False."""
    op = "scatter_reduce"
    if reduce not in REDUCTIONS:
        raise ValueError(f"{op}: reduce argument must be one of {', '.join(REDUCTIONS)}, got {reduce!r}")
    if not dual.is_tensor(src):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    if src.dtype != x.dtype:
        raise DTypeError(f"{op}: expected self.dtype ({x.dtype}) to be equal to src.dtype ({src.dtype})")
    grid, src = _prepare(op, x, dim, index, src)
    return ScatterReduce.apply(x, src, grid=grid, reduce=reduce, include_self=bool(include_self))


__all__ = ["REDUCTIONS", "Scatter", "ScatterReduce", "scatter", "scatter_reduce"]
