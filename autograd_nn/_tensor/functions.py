"""The `autograd_nn.<name>(input, ...)` forms of the Tensor methods (`torch.exp(x)`, `torch.cat`).

Each accepts what PyTorch's accepts: a Tensor, or a list, scalar or ndarray that becomes a constant
Tensor; binary functions take a scalar on either side. Most are the method of the same name, made a
function by `_unary` / `_binary` (which copy its signature and docstring); the rest are written out.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import TensorBase
from ..ops import diag as dg
from ..ops import index as ix
from ..ops import join as jn
from ..ops import movement as mv
from ..ops.einsum import einsum as _einsum
from ..ops.pad import pad
from .factories import as_tensor
from .tensor import Tensor

# __all__ stays grouped by family, as the module reads (not one name per line)
# fmt: off
__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "neg", "negative",
    "abs", "absolute", "square", "reciprocal", "sqrt", "rsqrt", "exp", "exp2", "expm1", "log", "log2",
    "log10", "log1p", "sign", "sin", "cos", "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan",
    "atan2", "arctan2", "sinh", "cosh", "tanh", "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh",
    "erf", "erfc", "erfinv", "sigmoid", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu",
    "silu", "mish", "softplus", "logsigmoid", "hardtanh", "hardsigmoid", "hardswish", "floor", "ceil",
    "round", "trunc", "fix", "frac", "remainder", "fmod", "floor_divide", "clamp", "clip", "clamp_min",
    "clamp_max", "maximum", "minimum", "where", "lerp", "isnan", "isinf", "isfinite", "nan_to_num",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "sum", "mean", "var", "std", "var_mean",
    "std_mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp", "cumsum", "cumprod",
    "softmax", "log_softmax", "norm", "sort", "argsort", "topk", "kthvalue", "median", "all", "any",
    "count_nonzero", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose",
    "swapaxes", "swapdims", "movedim", "moveaxis", "broadcast_to", "broadcast_tensors",
    "repeat_interleave", "tile", "flip", "roll", "cat", "concat", "concatenate", "stack", "hstack",
    "vstack", "split", "chunk", "unbind", "narrow", "gather", "scatter_add", "index_select", "index_add",
    "masked_fill", "masked_select", "take_along_dim", "tril", "triu", "diagonal", "diag", "diag_embed",
    "trace", "einsum", "clone", "pad",
    "copysign", "logaddexp", "logaddexp2", "isclose", "allclose", "equal", "meshgrid", "scatter",
    "scatter_reduce",
]
# fmt: on


_t = as_tensor  # a Tensor as is; a scalar, list or ndarray as a new constant Tensor


def _pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Both operands as Tensors of the promoted dtype, whichever side the Tensor is on."""
    if isinstance(a, Tensor):
        return a._operand(b)
    if isinstance(b, Tensor):
        b, a = b._operand(a)
        return a, b
    return _t(a)._operand(b)


def _like_method(function: Callable[..., Any], name: str, doc: str) -> Callable[..., Any]:
    """Give `function` the name, docstring and signature (self -> input) of the method `name`."""
    method = getattr(Tensor, name)
    sig = inspect.signature(method)
    params = list(sig.parameters.values())
    function.__signature__ = sig.replace(parameters=[params[0].replace(name="input"), *params[1:]])  # type: ignore[attr-defined]
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc + (f"\n\n{method.__doc__}" if method.__doc__ else "")
    return function


def _unary(name: str) -> Callable[..., Any]:
    """`autograd_nn.<name>(input, ...)`: the Tensor method of the same name, applied to `input`."""

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_t(input), name)(*args, **kwargs)

    return _like_method(function, name, f"`input.{name}(...)` as a function (like `torch.{name}`).")


def _binary(name: str) -> Callable[..., Any]:
    """`autograd_nn.<name>(input, other, ...)` where either side may be a scalar or an ndarray."""

    def function(input: Any, other: Any, *args: Any, **kwargs: Any) -> Any:
        a, b = _pair(input, other)
        return getattr(a, name)(b, *args, **kwargs)

    return _like_method(
        function, name, f"`input.{name}(other)`, scalars allowed on either side (like `torch.{name}`)."
    )


# ---- pointwise ------------------------------------------------------------------------------------
neg = _unary("neg")
negative = _unary("negative")
abs = _unary("abs")
absolute = _unary("absolute")
square = _unary("square")
reciprocal = _unary("reciprocal")
sqrt = _unary("sqrt")
rsqrt = _unary("rsqrt")
exp = _unary("exp")
exp2 = _unary("exp2")
expm1 = _unary("expm1")
log = _unary("log")
log2 = _unary("log2")
log10 = _unary("log10")
log1p = _unary("log1p")
sign = _unary("sign")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
asin = _unary("asin")
arcsin = _unary("arcsin")
acos = _unary("acos")
arccos = _unary("arccos")
atan = _unary("atan")
arctan = _unary("arctan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
asinh = _unary("asinh")
arcsinh = _unary("arcsinh")
acosh = _unary("acosh")
arccosh = _unary("arccosh")
atanh = _unary("atanh")
arctanh = _unary("arctanh")
erf = _unary("erf")
erfc = _unary("erfc")
erfinv = _unary("erfinv")
sigmoid = _unary("sigmoid")
relu = _unary("relu")
relu6 = _unary("relu6")
leaky_relu = _unary("leaky_relu")
elu = _unary("elu")
selu = _unary("selu")
celu = _unary("celu")
gelu = _unary("gelu")
silu = _unary("silu")
mish = _unary("mish")
softplus = _unary("softplus")
logsigmoid = _unary("logsigmoid")
hardtanh = _unary("hardtanh")
hardsigmoid = _unary("hardsigmoid")
hardswish = _unary("hardswish")
floor = _unary("floor")
ceil = _unary("ceil")
round = _unary("round")
trunc = _unary("trunc")
fix = _unary("fix")
frac = _unary("frac")
clamp = _unary("clamp")
clip = _unary("clip")
clamp_min = _unary("clamp_min")
clamp_max = _unary("clamp_max")
lerp = _unary("lerp")
isnan = _unary("isnan")
isinf = _unary("isinf")
isfinite = _unary("isfinite")
nan_to_num = _unary("nan_to_num")
logical_not = _unary("logical_not")
bitwise_not = _unary("bitwise_not")

add = _binary("add")
sub = _binary("sub")
subtract = _binary("subtract")
mul = _binary("mul")
multiply = _binary("multiply")
div = _binary("div")
divide = _binary("divide")
true_divide = _binary("true_divide")
atan2 = _binary("atan2")
arctan2 = _binary("arctan2")
remainder = _binary("remainder")
fmod = _binary("fmod")
floor_divide = _binary("floor_divide")
maximum = _binary("maximum")
minimum = _binary("minimum")
logical_and = _binary("logical_and")
logical_or = _binary("logical_or")
logical_xor = _binary("logical_xor")
bitwise_and = _binary("bitwise_and")
bitwise_or = _binary("bitwise_or")
bitwise_xor = _binary("bitwise_xor")
bitwise_left_shift = _binary("bitwise_left_shift")
bitwise_right_shift = _binary("bitwise_right_shift")
copysign = _binary("copysign")
logaddexp = _binary("logaddexp")
logaddexp2 = _binary("logaddexp2")


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    """|input - other| <= atol + rtol * |other| elementwise, as a bool tensor (torch.isclose)."""
    return _t(input).isclose(other, rtol, atol, equal_nan)


def allclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when all elements are isclose (torch.allclose)."""
    return _t(input).allclose(other, rtol, atol, equal_nan)


def equal(input: Any, other: Any) -> bool:
    """True when both have the same shape and values (torch.equal)."""
    return _t(input).equal(other)


def pow(input: Any, exponent: Any) -> Any:
    """input ** exponent; either may be a scalar (torch.pow)."""
    return input**exponent if isinstance(input, TensorBase) else _t(exponent).__rpow__(input)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """Elements of `input` where `condition` is true, else of `other`; scalars allowed on both sides.

    Nonzero conditions count as true. With the condition alone, the indices of its nonzero elements
    (a tuple of int64 tensors, like torch.where(condition)).
    """
    cond = np.asarray(condition._data if isinstance(condition, TensorBase) else condition)
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64), False) for i in np.nonzero(cond))
    if input is None or other is None:
        raise TypeError("where: give both input and other, or the condition alone")
    a, b = _pair(input, other)
    return a.where(cond, b)


# ---- reductions -----------------------------------------------------------------------------------
sum = _unary("sum")
mean = _unary("mean")
var = _unary("var")
std = _unary("std")
prod = _unary("prod")
max = _unary("max")
min = _unary("min")
amax = _unary("amax")
amin = _unary("amin")
argmax = _unary("argmax")
argmin = _unary("argmin")
logsumexp = _unary("logsumexp")
cumsum = _unary("cumsum")
cumprod = _unary("cumprod")
softmax = _unary("softmax")
log_softmax = _unary("log_softmax")
norm = _unary("norm")
sort = _unary("sort")
argsort = _unary("argsort")
topk = _unary("topk")
kthvalue = _unary("kthvalue")
median = _unary("median")
all = _unary("all")
any = _unary("any")
count_nonzero = _unary("count_nonzero")


def var_mean(
    input: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, **kw: Any
) -> tuple:
    """(var, mean) over `dim`, like `torch.var_mean` (same arguments as `var`)."""
    x = _t(input)
    mean_kw = {k: v for k, v in kw.items() if k in ("axis", "keepdims")}
    return x.var(dim, unbiased, keepdim, **kw), x.mean(dim, keepdim, **mean_kw)


def std_mean(
    input: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, **kw: Any
) -> tuple:
    """(std, mean) over `dim`, like `torch.std_mean` (same arguments as `std`)."""
    x = _t(input)
    mean_kw = {k: v for k, v in kw.items() if k in ("axis", "keepdims")}
    return x.std(dim, unbiased, keepdim, **kw), x.mean(dim, keepdim, **mean_kw)


# ---- shaping, joining, indexing -------------------------------------------------------------------
def reshape(input: Any, shape: Sequence[int]) -> Any:
    return _t(input).reshape(shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    return _t(input).flatten(start_dim, end_dim)


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Any:
    return _t(input).unflatten(dim, sizes)


def squeeze(input: Any, dim: Any = None) -> Any:
    return _t(input).squeeze(dim)


def unsqueeze(input: Any, dim: int) -> Any:
    return _t(input).unsqueeze(dim)


def permute(input: Any, dims: Sequence[int]) -> Any:
    return _t(input).permute(*dims)


def transpose(input: Any, dim0: int, dim1: int) -> Any:
    return _t(input).transpose(dim0, dim1)


def swapaxes(input: Any, axis0: int, axis1: int) -> Any:
    return _t(input).swapaxes(axis0, axis1)


swapdims = swapaxes


def movedim(input: Any, source: Any, destination: Any) -> Any:
    return _t(input).movedim(source, destination)


moveaxis = movedim


def broadcast_to(input: Any, shape: Sequence[int]) -> Any:
    return _t(input).broadcast_to(shape)


def broadcast_tensors(*tensors: Any) -> tuple:
    """Expand all tensors to their common broadcast shape."""
    try:
        shape = np.broadcast_shapes(*[t.shape for t in tensors])
    except ValueError:
        raise ShapeError(
            f"broadcast_tensors: shapes {[tuple(t.shape) for t in tensors]} do not broadcast"
        ) from None
    return tuple(t.broadcast_to(shape) for t in tensors)


def repeat_interleave(input: Any, repeats: Any, dim: int | None = None) -> Any:
    return _t(input).repeat_interleave(repeats, dim)


def tile(input: Any, dims: Sequence[int]) -> Any:
    return _t(input).tile(*dims)


def flip(input: Any, dims: Sequence[int]) -> Any:
    return mv.flip(_t(input), dims)


def roll(input: Any, shifts: Any, dims: Any = None) -> Any:
    return _t(input).roll(shifts, dims)


cat = jn.cat
concat = concatenate = jn.cat
stack, hstack, vstack = jn.stack, jn.hstack, jn.vstack


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    return _t(tensor).split(split_size_or_sections, dim)


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:
    return _t(input).chunk(chunks, dim)


def unbind(input: Any, dim: int = 0) -> tuple:
    return _t(input).unbind(dim)


def narrow(input: Any, dim: int, start: int, length: int) -> Any:
    return _t(input).narrow(dim, start, length)


def _on_tensor(fn: Any) -> Any:
    """`fn(input, ...)` with a non-Tensor input (list, ndarray) made a Tensor first."""

    @functools.wraps(fn)
    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(_t(input), *args, **kwargs)

    return function


gather, index_select = map(_on_tensor, (ix.gather, ix.index_select))
masked_fill, masked_select, take_along_dim = map(
    _on_tensor, (ix.masked_fill, ix.masked_select, ix.take_along_dim)
)
tril, triu, diagonal, diag, diag_embed, trace = map(
    _on_tensor, (dg.tril, dg.triu, dg.diagonal, dg.diag, dg.diag_embed, dg.trace)
)


def scatter(
    input: Any, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
) -> Any:
    """torch.scatter: `input.scatter(dim, index, src or value)`."""
    return _t(input).scatter(dim, index, src, value, reduce=reduce)


def scatter_reduce(
    input: Any, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True
) -> Any:
    """torch.scatter_reduce: `input.scatter_reduce(dim, index, src, reduce)`."""
    return _t(input).scatter_reduce(dim, index, src, reduce, include_self=include_self)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D (or 0-d) tensors: output i holds tensors[i]'s values along its
    own dim. indexing='ij' (matrix order, the default, which warns as PyTorch does when not given)
    or 'xy' (Cartesian: the first two dims swapped). The grids are expanded views in the graph."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [_t(t) for t in tensors]
    if not ts:
        raise ShapeError("meshgrid: expects a non-empty list of tensors")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got tensor {i} of shape {t.shape}")
        if t.dtype != ts[0].dtype:
            raise DTypeError(
                f"meshgrid: expects all tensors to have the same dtype, got {ts[0].dtype} and {t.dtype}"
            )
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    sizes = [ts[k].numel() for k in order]
    grids = []
    for i, t in enumerate(ts):
        axis = order.index(i)
        view = t.reshape(*[-1 if a == axis else 1 for a in range(len(ts))])
        grids.append(view.expand(*sizes))
    return tuple(grids)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:
    return ix.scatter_add(_t(input), dim, index, _t(src))


def index_add(input: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Any:
    return ix.index_add(_t(input), dim, index, _t(source), alpha)


def clone(input: Any) -> Any:
    return _t(input).clone()


def einsum(equation: str, *operands: Any) -> Any:
    """torch.einsum: operands given separately or as one list; '...' and implicit output work."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum(equation, *[_t(o) for o in operands])
