"""The in-place Tensor methods (`add_`, `mul_`, `copy_`, `zero_`, `normal_`, `relu_`, `x[i] = v`, ...).

Each writes into the tensor's own memory and bumps its version (see `autograd_nn.inplace` for the
rules, and for how a change inside a recorded graph is itself recorded). Outside a recorded graph
the arithmetic ones that optimizers and initialisers use (`add_`, `mul_`, `copy_`, `fill_`, ...) go
straight to NumPy's in-place ufuncs; every other one computes its out-of-place form and writes it
back, so each has exactly the maths (and, inside a graph, the gradient) of that form.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import TensorBase
from ..inplace import apply_inplace, apply_inplace_view, writes_recorded
from ..ops import index as ix
from ..ops.index_put import IndexPut, index_steps
from ..random import resolve
from ..shapes import normalize_axis
from .convert import as_array

if TYPE_CHECKING:
    from .tensor import Tensor

_FALSE = np.zeros((), dtype=bool)  # a where() condition that keeps the new values everywhere


def _array(value: Any) -> Any:
    """A Tensor's array, a NumPy array, or a Python number as is (for NumPy's in-place ufuncs)."""
    if isinstance(value, TensorBase):
        return value._data
    if isinstance(value, (int, float, bool, np.generic)):
        return value
    return as_array(value)


def _rng(generator: Any) -> np.random.Generator:
    """The NumPy Generator behind a `generator=` argument (None: the library's own)."""
    return resolve(generator)


def _old_alpha_form(op: str, other: Any, args: tuple, alpha: Any) -> tuple[Any, Any]:
    """PyTorch's deprecated `add_(alpha, other)` form, still found in older optimizer code."""
    if not args:
        return other, alpha
    if len(args) == 1 and isinstance(other, (int, float)) and isinstance(args[0], TensorBase):
        return args[0], other
    raise TypeError(f"{op}: takes one tensor and a keyword alpha=, got extra arguments {args!r}")


class InplaceMixin(TensorBase):
    __slots__ = ()

    if TYPE_CHECKING:  # defined by the other mixins of Tensor (shaping, placement) and Tensor itself

        def numel(self) -> int: ...
        def reshape(self, *shape: Any) -> Any: ...
        def clone(self) -> Any: ...
        def scatter_add(self, dim: int, index: Any, src: Any) -> Any: ...

    # ---- the two ways of writing (see the module docstring) ------------------------------------
    def _ufunc_(self, op: str, ufunc: Any, value: Any) -> Any:
        """`ufunc(self, value, out=self)`: the fast path outside a recorded graph."""
        writing = self._inplace(op)  # checks first: its errors are not the ones translated below
        try:
            with writing as data:
                ufunc(data, value, out=data, casting="same_kind")
        except TypeError:
            got = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise DTypeError(
                f"{op}: result type of {self.dtype} and {got} can't be cast to the "
                f"desired output type {self.dtype}"
            ) from None
        except ValueError as err:
            raise ShapeError(
                f"{op}: operand of shape {np.shape(value)} does not broadcast to the "
                f"tensor's shape {self.shape} ({err})"
            ) from None
        return self

    def _apply_(self, op: str, compute: Callable[[Any], Any], *operands: Any) -> Any:
        return apply_inplace(self, op, compute, operands)

    def _fill_values_(self, op: str, values: Any) -> Any:
        """Overwrite every element with `values` (an array or scalar); the gradient to the old
        values is zero, to a values tensor that requires grad it is the output gradient."""
        if not writes_recorded(self, (values,)):
            with self._inplace(op) as data:
                np.copyto(data, _array(values), casting="unsafe")
            return self
        return self._apply_(
            op,
            lambda s: s.where(
                _FALSE,
                values if isinstance(values, TensorBase) else s._make(np.asarray(values, s.dtype), False),
            ),
            values,
        )

    # ---- arithmetic -------------------------------------------------------------------------------
    def add_(self, other: Any, *args: Any, alpha: Any = 1) -> Any:
        other, alpha = _old_alpha_form("add_", other, args, alpha)
        if writes_recorded(self, (other,)):
            return self._apply_("add_", lambda s: s.add(other, alpha=alpha), other)
        value = _array(other)
        return self._ufunc_("add_", np.add, value if alpha == 1 else value * alpha)

    def sub_(self, other: Any, *args: Any, alpha: Any = 1) -> Any:
        other, alpha = _old_alpha_form("sub_", other, args, alpha)
        return self.add_(other, alpha=-alpha)

    subtract_ = sub_

    def mul_(self, other: Any) -> Any:
        if writes_recorded(self, (other,)):
            return self._apply_("mul_", lambda s: s * other, other)
        return self._ufunc_("mul_", np.multiply, _array(other))

    multiply_ = mul_

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        if rounding_mode is not None or writes_recorded(self, (other,)):
            return self._apply_("div_", lambda s: s.div(other, rounding_mode=rounding_mode), other)
        return self._ufunc_("div_", np.true_divide, _array(other))

    divide_ = true_divide_ = div_

    def __iadd__(self, other: Any) -> Any:
        return self.add_(other)

    def __isub__(self, other: Any) -> Any:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Any:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Any:
        return self.div_(other)

    def pow_(self, exponent: Any) -> Any:
        return self._apply_("pow_", lambda s: s**exponent, exponent)

    def __ipow__(self, exponent: Any) -> Any:
        return self.pow_(exponent)

    def addcmul_(self, tensor1: Any, tensor2: Any, *args: Any, value: Any = 1) -> Any:
        """self += value * tensor1 * tensor2 (the old `addcmul_(value, t1, t2)` form works too)."""
        if args and isinstance(tensor1, (int, float)):
            value, tensor1, tensor2 = tensor1, tensor2, args[0]
        return self._apply_("addcmul_", lambda s: s + tensor1 * tensor2 * value, tensor1, tensor2)

    def addcdiv_(self, tensor1: Any, tensor2: Any, *args: Any, value: Any = 1) -> Any:
        """self += value * tensor1 / tensor2 (the old `addcdiv_(value, t1, t2)` form works too)."""
        if args and isinstance(tensor1, (int, float)):
            value, tensor1, tensor2 = tensor1, tensor2, args[0]
        return self._apply_("addcdiv_", lambda s: s + tensor1 / tensor2 * value, tensor1, tensor2)

    def lerp_(self, end: Any, weight: Any) -> Any:
        return self._apply_("lerp_", lambda s: s.lerp(end, weight), end, weight)

    def clamp_(self, min: Any = None, max: Any = None) -> Any:
        return self._apply_("clamp_", lambda s: s.clamp(min, max), min, max)

    clip_ = clamp_

    def clamp_min_(self, min: Any) -> Any:
        return self._apply_("clamp_min_", lambda s: s.clamp_min(min), min)

    def clamp_max_(self, max: Any) -> Any:
        return self._apply_("clamp_max_", lambda s: s.clamp_max(max), max)

    # ---- pointwise functions ----------------------------------------------------------------------
    def _unary_(self, op: str, method: str, *args: Any) -> Any:
        return self._apply_(op, lambda s: getattr(s, method)(*args))

    def neg_(self) -> Any:
        return self._unary_("neg_", "neg")

    negative_ = neg_

    def abs_(self) -> Any:
        return self._unary_("abs_", "abs")

    absolute_ = abs_

    def exp_(self) -> Any:
        return self._unary_("exp_", "exp")

    def log_(self) -> Any:
        return self._unary_("log_", "log")

    def sqrt_(self) -> Any:
        return self._unary_("sqrt_", "sqrt")

    def rsqrt_(self) -> Any:
        return self._unary_("rsqrt_", "rsqrt")

    def reciprocal_(self) -> Any:
        return self._unary_("reciprocal_", "reciprocal")

    def square_(self) -> Any:
        return self._unary_("square_", "square")

    def sign_(self) -> Any:
        return self._unary_("sign_", "sign")

    def sin_(self) -> Any:
        return self._unary_("sin_", "sin")

    def cos_(self) -> Any:
        return self._unary_("cos_", "cos")

    def tanh_(self) -> Any:
        return self._unary_("tanh_", "tanh")

    def sigmoid_(self) -> Any:
        return self._unary_("sigmoid_", "sigmoid")

    def relu_(self) -> Any:
        return self._unary_("relu_", "relu")

    def floor_(self) -> Any:
        return self._unary_("floor_", "floor")

    def ceil_(self) -> Any:
        return self._unary_("ceil_", "ceil")

    def round_(self, decimals: int = 0) -> Any:
        return self._unary_("round_", "round", decimals)

    def trunc_(self) -> Any:
        return self._unary_("trunc_", "trunc")

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Any:
        return self._unary_("nan_to_num_", "nan_to_num", nan, posinf, neginf)

    # ---- overwriting ------------------------------------------------------------------------------
    def zero_(self) -> Any:
        return self._fill_values_("zero_", 0)

    def fill_(self, value: Any) -> Any:
        if isinstance(value, TensorBase) and value.ndim != 0:
            raise ShapeError(f"fill_: only a 0-d tensor can fill a tensor, got shape {value.shape}")
        return self._fill_values_("fill_", value)

    def copy_(self, src: Any, non_blocking: bool = False) -> Any:
        """Copy `src`'s values in (broadcast to this shape, cast to this dtype); `non_blocking` is
        accepted for PyTorch's device-transfer signature and has nothing to do on the CPU."""
        arr = src._data if isinstance(src, TensorBase) else as_array(src)
        try:
            np.broadcast_to(arr, self.shape)
        except ValueError:
            raise ShapeError(
                f"copy_: source of shape {arr.shape} does not broadcast to the "
                f"destination's shape {self.shape}"
            ) from None
        if isinstance(src, TensorBase) and src.requires_grad and src.dtype != self.dtype:
            src = cast("Tensor", src).astype(self.dtype)  # TensorBase is a Tensor's state only
        return self._fill_values_("copy_", src if isinstance(src, TensorBase) else arr)

    def masked_fill_(self, mask: Any, value: Any) -> Any:
        return self._apply_("masked_fill_", lambda s: s.masked_fill(mask, value), value)

    def __setitem__(self, index: Any, value: Any) -> None:
        """x[index] = value, with PyTorch's indexing (integer and bool tensors, lists, slices)."""
        steps, advanced = index_steps(index, self.shape)
        if not writes_recorded(self, (value,)):
            writing = self._inplace("__setitem__")  # checks outside the try below
            try:
                with writing as target:
                    for step in steps[:-1]:
                        target = target[step]
                    target[steps[-1]] = _array(value)
            except ValueError as err:
                raise ShapeError(
                    f"__setitem__: value of shape {np.shape(_array(value))} does not fit "
                    f"the indexed part of a tensor of shape {self.shape}: {err}"
                ) from None
            return
        self._apply_(
            "__setitem__",
            lambda s: IndexPut.apply(s, _as_values(s, value), steps=steps, advanced=advanced),
            value,
        )

    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Any:
        """self[indices] = values (a tuple of index tensors); with accumulate, repeats add up."""
        index = tuple(indices)
        if not accumulate:
            self[index] = values
            return self
        steps, advanced = index_steps(index, self.shape, "index_put_")
        if len(steps) != 1:
            raise ShapeError(
                "index_put_: accumulate=True with integers mixed into advanced indices "
                "is not supported; index with tensors only"
            )
        return self._apply_(
            "index_put_",
            lambda s: (
                s + ix.IndexAdd.apply(_as_values(s, values), index=steps[0], advanced=advanced, shape=s.shape)
            ),
            values,
        )

    def index_fill_(self, dim: int, index: Any, value: Any) -> Any:
        return self._apply_("index_fill_", lambda s: s.index_fill(dim, index, value), value)

    def index_copy_(self, dim: int, index: Any, source: Any) -> Any:
        return self._apply_("index_copy_", lambda s: s.index_copy(dim, index, source), source)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Any:
        return self._apply_("index_add_", lambda s: s.index_add(dim, index, source, alpha=alpha), source)

    def scatter_(
        self, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None
    ) -> Any:
        return self._apply_("scatter_", lambda s: s.scatter(dim, index, src, value=value, reduce=reduce), src)

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Any:
        return self._apply_("scatter_add_", lambda s: s.scatter_add(dim, index, src), src)

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Any:
        """Fill the main diagonal (all dims equal, or a tall matrix; `wrap` as in NumPy)."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise ShapeError(
                f"fill_diagonal_: needs a matrix or a tensor with all dims equal, got shape {self.shape}"
            )
        if writes_recorded(self):
            mask = np.zeros(self.shape, dtype=bool)
            np.fill_diagonal(mask, True, wrap=wrap)
            return self._apply_("fill_diagonal_", lambda s: s.masked_fill(mask, fill_value))
        with self._inplace("fill_diagonal_") as data:
            np.fill_diagonal(data, fill_value, wrap=wrap)
        return self

    # ---- random fills (values drawn from the library's generator unless one is given) ------------
    def _random_(self, op: str, draw: Callable[[np.random.Generator], Any], generator: Any) -> Any:
        if op != "random_" and op != "bernoulli_" and op != "geometric_" and self.dtype.kind != "f":
            raise DTypeError(f"{op}: needs a floating-point tensor, got {self.dtype}")
        return self._fill_values_(op, np.asarray(draw(_rng(generator))))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Any:
        if not std >= 0:
            raise ValueError(f"normal_: std must be non-negative, got {std}")
        return self._random_("normal_", lambda g: g.normal(mean, std, self.shape), generator)

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None, **kwargs: Any) -> Any:
        a, b = kwargs.pop("from", a), kwargs.pop("to", b)
        if kwargs:
            raise TypeError(f"uniform_: unexpected arguments {sorted(kwargs)}")
        if not a <= b:
            raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
        return self._random_("uniform_", lambda g: g.uniform(a, b, self.shape), generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Any:
        prob = p._data if isinstance(p, TensorBase) else p
        if np.any(np.asarray(prob) < 0) or np.any(np.asarray(prob) > 1):
            raise ValueError("bernoulli_: p must be in [0, 1]")
        return self._random_("bernoulli_", lambda g: g.random(self.shape) < prob, generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Any:
        if not lambd > 0:
            raise ValueError(f"exponential_: lambd must be positive, got {lambd}")
        return self._random_("exponential_", lambda g: g.exponential(1.0 / lambd, self.shape), generator)

    def geometric_(self, p: float, *, generator: Any = None) -> Any:
        if not 0 < p <= 1:
            raise ValueError(f"geometric_: p must be in (0, 1], got {p}")
        return self._random_("geometric_", lambda g: g.geometric(p, self.shape), generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Any:
        return self._random_("log_normal_", lambda g: g.lognormal(mean, std, self.shape), generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Any:
        return self._random_("cauchy_", lambda g: median + sigma * g.standard_cauchy(self.shape), generator)

    def random_(self, *args: Any, generator: Any = None, **kwargs: Any) -> Any:
        """Integers drawn uniformly: `random_(to)` from [0, to), `random_(from, to)`, or with no
        bounds [0, 2**mantissa] for floats (the integers the dtype holds exactly), [0, max] for ints."""
        low, high = 0, None
        if "from" in kwargs or "to" in kwargs:
            low, high = kwargs.pop("from", 0), kwargs.pop("to", None)
        if len(args) == 1:
            high = args[0]
        elif len(args) == 2:
            low, high = args
        elif args:
            raise TypeError(f"random_: takes at most 2 positional arguments, got {len(args)}")
        if high is None:
            high = (
                2 ** np.finfo(self.dtype).nmant + 1
                if self.dtype.kind == "f"
                else int(np.iinfo(self.dtype).max)
                if self.dtype.kind in "iu"
                else 2
            )
        if not low < high:
            raise ValueError(f"random_: expects from < to, got from={low}, to={high}")
        return self._random_("random_", lambda g: g.integers(low, high, self.shape), generator)

    # ---- shape changes (the same memory seen with another shape) ---------------------------------
    def unsqueeze_(self, dim: int) -> Any:
        return apply_inplace_view(self, "unsqueeze_", lambda s: s.unsqueeze(dim))

    def squeeze_(self, dim: Any = None) -> Any:
        return apply_inplace_view(self, "squeeze_", lambda s: s.squeeze(dim))

    def t_(self) -> Any:
        return apply_inplace_view(self, "t_", lambda s: s.t())

    def transpose_(self, dim0: int, dim1: int) -> Any:
        return apply_inplace_view(self, "transpose_", lambda s: s.transpose(dim0, dim1))

    def swapaxes_(self, axis0: int, axis1: int) -> Any:
        return self.transpose_(axis0, axis1)

    swapdims_ = swapaxes_

    def resize_(self, *sizes: Any) -> Any:
        """Only the number-preserving case (a reshape), as needed by ported code; PyTorch's
        reallocation to a different number of elements is refused."""
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        if math.prod(shape) != self.numel():
            raise ShapeError(
                f"resize_: changing the number of elements ({self.numel()} -> "
                f"{math.prod(shape)}) is not supported; make a new tensor"
            )
        return apply_inplace_view(self, "resize_", lambda s: s.reshape(shape))

    # ---- out-of-place forms that only the in-place methods above needed so far -------------------
    def scatter(
        self, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None
    ) -> Any:
        """A copy with `src` (or the scalar `value`) written at `index` along `dim` (torch.scatter)."""
        if src is not None and value is not None:
            raise TypeError("scatter: give src or value, not both")
        src = value if src is None else src
        if src is None:
            raise TypeError("scatter: missing src (a tensor) or value (a scalar)")
        if reduce is not None:
            if reduce != "add":
                raise ValueError(
                    f"scatter: reduce={reduce!r} is not supported (use 'add', or scatter_reduce)"
                )
            return self.scatter_add(
                dim,
                index,
                src
                if isinstance(src, TensorBase)
                else self._make(np.full(np.shape(_array(index)), src, self.dtype), False),
            )
        d = normalize_axis(dim, self.ndim, "scatter") if self.ndim else 0
        idx = ix._int_index(index, "scatter")
        if self.ndim == 0:
            flat_src = cast("Tensor", src).reshape(-1) if isinstance(src, TensorBase) else src
            return self.reshape(1).scatter(0, idx.reshape(-1), flat_src).reshape(())
        grid = ix._gather_index("scatter", self.shape, d, idx)
        values = _as_values(self, src)
        if values.ndim:
            if values.ndim != idx.ndim or any(i > n for i, n in zip(idx.shape, values.shape)):
                raise ShapeError(f"scatter: index shape {idx.shape} must not exceed src shape {values.shape}")
            if values.shape != idx.shape:
                values = values[tuple(slice(0, n) for n in idx.shape)]
        return IndexPut.apply(self, values, steps=(grid,), advanced=True)

    def index_fill(self, dim: int, index: Any, value: Any) -> Any:
        """A copy with the slices at `index` along `dim` set to `value` (a scalar or 0-d tensor)."""
        steps = _dim_index_steps("index_fill", self, dim, index)
        return IndexPut.apply(self, _as_values(self, value), steps=steps, advanced=True)

    def index_copy(self, dim: int, index: Any, source: Any) -> Any:
        """A copy with the slices at `index` along `dim` replaced by those of `source`."""
        steps = _dim_index_steps("index_copy", self, dim, index)
        values = _as_values(self, source)
        d = normalize_axis(dim, self.ndim, "index_copy")
        want = self.shape[:d] + (steps[0][-1].size,) + self.shape[d + 1 :]
        if values.shape != want:
            raise ShapeError(
                f"index_copy: source of shape {values.shape} does not match a tensor of "
                f"shape {self.shape} indexed along dim {dim}"
            )
        return IndexPut.apply(self, values, steps=steps, advanced=True)

    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Any:
        return self.clone().index_put_(indices, values, accumulate)


def _as_values(like: Any, value: Any) -> Any:
    """`value` as a Tensor of `like`'s dtype (differentiably, if it is a Tensor)."""
    if isinstance(value, TensorBase):
        return value if value.dtype == like.dtype else cast("Tensor", value).astype(like.dtype)
    return like._make(np.asarray(_array(value)).astype(like.dtype), False)  # floats truncate


def _dim_index_steps(op: str, x: Any, dim: int, index: Any) -> tuple:
    d = normalize_axis(dim, x.ndim, op)
    idx = ix._int_index(index, op).reshape(-1)
    ix._check_ints(op, idx, x.shape[d], d, x.shape)
    return ((slice(None),) * d + (idx,),)
