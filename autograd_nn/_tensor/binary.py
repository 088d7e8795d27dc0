"""Two-tensor pointwise methods from PyTorch's list: copysign, logaddexp, logaddexp2 (differentiable)
and the comparisons isclose, allclose, equal (outside the graph).

The maths is in `ops/binary.py`. Integer inputs of the float functions become the default float
dtype; `other` may be a Tensor, a Python scalar or an ndarray, as for the other binary methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError, ShapeError
from ..function import TensorBase
from ..ops import binary as bn


def _floats(pair: tuple) -> list:
    a, b = pair
    dtype = a.dtype if a.dtype.kind == "f" else dtypes.get_default_dtype()
    return [t if t.dtype == dtype else t.astype(dtype) for t in (a, b)]


class BinaryMixin(TensorBase):
    __slots__ = ()

    def copysign(self, other: Any) -> Any:
        """|self| with the sign of `other` (a -0.0 counts as negative); float result."""
        return bn.CopySign.apply(*_floats(self._operand(other)))

    def logaddexp(self, other: Any) -> Any:
        """log(exp(self) + exp(other)) without overflow (a stable log of a sum of probabilities)."""
        return bn.LogAddExp.apply(*_floats(self._operand(other)))

    def logaddexp2(self, other: Any) -> Any:
        """log2(2 ** self + 2 ** other) without overflow."""
        return bn.LogAddExp2.apply(*_floats(self._operand(other)))

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
        """|self - other| <= atol + rtol * |other| elementwise (a bool tensor); equal values,
        infinities included, are close; NaN is close to NaN only with equal_nan."""
        a, b = _compare_args("isclose", self, other, rtol, atol)
        close = a == b
        if equal_nan and a.dtype.kind == "f":
            close |= np.isnan(a) & np.isnan(b)
        if rtol or atol:
            with np.errstate(invalid="ignore", over="ignore"):
                if a.dtype.kind in "iub":
                    a, b = a.astype(np.float64), b.astype(np.float64)
                error = np.abs(a - b)
                close |= np.isfinite(error) & (error <= atol + np.abs(rtol * b))
        return self._make(np.asarray(close), False)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """True when every element is `isclose` (a Python bool)."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other: Any) -> bool:
        """True when `other` has the same shape and the same values (a Python bool)."""
        if not isinstance(other, TensorBase):
            raise TypeError(f"equal: other must be a Tensor, got {type(other).__name__}")
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))


def _compare_args(op: str, x: Any, other: Any, rtol: float, atol: float) -> tuple:
    if rtol < 0 or atol < 0:
        raise ValueError(
            f"{op}: rtol and atol must be greater than or equal to zero, got rtol={rtol}, atol={atol}"
        )
    if isinstance(other, TensorBase):
        if other.dtype != x.dtype:
            raise DTypeError(
                f"{op}: expected both inputs to have the same dtype, got {x.dtype} and {other.dtype}"
            )
        b = other._data
    else:
        b = np.asarray(other, dtype=x.dtype)
    try:
        np.broadcast_shapes(x.shape, b.shape)
    except ValueError:
        raise ShapeError(f"{op}: shapes {x.shape} and {b.shape} do not broadcast") from None
    return x._data, b
