"""dtype rules, following PyTorch: float32 by default, and no silent drift to float64.

- A Python scalar never changes a tensor's dtype (`x * 2` stays float32), except that a float scalar
  turns an integer or bool tensor into the default float dtype.
- Two tensors: the wider float wins; int with float gives the float; two ints give the wider int.
- Comparisons give bool.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .errors import DTypeError

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
long = int64
double = float64
half = float16
short = int16
char = int8
byte = uint8

# PyTorch's type names for each dtype (what `Tensor.type()` returns and accepts).
TENSOR_TYPE_NAMES: dict[np.dtype, str] = {
    float32: "FloatTensor",
    float64: "DoubleTensor",
    float16: "HalfTensor",
    int64: "LongTensor",
    int32: "IntTensor",
    int16: "ShortTensor",
    int8: "CharTensor",
    uint8: "ByteTensor",
    bool_: "BoolTensor",
}


class UnsupportedDType:
    """A PyTorch dtype NumPy cannot compute in (`bfloat16`, the complex types): it can be named and
    compared (`dtype == autograd_nn.bfloat16` is False), but using it to make or convert a tensor
    raises a DTypeError that says why and what to use instead."""

    def __init__(self, name: str, itemsize: int, floating: bool, instead: str) -> None:
        self.name, self.itemsize, self.is_floating_point = name, itemsize, floating
        self.instead = instead

    @property
    def dtype(self) -> np.dtype:  # NumPy reads this attribute when given the object as a dtype
        raise DTypeError(
            f"{self.name}: NumPy, on which autograd_nn computes, has no {self.name} type; use {self.instead}"
        )

    def __repr__(self) -> str:
        return f"autograd_nn.{self.name}"


bfloat16 = UnsupportedDType("bfloat16", 2, True, "float32 (or float16, which NumPy has)")
complex64 = cfloat = UnsupportedDType("complex64", 8, False, "two real tensors")
complex128 = cdouble = UnsupportedDType("complex128", 16, False, "two real tensors")

_default = [float32]


def as_dtype(value: Any, op: str = "dtype") -> np.dtype:
    """A dtype argument as a NumPy dtype: NumPy dtypes and types, Python's `float`/`int`/`bool` (as
    PyTorch reads them: float64, int64, bool), names ('float32'), and PyTorch's type strings
    ('torch.FloatTensor'). Unsupported PyTorch dtypes raise a clear DTypeError."""
    if isinstance(value, np.dtype):
        return value
    if isinstance(value, str):
        name = value.rpartition(".")[2]
        for dtype, type_name in TENSOR_TYPE_NAMES.items():
            if name == type_name:
                return dtype
    try:
        return np.dtype(value)
    except DTypeError:
        raise
    except TypeError:
        raise DTypeError(f"{op}: {value!r} is not a dtype") from None


def finfo(dtype: Any = None) -> np.finfo:
    """Machine limits of a float dtype (default: the default dtype), like `torch.finfo`: `eps`, `max`,
    `min`, `tiny`, `smallest_normal`, `resolution`, `bits`."""
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype, "finfo")
    if dtype.kind != "f":
        raise TypeError(f"finfo: expects a floating-point dtype, got {dtype} (use iinfo)")
    return np.finfo(dtype)


def iinfo(dtype: Any) -> np.iinfo:
    """Machine limits of an integer dtype, like `torch.iinfo`: `min`, `max`, `bits`."""
    dtype = as_dtype(dtype, "iinfo")
    if dtype.kind not in "iub":
        raise TypeError(f"iinfo: expects an integer dtype, got {dtype} (use finfo)")
    return np.iinfo(dtype if dtype.kind != "b" else np.uint8)


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The dtype two tensors of these dtypes give in arithmetic (PyTorch's rules)."""
    return promote(as_dtype(type1), as_dtype(type2))


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow an in-place op to write `from_` into `to`."""
    return bool(np.can_cast(as_dtype(from_), as_dtype(to), "same_kind"))


def is_signed(dtype: Any) -> bool:
    return as_dtype(dtype).kind in "if"


def get_default_dtype() -> np.dtype:
    """The float dtype of new tensors made from Python floats."""
    return _default[0]


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype of new tensors made from Python floats (float32 or float64)."""
    dtype = as_dtype(dtype, "set_default_dtype")
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default[0] = dtype


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


@functools.lru_cache(maxsize=256)
def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """Result dtype of a binary op between two tensors."""
    fa, fb = a.kind == "f", b.kind == "f"
    if fa and not fb:
        return a
    if fb and not fa:
        return b
    return np.promote_types(a, b)


def scalar_result(dtype: np.dtype, value: bool | int | float | complex) -> np.dtype:
    """Result dtype of a binary op between a tensor of `dtype` and a Python scalar `value`."""
    if isinstance(value, bool):
        return dtype
    if isinstance(value, float) and dtype.kind != "f":
        return _default[0]
    if isinstance(value, complex):
        raise TypeError("complex scalars are not supported")
    if dtype.kind == "b" and isinstance(value, int):
        return int64
    return dtype
