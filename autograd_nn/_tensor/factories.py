"""Tensor factories with PyTorch's names and signatures. Floats default to float32 (see `dtypes`).

Every factory takes PyTorch's keywords: `dtype`, `device` (the CPU; an accelerator raises a clear
error), `requires_grad`, and where PyTorch has them `layout` (strided only), `pin_memory` (nothing to
do on the CPU), `generator` (random ones) and `out` (not supported: refused clearly). Sizes may be
given as `zeros(2, 3)`, `zeros((2, 3))` or `zeros(size=(2, 3))`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..devices import as_device
from ..errors import DTypeError
from ..random import resolve
from ..shapes import shape_arg
from .convert import as_array
from .tensor import Tensor


def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, False)
    return t.requires_grad_(True) if requires_grad else t


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _check_options(op: str, device: Any = None, layout: Any = None, out: Any = None) -> None:
    """The keywords every factory accepts for PyTorch's sake (see the module docstring)."""
    as_device(device)
    if layout not in (None, "strided") and str(layout) not in ("torch.strided", "strided"):
        raise ValueError(
            f"{op}: only the strided layout is supported, got {layout!r} (sparse COO "
            "tensors come from sparse_coo_tensor / to_sparse)"
        )
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; use the returned tensor (or out.copy_(...))")


def _size(op: str, size: tuple, size_kw: Any = None) -> tuple:
    """The sizes as a shape (`f(2, 3)`, `f((2, 3))` or `f(size=(2, 3))`); a clear error for a
    negative one (NumPy would say only 'negative')."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{op}: sizes given both positionally and as size=")
        size = (size_kw,)
    shape = shape_arg(op, size)
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: negative size in {shape}")
    return shape


def _random_float(op: str, dtype: Any) -> np.dtype:
    dtype = _float(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"{op}: needs a floating-point dtype, got {dtype}")
    return dtype


def tensor(
    data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False
) -> Tensor:
    """A new tensor holding a copy of `data`: nested lists (of numbers or of tensors, as
    `tensor([loss1, loss2])`), scalars, arrays or tensors. The dtype is inferred as PyTorch does
    (Python floats: the default float dtype; ints: int64; bools: bool)."""
    as_device(device)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    arr = as_array(data, None if dtype is None else dtypes.as_dtype(dtype))
    return _make(np.array(arr, copy=True), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a Tensor, without a copy where possible: a Tensor of the right dtype is returned as
    is, an ndarray is shared (like `torch.as_tensor`); lists are converted (dtype inferred)."""
    as_device(device)
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or dtype == data.dtype else data.astype(dtype)
    return Tensor._make(as_array(data, dtype), False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (same dtype)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return Tensor._make(as_array(array, op="from_numpy"), False)


def zeros(
    *size: Any,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    **kw: Any,
) -> Tensor:
    _check_options("zeros", device, layout, out)
    return _make(np.zeros(_size("zeros", size, kw.pop("size", None)), _float(dtype)), requires_grad)


def ones(
    *size: Any,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    **kw: Any,
) -> Tensor:
    _check_options("ones", device, layout, out)
    return _make(np.ones(_size("ones", size, kw.pop("size", None)), _float(dtype)), requires_grad)


def empty(
    *size: Any,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    memory_format: Any = None,
    **kw: Any,
) -> Tensor:
    """Zeros (PyTorch leaves the values undefined; zeros keep runs reproducible)."""
    _check_options("empty", device, layout, out)
    return _make(np.zeros(_size("empty", size, kw.pop("size", None)), _float(dtype)), requires_grad)


def full(
    size: Any,
    fill_value: Any,
    *,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """`size` filled with `fill_value`; the dtype is inferred from the value (float -> the default
    float dtype, int -> int64, bool -> bool) unless given."""
    _check_options("full", device, layout, out)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = as_array(fill_value).dtype if dtype is None else dtypes.as_dtype(dtype)
    return _make(np.full(_size("full", (size,)), fill_value, dtype), requires_grad)


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    *,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    _check_options("arange", device, layout, out)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    try:
        if step == 0 or not all(np.isfinite([start, end, step])):
            raise ValueError("step must be non-zero and the bounds finite")
        data = np.arange(start, end, step, dtype=dtypes.as_dtype(dtype))
    except (ValueError, TypeError, ZeroDivisionError) as err:
        raise type(err)(f"arange: bad arguments start={start!r}, end={end!r}, step={step!r}: {err}") from None
    return _make(data, requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` evenly spaced values from start to end, as PyTorch's CPU kernel computes them: the
    first half as start + step * i, the second half as end - step * (steps - 1 - i) (each a fused
    multiply-add, rounded once), in the result's dtype; an integer dtype truncates start and end,
    steps in double and truncates each value. PyTorch's vectorised loop continues a SIMD register's
    lanes from its first value, so beyond a register's width (8 to 64 values, by CPU and dtype) its
    values may differ from these by an ulp (floats) or by one (integers)."""
    _check_options("linspace", device, layout, out)
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
    wide: np.ndarray = idx.astype(exact)
    up = (exact(lo) + exact(step) * wide).astype(round_to)
    down = (exact(hi) - exact(step) * (steps - 1 - wide)).astype(round_to)
    values = np.where(idx < steps // 2, up, down)
    if steps == 1:
        values[0] = lo
    return _make((np.trunc(values) if dt.kind in "iub" else values).astype(dt), requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    _check_options("eye", device, layout, out)
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(
    *size: Any,
    generator: Any = None,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    **kw: Any,
) -> Tensor:
    """Uniform samples in [0, 1)."""
    _check_options("rand", device, layout, out)
    shape, dtype = _size("rand", size, kw.pop("size", None)), _random_float("rand", dtype)
    return _make(resolve(generator).random(shape).astype(dtype), requires_grad)


def randn(
    *size: Any,
    generator: Any = None,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
    **kw: Any,
) -> Tensor:
    """Standard normal samples."""
    _check_options("randn", device, layout, out)
    shape, dtype = _size("randn", size, kw.pop("size", None)), _random_float("randn", dtype)
    return _make(resolve(generator).standard_normal(shape).astype(dtype), requires_grad)


def randint(
    *args: Any,
    generator: Any = None,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    **kw: Any,
) -> Tensor:
    """Integers drawn uniformly from [low, high): PyTorch's forms `randint(high, size)`,
    `randint(low, high, size)`, and any of them by keyword (`randint(0, 10, size=(3,))`)."""
    _check_options("randint", device, layout, out)
    low, high, size = kw.pop("low", None), kw.pop("high", None), kw.pop("size", None)
    if kw:
        raise TypeError(f"randint: unexpected arguments {sorted(kw)}")
    positional = list(args)
    if size is None and positional and isinstance(positional[-1], (tuple, list)):
        size = positional.pop()
    if len(positional) == 2:
        low, high = positional
    elif len(positional) == 1:
        if high is None:
            high = positional[0]
        else:
            low = positional[0]
    elif positional:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {args!r}")
    low = 0 if low is None else low
    if high is None or size is None:
        raise TypeError("randint: needs high and size, e.g. randint(10, (3,)) or randint(0, 10, (3,))")
    low, high = (int(v.item() if isinstance(v, Tensor) else v) for v in (low, high))
    if not low < high:
        raise ValueError(f"randint: needs low < high, got low={low}, high={high}")
    data = resolve(generator).integers(low, high, size=_size("randint", (size,)))
    out_t = Tensor._make(data.astype(dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)), False)
    return out_t.requires_grad_(True) if requires_grad else out_t


def randperm(
    n: int,
    *,
    generator: Any = None,
    out: Any = None,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    _check_options("randperm", device, layout, out)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    data = resolve(generator).permutation(n).astype(dtypes.as_dtype(dtype or dtypes.int64))
    return _make(data, requires_grad)


def _like(name: str, fill: Any) -> Any:
    def like(
        input: Tensor,
        *,
        dtype: Any = None,
        layout: Any = None,
        device: Any = None,
        requires_grad: bool = False,
        memory_format: Any = None,
        **kw: Any,
    ) -> Tensor:
        t = input if isinstance(input, Tensor) else as_tensor(input)
        return fill(
            *t.shape,
            dtype=t.dtype if dtype is None else dtype,
            device=device,
            requires_grad=requires_grad,
            **kw,
        )

    like.__name__ = name
    like.__doc__ = f"`{fill.__name__}` with the shape (and, by default, dtype) of `input`."
    return like


zeros_like = _like("zeros_like", zeros)
ones_like = _like("ones_like", ones)
empty_like = _like("empty_like", empty)
rand_like = _like("rand_like", rand)
randn_like = _like("randn_like", randn)


def full_like(
    input: Tensor,
    fill_value: Any,
    *,
    dtype: Any = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    t = input if isinstance(input, Tensor) else as_tensor(input)
    return full(
        t.shape,
        fill_value,
        dtype=t.dtype if dtype is None else dtype,
        device=device,
        requires_grad=requires_grad,
    )


def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    generator: Any = None,
) -> Tensor:
    """`randint` with the shape (and, by default, dtype) of `input`; `randint_like(x, high)` works."""
    if high is None:
        low, high = 0, low
    t = input if isinstance(input, Tensor) else as_tensor(input)
    return randint(
        low,
        high,
        t.shape,
        dtype=t.dtype if dtype is None else dtype,
        device=device,
        generator=generator,
        requires_grad=requires_grad,
    )
