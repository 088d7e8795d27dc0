"""Tensor factories with PyTorch's names. Floats default to float32 (see `dtypes`)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError
from ..random import generator
from ..shapes import shape_arg
from .convert import as_array
from .tensor import Tensor


def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, False)
    return t.requires_grad_(True) if requires_grad else t


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)


def _size(op: str, size: tuple) -> tuple:
    """The sizes as a shape; a clear error for a negative one (NumPy would say only 'negative')."""
    shape = shape_arg(op, size)
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: negative size in {shape}")
    return shape


def _random_float(op: str, dtype: Any) -> np.dtype:
    dtype = _float(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point dtype, got {dtype}")
    return dtype


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, scalars, arrays or tensors)."""
    return _make(np.array(as_array(data, dtype), copy=True), requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """`data` as a Tensor, without a copy where possible: a Tensor of the right dtype is returned as
    is, an ndarray is shared (like `torch.as_tensor`)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array`."""
    return Tensor(array)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_size("zeros", size), _float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_size("ones", size), _float(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _make(np.full(_size("full", (size,)), fill_value, dtype), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    try:
        if step == 0 or not all(np.isfinite([start, end, step])):
            raise ValueError("step must be non-zero and the bounds finite")
        data = np.arange(start, end, step, dtype=dtype)
    except (ValueError, TypeError, ZeroDivisionError) as err:
        raise type(err)(f"arange: bad arguments start={start!r}, end={end!r}, step={step!r}: "
                        f"{err}") from None
    return _make(data, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, as PyTorch's CPU kernel computes them: the
    first half as start + step * i, the second half as end - step * (steps - 1 - i) (each a fused
    multiply-add, rounded once), in the result's dtype; an integer dtype truncates start and end,
    steps in double and truncates each value. PyTorch's vectorised loop continues a SIMD register's
    lanes from its first value, so beyond a register's width (8 to 64 values, by CPU and dtype) its
    values may differ from these by an ulp (floats) or by one (integers)."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    dt = _float(dtype)
    idx = np.arange(steps)
    exact = np.longdouble if dt.itemsize >= 8 or dt.kind in "iub" else np.float64
    if dt.kind in "iub":
        lo, hi = float(int(start)), float(int(end))
        step = (hi - lo) / (steps - 1) if steps > 1 else 0.0
        round_to = np.float64
    else:
        lo, hi = dt.type(start), dt.type(end)
        step = (hi - lo) / dt.type(steps - 1) if steps > 1 else dt.type(0)
        round_to = dt.type
    wide = idx.astype(exact)
    up = (exact(lo) + exact(step) * wide).astype(round_to)
    down = (exact(hi) - exact(step) * (steps - 1 - wide)).astype(round_to)
    values = np.where(idx < steps // 2, up, down)
    if steps == 1:
        values[0] = lo
    return _make((np.trunc(values) if dt.kind in "iub" else values).astype(dt), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _size("rand", size), _random_float("rand", dtype)
    return _make(generator().random(shape).astype(dtype), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _size("randn", size), _random_float("randn", dtype)
    return _make(generator().standard_normal(shape).astype(dtype), requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    if not low < high:
        raise ValueError(f"randint: needs low < high, got low={low}, high={high}")
    data = generator().integers(low, high, size=_size("randint", (size,)))
    return Tensor._make(data.astype(dtypes.int64 if dtype is None else dtype), False)


def randperm(n: int, dtype: Any = None) -> Tensor:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    return Tensor._make(generator().permutation(n).astype(dtype or dtypes.int64), False)


def _like(name: str, fill: Any) -> Any:
    def like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        t = t if isinstance(t, Tensor) else Tensor(t)
        return fill(*t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)

    like.__name__ = name
    like.__doc__ = f"`{fill.__name__}` with the shape (and, by default, dtype) of `t`."
    return like


zeros_like = _like("zeros_like", zeros)
ones_like = _like("ones_like", ones)
empty_like = _like("empty_like", empty)
rand_like = _like("rand_like", rand)
randn_like = _like("randn_like", randn)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    t = t if isinstance(t, Tensor) else Tensor(t)
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype,
                requires_grad=requires_grad)
