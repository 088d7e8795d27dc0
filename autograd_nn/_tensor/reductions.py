"""Reductions, softmax and sorting as Tensor methods, plus the module-level functions (`ag.sum(x)`).

PyTorch's `dim`/`keepdim` and NumPy's `axis`/`keepdims` both work; `dim` is an int or, where PyTorch
allows, a tuple. Methods validate their arguments and pick the op; the maths is in `ops/`. Note that
this module defines `sum`, `max`, `min`, `all` and `any`, so it never uses those builtins by name.
"""

from __future__ import annotations

import math
from collections import namedtuple
from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError, OpIndexError, ShapeError
from ..function import Function, TensorBase
from ..ops import elementwise as ew
from ..ops import reduce as red
from ..ops import sorting as srt
from ..ops.cumulative import Cumprod, Cumsum
from ..ops.softmax import LogSoftmax, Softmax
from ..shapes import normalize_axes, normalize_axis, pick


def _pair_type(name: str) -> type:
    cls = namedtuple(name, ["values", "indices"])  # type: ignore[misc]  # one class per name in a loop
    cls.__module__ = "autograd_nn.return_types"
    return cls


# (values, indices) results, like `torch.return_types.max`
return_types = SimpleNamespace(
    **{n: _pair_type(n) for n in ("max", "min", "sort", "topk", "kthvalue", "median")}
)


# ---- argument handling ----------------------------------------------------------------------------
def _axes(op: str, dim: Any, axis: Any, ndim: int) -> tuple | None:
    """Normalised reduction axes; None, () and [] all mean every axis, as in PyTorch."""
    dim = pick(op, dim, axis)
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    return normalize_axes(dim, ndim, op)


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    return bool(keepdim if keepdims is None else keepdims)


def _cast(x: Any, dtype: Any) -> Any:
    return x if dtype is None else x.astype(dtype)


def _as_int64(x: Any) -> Any:
    """Integer and bool inputs of sum/prod/cumsum/cumprod give int64, as in PyTorch."""
    return x.astype(dtypes.int64) if x.dtype.kind in "biu" else x


def _need_float(x: Any, op: str) -> None:
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{op}: input dtype must be floating point, got {x.dtype}; pass dtype= or convert with .float()"
        )


def _nonempty(x: Any, axes: tuple | None, op: str) -> None:
    sizes = x.shape if axes is None else [x.shape[a] for a in axes]
    if 0 in sizes:
        raise ShapeError(
            f"{op}: cannot reduce a zero-size dimension (input shape {x.shape}, "
            f"dim {axes}); this reduction has no identity"
        )


def _index(x: Any, arr: np.ndarray | np.integer) -> Any:
    return type(x)._make(np.asarray(arr, dtype=np.int64), False)


def _select(x: Any, op: str, dim: Any, keepdim: bool, index_fn: Any, kind: str) -> Any:
    """(values, indices) of a value-selecting reduction along one dim; `index_fn(data, axis)`."""
    flat = x if x.ndim else x.reshape(1)
    axis = normalize_axis(dim, x.ndim, op)
    _nonempty(flat, (axis,), op)
    idx = index_fn(flat._data, axis)  # int64, the reduced axis kept with size 1
    keep = keepdim and x.ndim > 0
    values = srt.take_along(flat, idx, axis, keepdims=keep)
    return getattr(return_types, kind)(values, _index(x, idx if keep else np.squeeze(idx, axis)))


def _scan(x: Any, op: str, dim: int, fn: type[Function]) -> Any:
    """cumsum/cumprod along `dim` (a 0-d input is treated as shape (1,))."""
    axis = normalize_axis(dim, x.ndim, op)
    if x.ndim == 0:
        return fn.apply(x.reshape(1), axis=0).reshape(())
    return fn.apply(x, axis=axis)


def _order(x: Any, op: str, dim: int, descending: bool) -> tuple[Any, np.ndarray, int]:
    flat = x if x.ndim else x.reshape(1)
    axis = normalize_axis(dim, x.ndim, op)
    return flat, srt.argsort(flat._data, axis, descending), axis


class ReduceMixin(TensorBase):
    __slots__ = ()

    # ---- sums and moments ---------------------------------------------------------------------
    def sum(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        dtype: Any = None,
        axis: Any = None,
        keepdims: bool | None = None,
    ) -> Any:
        """Sum over `dim` (all dims by default). Integer and bool inputs give int64."""
        axes = _axes("sum", dim, axis, self.ndim)
        x = _as_int64(self) if dtype is None else _cast(self, dtype)
        return red.Sum.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims))

    def mean(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        dtype: Any = None,
        axis: Any = None,
        keepdims: bool | None = None,
    ) -> Any:
        """Mean over `dim`; integer inputs need `dtype=` (as in PyTorch)."""
        axes = _axes("mean", dim, axis, self.ndim)
        x = _cast(self, dtype)
        _need_float(x, "mean")
        return red.Mean.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims))

    def _moment(
        self,
        op: str,
        fn: type[Function],
        dim: Any,
        unbiased: Any,
        keepdim: bool,
        correction: Any,
        axis: Any,
        keepdims: Any,
        ddof: Any,
    ) -> Any:
        if isinstance(dim, bool):  # x.var(False): the legacy `unbiased` positional form
            dim, unbiased = None, dim
        given = [c for c in (unbiased, correction, ddof) if c is not None]
        if len(given) > 1:
            raise TypeError(f"{op}: give only one of unbiased, correction and ddof")
        corr = float(
            correction
            if correction is not None
            else ddof
            if ddof is not None
            else (1.0 if unbiased is None or unbiased else 0.0)
        )
        _need_float(self, op)
        axes = _axes(op, dim, axis, self.ndim)
        return fn.apply(self, axis=axes, correction=corr, keepdims=_keep(keepdim, keepdims))

    def var(
        self,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: float | None = None,
        axis: Any = None,
        keepdims: bool | None = None,
        ddof: float | None = None,
    ) -> Any:
        """Variance with Bessel's correction by default; one element with correction 1 gives nan."""
        return self._moment("var", red.Var, dim, unbiased, keepdim, correction, axis, keepdims, ddof)

    def std(
        self,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: float | None = None,
        axis: Any = None,
        keepdims: bool | None = None,
        ddof: float | None = None,
    ) -> Any:
        """Standard deviation (see `var`); its gradient is 0 where the std is 0."""
        return self._moment("std", red.Std, dim, unbiased, keepdim, correction, axis, keepdims, ddof)

    def prod(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        dtype: Any = None,
        axis: Any = None,
        keepdims: bool | None = None,
    ) -> Any:
        """Product over `dim`; the gradient is exact when the input holds zeros."""
        axes = _axes("prod", dim, axis, self.ndim)
        x = _as_int64(self) if dtype is None else _cast(self, dtype)
        keep = _keep(keepdim, keepdims)
        if axes is not None and len(axes) == 1:
            return red.Prod.apply(x, axis=axes[0], keepdims=keep)
        reduced = axes if axes is not None else tuple(range(self.ndim))
        rest = [a for a in range(self.ndim) if a not in reduced]
        out_shape = (
            tuple(1 if a in reduced else n for a, n in enumerate(self.shape))
            if keep
            else tuple(self.shape[a] for a in rest)
        )
        moved = x.permute(*rest, *reduced) if rest else x
        flat = moved.reshape(*(self.shape[a] for a in rest), math.prod(self.shape[a] for a in reduced))
        return red.Prod.apply(flat, axis=len(rest)).reshape(*out_shape)

    def logsumexp(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """log(sum(exp(x))) over `dim`, stable for large logits and for rows of -inf."""
        axes = _axes("logsumexp", dim, axis, self.ndim)
        x = self if self.dtype.kind == "f" else self.astype(dtypes.get_default_dtype())
        return red.LogSumExp.apply(x, axis=axes, keepdims=_keep(keepdim, keepdims))

    def norm(
        self,
        p: Any = "fro",
        dim: Any = None,
        keepdim: bool = False,
        dtype: Any = None,
        *,
        axis: Any = None,
        keepdims: bool | None = None,
    ) -> Any:
        """Vector p-norm over `dim` (p = 2 / 'fro', 1, inf, -inf, 0 or any real); 0-safe gradient."""
        if p is None or p == "fro":
            p = 2.0
        if isinstance(p, str) or not isinstance(p, (int, float)):
            raise ValueError(f"norm: p={p!r} is not supported (use a number, inf or 'fro')")
        x = _cast(self, dtype)
        _need_float(x, "norm")
        axes = _axes("norm", dim, axis, self.ndim)
        return red.Norm.apply(x, p=float(p), axis=axes, keepdims=_keep(keepdim, keepdims))

    # ---- extremes ------------------------------------------------------------------------------
    def _extreme(self, op: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Any:
        if isinstance(dim, TensorBase):  # torch.max(a, b): elementwise
            return (ew.Maximum if op == "max" else ew.Minimum).apply(*self._operand(dim))
        dim = pick(op, dim, axis)
        if dim is None:
            _nonempty(self, None, op)
            return red.AMax.apply(self, axis=None, keepdims=False, largest=op == "max")
        return _select(
            self, op, dim, _keep(keepdim, keepdims), lambda a, ax: srt.argextreme(a, ax, op == "max"), op
        )

    def max(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """No dim: the max (ties share the gradient). With dim: (values, indices). A Tensor: maximum."""
        return self._extreme("max", dim, keepdim, axis, keepdims)

    def min(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """No dim: the min (ties share the gradient). With dim: (values, indices). A Tensor: minimum."""
        return self._extreme("min", dim, keepdim, axis, keepdims)

    def amax(
        self, dim: Any = (), keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """Max over one or several dims (all by default); tied maxima share the gradient evenly."""
        axes = _axes("amax", dim, axis, self.ndim)
        _nonempty(self, axes, "amax")
        return red.AMax.apply(self, axis=axes, keepdims=_keep(keepdim, keepdims), largest=True)

    def amin(
        self, dim: Any = (), keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """Min over one or several dims (all by default); tied minima share the gradient evenly."""
        axes = _axes("amin", dim, axis, self.ndim)
        _nonempty(self, axes, "amin")
        return red.AMax.apply(self, axis=axes, keepdims=_keep(keepdim, keepdims), largest=False)

    def _arg(self, op: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Any:
        dim = pick(op, dim, axis)
        fn = np.argmax if op == "argmax" else np.argmin
        if dim is None:
            _nonempty(self, None, op)
            pos = fn(self._data.reshape(-1))
            keep = _keep(keepdim, keepdims)
            return _index(self, np.reshape(pos, (1,) * self.ndim) if keep else pos)
        flat = self if self.ndim else self.reshape(1)
        ax = normalize_axis(dim, self.ndim, op)
        _nonempty(flat, (ax,), op)
        idx = fn(flat._data, axis=ax, keepdims=_keep(keepdim, keepdims) and self.ndim > 0)
        return _index(self, idx.reshape(()) if self.ndim == 0 else idx)

    def argmax(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """Index of the first max (over the flattened tensor when dim is None), as int64."""
        return self._arg("argmax", dim, keepdim, axis, keepdims)

    def argmin(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """Index of the first min (over the flattened tensor when dim is None), as int64."""
        return self._arg("argmin", dim, keepdim, axis, keepdims)

    # ---- scans and softmax ---------------------------------------------------------------------
    def cumsum(self, dim: int | None = None, *, dtype: Any = None, axis: Any = None) -> Any:
        """Running sum along `dim`; integer and bool inputs give int64."""
        x = _as_int64(self) if dtype is None else _cast(self, dtype)
        return _scan(x, "cumsum", pick("cumsum", dim, axis), Cumsum)

    def cumprod(self, dim: int | None = None, *, dtype: Any = None, axis: Any = None) -> Any:
        """Running product along `dim`; the gradient is exact with zeros in the input."""
        x = _as_int64(self) if dtype is None else _cast(self, dtype)
        return _scan(x, "cumprod", pick("cumprod", dim, axis), Cumprod)

    def softmax(self, dim: int | None = None, dtype: Any = None, *, axis: int | None = None) -> Any:
        """exp(x) / sum(exp(x)) along `dim` (or NumPy's `axis`; default the last), computed
        stably."""
        return _softmax_like(self, "softmax", Softmax, _softmax_dim("softmax", dim, axis), dtype)

    def log_softmax(self, dim: int | None = None, dtype: Any = None, *, axis: int | None = None) -> Any:
        """x - logsumexp(x) along `dim` (or NumPy's `axis`; default the last), computed stably."""
        return _softmax_like(self, "log_softmax", LogSoftmax, _softmax_dim("log_softmax", dim, axis), dtype)

    # ---- sorting and order statistics ----------------------------------------------------------
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """(values, indices) sorted along `dim`; always stable, NaN sorts as the largest."""
        flat, idx, axis = _order(self, "sort", dim, descending)
        values = srt.take_along(flat, idx, axis)
        if self.ndim == 0:
            return return_types.sort(values.reshape(()), _index(self, idx.reshape(())))
        return return_types.sort(values, _index(self, idx))

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """The int64 indices that sort the tensor along `dim` (stable)."""
        _, idx, _ = _order(self, "argsort", dim, descending)
        return _index(self, idx.reshape(self.shape))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """(values, indices) of the k largest (or smallest) along `dim`, always in sorted order."""
        flat, idx, axis = _order(self, "topk", dim, largest)
        n = flat.shape[axis]
        if not 0 <= k <= n:
            raise OpIndexError(
                f"topk: k={k} is out of range for dim {dim} of size {n} (input shape {self.shape})"
            )
        idx = np.take(idx, np.arange(k), axis=axis)
        values = srt.take_along(flat, idx, axis)
        if self.ndim == 0:
            return return_types.topk(values.reshape(()), _index(self, idx.reshape(())))
        return return_types.topk(values, _index(self, idx))

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        """(values, indices) of the k-th smallest element (k counts from 1) along `dim`."""
        size = self.shape[normalize_axis(dim, self.ndim, "kthvalue")] if self.ndim else 1
        if not 1 <= k <= size:
            raise OpIndexError(
                f"kthvalue: k={k} is out of range for dim {dim} of size {size} (input shape {self.shape})"
            )
        return _select(
            self,
            "kthvalue",
            dim,
            keepdim,
            lambda a, ax: np.take(srt.argsort(a, ax), [k - 1], axis=ax),
            "kthvalue",
        )

    def median(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The lower median: a value when dim is None, else (values, indices). NaN propagates."""
        if dim is None:
            return _select(self.reshape(-1), "median", 0, False, _median_index, "median").values
        return _select(self, "median", dim, keepdim, _median_index, "median")

    # ---- logical --------------------------------------------------------------------------------
    def all(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """True where every element along `dim` is nonzero (a bool tensor)."""
        axes = _axes("all", dim, axis, self.ndim)
        return type(self)._make(
            np.asarray(np.all(self._data, axis=axes, keepdims=_keep(keepdim, keepdims))), False
        )

    def any(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool | None = None
    ) -> Any:
        """True where some element along `dim` is nonzero (a bool tensor)."""
        axes = _axes("any", dim, axis, self.ndim)
        return type(self)._make(
            np.asarray(np.any(self._data, axis=axes, keepdims=_keep(keepdim, keepdims))), False
        )

    def count_nonzero(self, dim: Any = None, *, axis: Any = None) -> Any:
        """How many elements along `dim` are nonzero (int64)."""
        axes = _axes("count_nonzero", dim, axis, self.ndim)
        return _index(self, np.count_nonzero(self._data, axis=axes))


def _median_index(a: np.ndarray, axis: int) -> np.ndarray:
    """Index of the lower median along `axis`; of the first NaN where a slice holds one."""
    order = srt.argsort(a, axis)
    idx = np.take(order, [(a.shape[axis] - 1) // 2], axis=axis)
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    has_nan = nan.any(axis=axis, keepdims=True)
    first_nan = np.argmax(nan, axis=axis, keepdims=True)
    return np.where(has_nan, first_nan, idx).astype(np.int64)


def _softmax_dim(op: str, dim: Any, axis: Any) -> int:
    dim = pick(op, dim, axis)
    return -1 if dim is None else dim


def _softmax_like(x: Any, op: str, fn: type[Function], dim: int, dtype: Any) -> Any:
    x = _cast(x, dtype)
    _need_float(x, op)
    axis = normalize_axis(dim, x.ndim, op)
    return fn.apply(x, axis=axis if x.ndim else None)
