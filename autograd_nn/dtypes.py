"""dtype rules, following PyTorch: float32 by default, and no silent drift to float64.

- A Python scalar never changes a tensor's dtype (`x * 2` stays float32), except that a float scalar
  turns an integer or bool tensor into the default float dtype.
- Two tensors: the wider float wins; int with float gives the float; two ints give the wider int.
- Comparisons give bool.
"""
from __future__ import annotations

import functools

import numpy as np

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

_default = [float32]


def get_default_dtype() -> np.dtype:
    """The float dtype of new tensors made from Python floats."""
    return _default[0]


def set_default_dtype(dtype) -> None:
    """Set the float dtype of new tensors made from Python floats (float32 or float64)."""
    dtype = np.dtype(dtype)
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


def scalar_result(dtype: np.dtype, value) -> np.dtype:
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
