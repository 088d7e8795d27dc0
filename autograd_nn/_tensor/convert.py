"""Turning user data (numbers, nested lists, ndarrays, tensors) into the array a Tensor holds."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError, ShapeError
from ..function import TensorBase


def as_array(data: Any, dtype: Any = None, op: str = "tensor") -> np.ndarray:
    """Convert user data to an ndarray with PyTorch's default dtypes (float32 for Python floats)."""
    if isinstance(data, TensorBase):
        data = data._data
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(dtype, copy=False)
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except (ValueError, TypeError) as err:
            raise ShapeError(f"{op}: cannot make a tensor from {type(data).__name__}: {err}") from None
        if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(dtypes.get_default_dtype())
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{op}: unsupported dtype {arr.dtype} (ragged nested lists or non-numbers?)")
    return arr
