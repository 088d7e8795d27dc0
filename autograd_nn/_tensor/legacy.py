"""PyTorch's typed tensor classes (`FloatTensor`, `LongTensor`, ...) and `Size`.

`FloatTensor(2, 3)`, `LongTensor([1, 2])` and `isinstance(x, FloatTensor)` work as in PyTorch: each
name builds a `Tensor` of its dtype with the legacy constructor's rules, and an `isinstance` check asks
for a Tensor of that dtype. They are not real subclasses (every tensor is a `Tensor`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from .tensor import Tensor


class _TypedTensorMeta(type):
    dtype: np.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:
        return Tensor(*args, dtype=cls.dtype, **kwargs)

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


class FloatTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.float32


class DoubleTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.float64


class HalfTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.float16


class LongTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.int64


class IntTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.int32


class ShortTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.int16


class CharTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.int8


class ByteTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.uint8


class BoolTensor(metaclass=_TypedTensorMeta):
    dtype = dtypes.bool_


class Size(tuple):
    """PyTorch's `Size`: a tuple of dims (`Tensor.shape` is a plain tuple, which compares equal)."""

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self) -> str:
        return f"Size({list(self)})"


def set_default_tensor_type(t: Any) -> None:
    """PyTorch's deprecated `set_default_tensor_type('torch.DoubleTensor')`: sets the default dtype."""
    dtypes.set_default_dtype(t.dtype if isinstance(t, _TypedTensorMeta) else dtypes.as_dtype(t))
