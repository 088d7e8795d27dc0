"""F.* pooling in 3-D and max unpooling: max_pool3d, avg_pool3d, adaptive_avg_pool3d,
adaptive_max_pool3d, max_unpool1d/2d/3d, with PyTorch's signatures and semantics.

The maths is in `ops/pool_nd.py` (3-D pooling as two passes of the 2-D kernels); here arguments are
normalised to triples and unbatched inputs get a batch axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import DTypeError, ShapeError
from ..ops import pool_nd as PN
from .arguments import tensor_args
from .pooling import _batched, _out_size

__all__ = [
    "max_pool3d",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]


def _tuple(op: str, name: str, value: Any, dims: int) -> tuple:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(vals) != dims or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals
    ):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    return tuple(int(v) for v in vals)


def _stride(op: str, stride: Any, kernel: tuple) -> tuple:
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return _tuple(op, "stride", stride, len(kernel))


@tensor_args("input")
def max_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max over sliding (kd, kh, kw) windows of (N, C, D, H, W) (or (C, D, H, W)); with
    return_indices also the argmax as a flat index into each D * H * W volume. Integer inputs are
    pooled too (forward only, as in PyTorch)."""
    op = "max_pool3d"
    kernel = _tuple(op, "kernel_size", kernel_size, 3)
    args = (
        kernel,
        _stride(op, stride, kernel),
        _tuple(op, "padding", padding, 3),
        _tuple(op, "dilation", dilation, 3),
    )

    def run(xb: Tensor) -> Any:
        if xb.dtype.kind in "iu":
            values, index = PN.int_max_pool(op, xb._data, *args, ceil_mode)
            out = as_tensor(values)
        elif xb.dtype.kind == "f":
            out, index = PN.max_pool3d(op, xb, *args, ceil_mode)
        else:
            raise DTypeError(f"{op}: input must be a floating point or integer tensor, got {xb.dtype}")
        return (out, as_tensor(index)) if return_indices else out

    return _batched(op, input, 3, run)


@tensor_args("input")
def avg_pool3d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over sliding (kd, kh, kw) windows of (N, C, D, H, W) (or (C, D, H, W))."""
    op = "avg_pool3d"
    kernel = _tuple(op, "kernel_size", kernel_size, 3)
    stride_, pad = _stride(op, stride, kernel), _tuple(op, "padding", padding, 3)

    def run(xb: Tensor) -> Tensor:
        if xb.dtype.kind != "f":
            raise DTypeError(f"{op}: input must be floating point, got {xb.dtype}")
        return PN.avg_pool3d(op, xb, kernel, stride_, pad, ceil_mode, count_include_pad, divisor_override)

    return _batched(op, input, 3, run)


@tensor_args("input")
def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Mean over (D, H, W) split into an output_size grid of windows (None keeps that size)."""
    op = "adaptive_avg_pool3d"
    size = _out_size(op, output_size, input, 3)

    def run(xb: Tensor) -> Tensor:
        if xb.dtype.kind != "f":
            raise DTypeError(f"{op}: input must be floating point, got {xb.dtype}")
        return PN.adaptive_avg_pool3d(op, xb, size)

    return _batched(op, input, 3, run)


@tensor_args("input")
def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over (D, H, W) split into an output_size grid of windows."""
    op = "adaptive_max_pool3d"
    size = _out_size(op, output_size, input, 3)

    def run(xb: Tensor) -> Any:
        if xb.dtype.kind != "f":
            raise DTypeError(f"{op}: input must be floating point, got {xb.dtype}")
        out, index = PN.adaptive_max_pool3d(op, xb, size)
        return (out, as_tensor(index)) if return_indices else out

    return _batched(op, input, 3, run)


def _unpool(
    op: str,
    dims: int,
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    output_size: Any,
) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    kernel = _tuple(op, "kernel_size", kernel_size, dims)
    stride_, pad = _stride(op, stride, kernel), _tuple(op, "padding", padding, dims)
    if input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(
            f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) "
            f"input, got shape {input.shape}"
        )
    default = tuple((n - 1) * s + k - 2 * p for n, s, k, p in zip(input.shape[-dims:], stride_, kernel, pad))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        if len(size) == dims + 2:
            size = size[2:]
        elif len(size) == dims + 1 and input.ndim == dims + 1:
            size = size[1:]
        if len(size) != dims:
            raise ShapeError(
                f"{op}: output_size should be a sequence containing {dims} or "
                f"{dims + 2} elements, but it has a length of {len(output_size)}"
            )
        for d in range(dims):
            low, high = default[d] - stride_[d], default[d] + stride_[d]
            if not low < size[d] < high:
                raise ShapeError(
                    f"{op}: invalid output_size {tuple(output_size)} (dim {d} must be "
                    f"between {low} and {high})"
                )
    if min(size) < 0:
        raise ShapeError(f"{op}: output size {size} must be non-negative")
    idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if input.ndim == dims + 2:
        return PN.max_unpool(op, input, idx, size)
    out = PN.max_unpool(op, input.unsqueeze(0), idx.reshape((1,) + idx.shape), size)
    return out.squeeze(0)


@tensor_args("input", "indices")
def max_unpool1d(
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """The partial inverse of max_pool1d: each value back at its argmax, zeros elsewhere."""
    return _unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


@tensor_args("input", "indices")
def max_unpool2d(
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """The partial inverse of max_pool2d (with return_indices=True): (N, C, H, W) back to
    (N, C, *output_size) with each value at its recorded index and zeros elsewhere."""
    return _unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


@tensor_args("input", "indices")
def max_unpool3d(
    input: Tensor,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Tensor:
    """The partial inverse of max_pool3d."""
    return _unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
