"""F.* that rearrange spatial data: pixel_shuffle / pixel_unshuffle (sub-pixel convolution, Shi et
al. 2016) and unfold / fold (sliding blocks as columns and back), with PyTorch's signatures and checks.

pixel_shuffle is a reshape and a permute (exact, differentiable to any order); unfold and fold are
the `Unfold` / `Fold` ops of `ops/fold.py`.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..errors import DTypeError, ShapeError
from ..ops.fold import Fold, Unfold, blocks
from .arguments import tensor_args

__all__ = ["pixel_shuffle", "pixel_unshuffle", "unfold", "fold"]


def _factor(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ShapeError(f"{op} expects a positive {name}, but got {value}")
    return value


@tensor_args("input")
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r): channel blocks become r x r pixel blocks."""
    op = "pixel_shuffle"
    r = _factor(op, "upscale_factor", upscale_factor)
    if input.ndim < 3:
        raise ShapeError(
            f"{op} expects input to have at least 3 dimensions, but got input of shape {input.shape}"
        )
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(
            f"{op} expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by "
            f"{r * r} (input shape {input.shape})"
        )
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)  # (*, C, r, r, H, W)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


@tensor_args("input")
def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W): the inverse of pixel_shuffle."""
    op = "pixel_unshuffle"
    r = _factor(op, "downscale_factor", downscale_factor)
    if input.ndim < 3:
        raise ShapeError(
            f"{op} expects input to have at least 3 dimensions, but got input of shape {input.shape}"
        )
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ShapeError(
                f"{op} expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={size} is not divisible by {r} (input shape "
                f"{input.shape})"
            )
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)  # (*, C, H, r, W, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def _pair(op: str, name: str, value: Any, least: int) -> tuple[int, int]:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(vals) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise ShapeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(vals) < least:
        raise ShapeError(f"{op}: {name} must be >= {least}, got {value!r}")
    return vals


def _geometry(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    return (
        _pair(op, "kernel_size", kernel_size, 1),
        _pair(op, "dilation", dilation, 1),
        _pair(op, "padding", padding, 0),
        _pair(op, "stride", stride, 1),
    )


def _float_tensor(op: str, input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be float32 or float64, got {input.dtype}")
    return input


@tensor_args("input")
def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding blocks of (N, C, H, W) (or unbatched (C, H, W)) as columns: (N, C * kh * kw, L),
    L the number of blocks; column l holds block l with channels slowest (PyTorch's im2col)."""
    op = "unfold"
    x = _float_tensor(op, input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D (unbatched) or 4-D (batched) input, got shape {x.shape}")
    k, d, p, s = _geometry(op, kernel_size, dilation, padding, stride)
    xb = x if x.ndim == 4 else x.unsqueeze(0)  # (N, C, H, W)
    b = blocks(xb.shape[2:], k, d, p, s)
    if min(b.out) < 1:
        raise ShapeError(
            f"{op}: given input with spatial size {tuple(xb.shape[2:])}, kernel_size="
            f"{k}, dilation={d}, padding={p}, the array of sliding blocks has shape "
            f"{b.out}, but its components must be at least one"
        )
    out = Unfold.apply(xb, blocks=b)  # (N, C * kh * kw, L)
    return out if x.ndim == 4 else out.squeeze(0)


@tensor_args("input")
def fold(
    input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """The adjoint of unfold: columns (N, C * kh * kw, L) (or (C * kh * kw, L)) summed back into an
    (N, C, *output_size) image; overlapping blocks add up."""
    op = "fold"
    x = _float_tensor(op, input)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 2-D (unbatched) or 3-D (batched) input, got shape {x.shape}")
    size = _pair(op, "output_size", output_size, 1)
    k, d, p, s = _geometry(op, kernel_size, dilation, padding, stride)
    xb = x if x.ndim == 3 else x.unsqueeze(0)  # (N, C * kh * kw, L)
    if xb.shape[1] % (k[0] * k[1]):
        raise ShapeError(
            f"{op}: expected size of input's dimension 1 to be divisible by the "
            f"product of kernel_size, but got input.size(1)={xb.shape[1]} and "
            f"kernel_size={k} (input shape {x.shape})"
        )
    b = blocks(size, k, d, p, s)
    if min(b.out) < 1 or xb.shape[2] != b.out[0] * b.out[1]:
        raise ShapeError(
            f"{op}: given output_size={size}, kernel_size={k}, dilation={d}, "
            f"padding={p}, stride={s}, expected {b.out[0]} * {b.out[1]} = "
            f"{b.out[0] * b.out[1]} sliding blocks in input dim {x.ndim - 1}, but got "
            f"input of shape {x.shape}"
        )
    out = Fold.apply(xb, blocks=b)  # (N, C, H, W)
    return out if x.ndim == 3 else out.squeeze(0)
