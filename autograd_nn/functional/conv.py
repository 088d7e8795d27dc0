"""F.* (convolution): conv1d, conv2d, conv_transpose1d, conv_transpose2d.

PyTorch's signatures and semantics. Arguments are normalised here and the shapes are checked by
`ops.conv.conv_geometry` before any work; the maths is in `ops/conv.py` (im2col + BLAS). Unbatched
inputs ((C, L) for 1-D, (C, H, W) for 2-D) are accepted, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..errors import ShapeError
from ..ops.conv import Conv, ConvTranspose, check_dtypes, conv_geometry
from .arguments import tensor_args

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def _pair(op: str, name: str, value: Any, dims: int) -> tuple[int, int]:
    """An int or a tuple of `dims` ints as an (h, w) pair (h = 1 for 1-D)."""
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(vals) != dims or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    return (1,) + vals if dims == 1 else vals


def _padding(op: str, padding: Any, dims: int) -> Any:
    if isinstance(padding, str):
        return padding
    pad = _pair(op, "padding", padding, dims)
    return (0, pad[1]) if dims == 1 else pad


def _batched(op: str, x: Any, w: Any, b: Any, dims: int) -> tuple[Tensor, bool]:
    """Check the argument types and give an unbatched input its batch axis."""
    for name, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if w.ndim != dims + 2:
        raise ShapeError(f"{op}: weight must have {dims + 2} dimensions, got shape {w.shape}")
    if x.ndim not in (dims + 1, dims + 2):
        raise ShapeError(
            f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, got shape {x.shape}"
        )
    check_dtypes(op, x, w, b)
    unbatched = x.ndim == dims + 1
    return (x.reshape((1,) + x.shape) if unbatched else x), unbatched


def _conv(
    op: str,
    dims: int,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    x, unbatched = _batched(op, x, weight, bias, dims)
    geo = conv_geometry(
        op,
        x.shape,
        weight.shape,
        _pair(op, "stride", stride, dims),
        _padding(op, padding, dims),
        _pair(op, "dilation", dilation, dims),
        groups,
    )
    if bias is not None and bias.shape != (geo.out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({geo.out_channels},), got {bias.shape}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = Conv.apply(*args, geo=geo)
    return y.reshape(y.shape[1:]) if unbatched else y


def _conv_transpose(
    op: str,
    dims: int,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> Tensor:
    x, unbatched = _batched(op, x, weight, bias, dims)
    if isinstance(padding, str):
        raise ShapeError(f"{op}: padding must be an int or a tuple, got {padding!r}")
    geo = conv_geometry(
        op,
        x.shape,
        weight.shape,
        _pair(op, "stride", stride, dims),
        _padding(op, padding, dims),
        _pair(op, "dilation", dilation, dims),
        groups,
        transposed=True,
        output_padding=_padding(op, output_padding, dims),
    )
    if bias is not None and bias.shape != (geo.channels,):
        raise ShapeError(f"{op}: bias must have shape ({geo.channels},), got {bias.shape}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose.apply(*args, geo=geo)
    return y.reshape(y.shape[1:]) if unbatched else y


@tensor_args("input", "weight", "bias", same_dtype=True)
def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation: input (N, C, L), weight (OC, C / groups, k) -> (N, OC, L_out).

    padding: an int, 'valid' (no padding) or 'same' (output length = input length; stride 1).
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@tensor_args("input", "weight", "bias", same_dtype=True)
def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation: input (N, C, H, W), weight (OC, C / groups, kh, kw) -> (N, OC, OH, OW).

    padding: an int, an (h, w) pair, 'valid' or 'same' (stride 1; an even kernel pads one more at the
    bottom/right, as PyTorch does). groups=C with OC a multiple of C is a depthwise convolution.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@tensor_args("input", "weight", "bias", same_dtype=True)
def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """1-D transposed convolution: input (N, C_in, L), weight (C_in, C_out / groups, k).

    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@tensor_args("input", "weight", "bias", same_dtype=True)
def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input).

    input (N, C_in, H, W), weight (C_in, C_out / groups, kh, kw) -> (N, C_out, H_out, W_out) with
    H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
