"""Pointwise maths and activations as Tensor methods (one line each; the maths is in `ops/`), and the
same operations as module-level functions (`autograd_nn.exp(x)`, `autograd_nn.where(c, a, b)`).

dtype rules follow PyTorch: float-only functions (exp, sin, sigmoid, ...) turn integer and bool tensors
into the default float dtype; sign, abs, relu, clamp, maximum, rounding and remainders keep integers;
bitwise ops take integers and bools only; logical ops and isnan/isinf/isfinite give bool tensors
outside the graph. Binary functions accept a Tensor, a Python scalar or an ndarray on either side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError
from ..function import Function, TensorBase
from ..ops import activation as act
from ..ops import bitwise as bw
from ..ops import elementwise as ew
from ..ops import rounding as rnd
from ..ops import special as sp
from ..ops import unary as un
from .convert import as_array


def _float(x: Any) -> Any:
    """Integer and bool tensors become the default float dtype (as PyTorch's float-only ops do)."""
    return x if x._data.dtype.kind == "f" else x.astype(dtypes.get_default_dtype())


def _same_float(op: str, *xs: Any) -> list:
    """Tensors promoted to one float dtype, for ops defined only on floats (lerp)."""
    dtype = xs[0].dtype
    for x in xs[1:]:
        dtype = dtypes.promote(dtype, x.dtype)
    if dtype.kind != "f":
        got = ", ".join(str(x.dtype) for x in xs)
        raise DTypeError(f"{op}: expected floating-point tensors, got {got}")
    return [x.astype(dtype) for x in xs]


def _no_bool(x: Any, op: str) -> Any:
    if x._data.dtype.kind == "b":
        raise DTypeError(f"{op}: not supported on bool tensors; use logical_not() or ~ to invert a mask")
    return x


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class MathMixin(TensorBase):
    __slots__ = ()

    # ---- arithmetic --------------------------------------------------------------------------
    def add(self, other: Any, *, alpha: Any = 1) -> Any:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Any:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Any:
        return self * other

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        """True division, or with rounding_mode 'floor' / 'trunc' a rounded quotient (zero gradient)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self.floor_divide(other)
        if rounding_mode == "trunc":
            return self._divide_like(other, rnd.TruncDivide, "div")
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")

    subtract, multiply, divide = sub, mul, div

    def true_divide(self, other: Any) -> Any:
        return self / other

    def pow(self, exponent: Any) -> Any:
        return self**exponent

    def neg(self) -> Any:
        return ew.Neg.apply(_no_bool(self, "neg"))

    negative = neg

    def abs(self) -> Any:
        """|x|; the subgradient at 0 is 0."""
        return ew.Abs.apply(_no_bool(self, "abs"))

    absolute = __abs__ = abs

    def square(self) -> Any:
        return self**2

    def reciprocal(self) -> Any:
        return un.Reciprocal.apply(_float(self))

    def sqrt(self) -> Any:
        return un.Sqrt.apply(_float(self))

    def rsqrt(self) -> Any:
        return un.Rsqrt.apply(_float(self))

    def exp(self) -> Any:
        return ew.Exp.apply(_float(self))

    def exp2(self) -> Any:
        return un.Exp2.apply(_float(self))

    def expm1(self) -> Any:
        return un.Expm1.apply(_float(self))

    def log(self) -> Any:
        return ew.Log.apply(_float(self))

    def log2(self) -> Any:
        return un.Log2.apply(_float(self))

    def log10(self) -> Any:
        return un.Log10.apply(_float(self))

    def log1p(self) -> Any:
        return un.Log1p.apply(_float(self))

    def sign(self) -> Any:
        """-1, 0 or 1 (bool stays bool); zero gradient."""
        return self._make(self._data.copy(), False) if self.dtype.kind == "b" else rnd.Sign.apply(self)

    sgn = sign

    # ---- trigonometric, hyperbolic, special ----------------------------------------------------
    def sin(self) -> Any:
        return un.Sin.apply(_float(self))

    def cos(self) -> Any:
        return un.Cos.apply(_float(self))

    def tan(self) -> Any:
        return un.Tan.apply(_float(self))

    def asin(self) -> Any:
        return un.Asin.apply(_float(self))

    def acos(self) -> Any:
        return un.Acos.apply(_float(self))

    def atan(self) -> Any:
        return un.Atan.apply(_float(self))

    def atan2(self, other: Any) -> Any:
        """The angle of the point (other, self); both gradients are 0 at the origin."""
        return ew.Atan2.apply(*(_float(t) for t in self._operand(other)))

    def sinh(self) -> Any:
        return un.Sinh.apply(_float(self))

    def cosh(self) -> Any:
        return un.Cosh.apply(_float(self))

    def tanh(self) -> Any:
        return un.Tanh.apply(_float(self))

    def asinh(self) -> Any:
        return un.Asinh.apply(_float(self))

    def acosh(self) -> Any:
        return un.Acosh.apply(_float(self))

    def atanh(self) -> Any:
        return un.Atanh.apply(_float(self))

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def erf(self) -> Any:
        return sp.Erf.apply(_float(self))

    def erfc(self) -> Any:
        return sp.Erfc.apply(_float(self))

    def erfinv(self) -> Any:
        return sp.Erfinv.apply(_float(self))

    # ---- activations (see ops/activation.py for the subgradients at kinks) -------------------
    def sigmoid(self) -> Any:
        return act.Sigmoid.apply(_float(self))

    def relu(self) -> Any:
        """max(x, 0), integers stay integers; relu'(0) = 0."""
        return act.Relu.apply(self)

    def relu6(self) -> Any:
        return self.hardtanh(0.0, 6.0)

    def leaky_relu(self, negative_slope: float = 0.01) -> Any:
        return act.LeakyRelu.apply(_float(self), slope=float(negative_slope))

    def elu(self, alpha: float = 1.0) -> Any:
        return act.Elu.apply(_float(self), alpha=float(alpha), scale=1.0, input_scale=1.0)

    def selu(self) -> Any:
        return act.Elu.apply(_float(self), alpha=act.SELU_ALPHA, scale=act.SELU_SCALE, input_scale=1.0)

    def celu(self, alpha: float = 1.0) -> Any:
        alpha = float(alpha)
        return act.Elu.apply(_float(self), alpha=alpha, scale=1.0, input_scale=1.0 / alpha)

    def gelu(self, approximate: str = "none") -> Any:
        """x * Phi(x); approximate='tanh' uses the tanh formula of the original paper."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return (act.Gelu if approximate == "none" else act.GeluTanh).apply(_float(self))

    def silu(self) -> Any:
        return act.Silu.apply(_float(self))

    def mish(self) -> Any:
        return act.Mish.apply(_float(self))

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Any:
        return act.Softplus.apply(_float(self), beta=float(beta), threshold=float(threshold))

    def logsigmoid(self) -> Any:
        return act.LogSigmoid.apply(_float(self))

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Any:
        if min_val > max_val:
            raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        return act.Hardtanh.apply(_float(self), min_val=float(min_val), max_val=float(max_val))

    def hardsigmoid(self) -> Any:
        return act.Hardsigmoid.apply(_float(self))

    def hardswish(self) -> Any:
        return act.Hardswish.apply(_float(self))

    # ---- rounding and remainders (zero gradient, except frac and the remainders) -------------
    def _rounded(self, cls: type[Function], **params: Any) -> Any:
        if self.dtype.kind != "f":  # integers are already whole numbers
            return self._make(self._data.copy(), False)
        return cls.apply(self, **params)

    def floor(self) -> Any:
        return self._rounded(rnd.Floor)

    def ceil(self) -> Any:
        return self._rounded(rnd.Ceil)

    def trunc(self) -> Any:
        return self._rounded(rnd.Trunc)

    fix = trunc

    def round(self, decimals: int = 0) -> Any:
        """Round half to even, to `decimals` places."""
        return self._rounded(rnd.Round, decimals=int(decimals))

    def frac(self) -> Any:
        if self.dtype.kind != "f":
            raise DTypeError(f"frac: expected a floating-point tensor, got {self.dtype}")
        return rnd.Frac.apply(self)

    def _divide_like(self, other: Any, cls: type[Function], op: str, reflected: bool = False) -> Any:
        a, b = self._operand(other)
        a, b = (b, a) if reflected else (a, b)
        if b.dtype.kind != "f" and np.any(b._data == 0):
            raise ZeroDivisionError(f"{op}: integer division by zero (shapes {a.shape} and {b.shape})")
        return cls.apply(a, b)

    def remainder(self, other: Any) -> Any:
        """Python's %: the result has the sign of `other`; d/dother = -floor(self / other)."""
        return self._divide_like(other, rnd.Remainder, "remainder")

    def fmod(self, other: Any) -> Any:
        """C's fmod: the result has the sign of `self`; d/dother = -trunc(self / other)."""
        return self._divide_like(other, rnd.Fmod, "fmod")

    def floor_divide(self, other: Any) -> Any:
        """floor(self / other); zero gradient (PyTorch has none)."""
        return self._divide_like(other, rnd.FloorDivide, "floor_divide")

    def __mod__(self, other: Any) -> Any:
        return self._divide_like(other, rnd.Remainder, "remainder")

    def __rmod__(self, other: Any) -> Any:
        return self._divide_like(other, rnd.Remainder, "remainder", reflected=True)

    def __floordiv__(self, other: Any) -> Any:
        return self._divide_like(other, rnd.FloorDivide, "floor_divide")

    def __rfloordiv__(self, other: Any) -> Any:
        return self._divide_like(other, rnd.FloorDivide, "floor_divide", reflected=True)

    # ---- clamping, selection, interpolation ----------------------------------------------------
    def clamp(self, min: Any = None, max: Any = None) -> Any:
        """Limit to [min, max]; bounds are scalars or tensors. The gradient passes at the bounds."""
        return _clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> Any:
        return _clamp(self, min, None)

    def clamp_max(self, max: Any) -> Any:
        return _clamp(self, None, max)

    def maximum(self, other: Any) -> Any:
        """Elementwise max; a tie gives each side half the gradient."""
        return ew.Maximum.apply(*self._operand(other))

    def minimum(self, other: Any) -> Any:
        return ew.Minimum.apply(*self._operand(other))

    def where(self, condition: Any, other: Any) -> Any:
        """self where condition is true (nonzero), else other (torch.Tensor.where)."""
        cond = np.asarray(condition._data if isinstance(condition, TensorBase) else condition)
        a, b = self._operand(other)
        return ew.Where.apply(self._make(cond.astype(bool, copy=False), False), a, b)

    def lerp(self, end: Any, weight: Any) -> Any:
        """self + weight * (end - self); weight is a scalar or a tensor."""
        if isinstance(weight, (int, float, np.generic)):
            start, end = _same_float("lerp", *self._operand(end))
            return ew.Lerp.apply(start, end, weight=float(weight))
        start, end, weight = _same_float("lerp", self, _tensor(self, end), _tensor(self, weight))
        return ew.LerpTensor.apply(start, end, weight)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Any:
        """nan -> `nan`, +-inf -> `posinf`/`neginf` (default: the dtype's largest finite values)."""
        if self.dtype.kind != "f":
            return self._make(self._data.copy(), False)
        return ew.NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    # ---- classification, logical and bitwise (bool/int results outside the graph) -------------
    def isnan(self) -> Any:
        return self._make(bw.isnan(self._data), False)

    def isinf(self) -> Any:
        return self._make(bw.isinf(self._data), False)

    def isfinite(self) -> Any:
        return self._make(bw.isfinite(self._data), False)

    def _logical(self, other: Any, op: str) -> Any:
        return self._make(bw.logical(op, self._data, np.asarray(_tensor(self, other)._data)), False)

    def logical_and(self, other: Any) -> Any:
        return self._logical(other, "logical_and")

    def logical_or(self, other: Any) -> Any:
        return self._logical(other, "logical_or")

    def logical_xor(self, other: Any) -> Any:
        return self._logical(other, "logical_xor")

    def logical_not(self) -> Any:
        return self._make(bw.logical_not(self._data), False)

    def _bitwise(self, other: Any, op: str, reflected: bool = False) -> Any:
        a, b = self._operand(other)
        a, b = (b, a) if reflected else (a, b)
        return self._make(bw.bitwise(op, a._data, b._data), False)

    def bitwise_and(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_and")

    def bitwise_or(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_or")

    def bitwise_xor(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_xor")

    def bitwise_left_shift(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_left_shift")

    def bitwise_right_shift(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_right_shift")

    def bitwise_not(self) -> Any:
        return self._make(bw.bitwise_not(self._data), False)

    __and__, __or__, __xor__, __invert__ = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift

    def __rand__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_and", reflected=True)

    def __ror__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_or", reflected=True)

    def __rxor__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_xor", reflected=True)

    def __rlshift__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_left_shift", reflected=True)

    def __rrshift__(self, other: Any) -> Any:
        return self._bitwise(other, "bitwise_right_shift", reflected=True)


def _clamp(x: Any, lo: Any, hi: Any) -> Any:
    """clamp with scalar bounds (one fast op) or tensor bounds (gradients for the bounds too)."""
    if lo is None and hi is None:
        raise ValueError("clamp: at least one of min and max must be given")
    lo, hi = _scalar(lo), _scalar(hi)
    if all(b is None or isinstance(b, (int, float)) for b in (lo, hi)):
        if x.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
            x = x.astype(dtypes.get_default_dtype())
        return ew.Clamp.apply(x, lo=lo, hi=hi)
    bounds = []
    for b in (lo, hi):
        if b is not None:
            x, b = x._operand(b)
        bounds.append(b)
    lo, hi = (None if b is None else b.astype(x.dtype) for b in bounds)
    if lo is not None and hi is not None:
        return ew.ClampTensor.apply(x, lo, hi)
    return ew.ClampBound.apply(x, hi if lo is None else lo, upper=lo is None)


def _tensor(like: Any, x: Any) -> Any:
    """`x` as is if a Tensor, else a new constant Tensor (scalars, lists, ndarrays)."""
    return x if isinstance(x, TensorBase) else like._make(as_array(x), False)
