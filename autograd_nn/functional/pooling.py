"""F.* (pooling): max/avg/adaptive pooling in 1-D and 2-D (3-D in `pooling3d.py`).

PyTorch's signatures and semantics. The pooling maths is in `ops/pool.py` (Numba loops); here the
arguments are normalised ((h, w) pairs, h = 1 for 1-D) and unbatched inputs get a batch axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import ShapeError
from ..ops import pool as P
from ..ops.pool_nd import int_max_pool
from .arguments import tensor_args

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
]


Pair = tuple[int, int]


def _pair(op: str, name: str, value: Any, dims: int) -> tuple[int, int]:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(vals) != dims or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals
    ):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    vals = tuple(int(v) for v in vals)
    return (1,) + vals if dims == 1 else vals


def _pool_args(
    op: str, dims: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1
) -> tuple[Pair, Pair, Pair, Pair]:
    kernel = _pair(op, "kernel_size", kernel_size, dims)
    empty = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    stride = kernel if empty else _pair(op, "stride", stride, dims)
    pad = _pair(op, "padding", padding, dims)
    pad = (0, pad[1]) if dims == 1 else pad
    return kernel, stride, pad, _pair(op, "dilation", dilation, dims)


def _batched(op: str, x: Any, dims: int, fn: Callable[[Tensor], Any]) -> Any:
    """Run `fn` on a batched input; an unbatched one ((C, *spatial)) gets and loses a batch axis."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (dims + 1, dims + 2):
        raise ShapeError(
            f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, got shape {x.shape}"
        )
    if x.ndim == dims + 2:
        return fn(x)
    out = fn(x.reshape((1,) + x.shape))
    if isinstance(out, tuple):
        return tuple(o.reshape(o.shape[1:]) for o in out)
    return out.reshape(out.shape[1:])


def _max(
    op: str,
    dims: int,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    args = _pool_args(op, dims, kernel_size, stride, padding, dilation)

    def run(xb: Tensor) -> Any:
        if dims == 2 and xb.dtype.kind in "iu":  # integer images: forward only, as in PyTorch
            values, index = int_max_pool(op, xb._data, *args, ceil_mode)
            out = as_tensor(values)
        else:
            out, index = P.max_pool(op, xb, *args, ceil_mode)
        return (out, as_tensor(index)) if return_indices else out

    return _batched(op, x, dims, run)


@tensor_args("input")
def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, L); with return_indices also the argmax (flat in L)."""
    return _max("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@tensor_args("input")
def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding windows of (N, C, H, W) (padding counts as -inf; stride defaults to the
    kernel size); with return_indices also the argmax as a flat index into each H * W plane.
    Integer inputs are pooled too (forward only, as in PyTorch)."""
    return _max("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg(
    op: str,
    dims: int,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    kernel, stride, pad, _ = _pool_args(op, dims, kernel_size, stride, padding)
    return _batched(
        op,
        x,
        dims,
        lambda xb: P.avg_pool(op, xb, kernel, stride, pad, ceil_mode, count_include_pad, divisor_override),
    )


@tensor_args("input")
def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over sliding windows of (N, C, L)."""
    return _avg("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


@tensor_args("input")
def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over sliding windows of (N, C, H, W). count_include_pad=False divides by the number of
    real (non-padding) elements; divisor_override replaces the divisor altogether."""
    return _avg(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _out_size(op: str, output_size: Any, x: Tensor, dims: int) -> tuple:
    vals = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * dims
    if len(vals) != dims:
        raise ShapeError(f"{op}: output_size must be an int or {dims} values, got {output_size!r}")
    spatial = x.shape[-dims:]
    size = tuple(s if v is None else v for v, s in zip(vals, spatial))  # None keeps the input size
    if not all(isinstance(v, (int, np.integer)) and v >= 1 for v in size):
        raise ShapeError(f"{op}: output_size must be positive ints, got {output_size!r}")
    return tuple(int(v) for v in size)


@tensor_args("input")
def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over L split into `output_size` nearly equal (possibly overlapping) windows."""
    size = _out_size("adaptive_avg_pool1d", output_size, input, 1)
    return _batched(
        "adaptive_avg_pool1d", input, 1, lambda xb: P.adaptive_avg_pool("adaptive_avg_pool1d", xb, size)
    )


@tensor_args("input")
def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over (H, W) split into an output_size grid of windows (None keeps that input size)."""
    size = _out_size("adaptive_avg_pool2d", output_size, input, 2)
    return _batched(
        "adaptive_avg_pool2d", input, 2, lambda xb: P.adaptive_avg_pool("adaptive_avg_pool2d", xb, size)
    )


def _adaptive_max(op: str, dims: int, x: Tensor, output_size: Any, return_indices: bool) -> Any:
    size = _out_size(op, output_size, x, dims)

    def run(xb: Tensor) -> Any:
        out, index = P.adaptive_max_pool(op, xb, size)
        return (out, as_tensor(index)) if return_indices else out

    return _batched(op, x, dims, run)


@tensor_args("input")
def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over L split into `output_size` windows."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


@tensor_args("input")
def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over (H, W) split into an output_size grid of windows."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)
