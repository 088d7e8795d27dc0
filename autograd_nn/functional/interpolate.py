"""F.interpolate: resize (N, C, *spatial) inputs with 1 to 3 spatial dims, PyTorch's modes and rules.

Every mode is separable, one spatial axis after another:

- 'nearest' and 'nearest-exact' copy input positions (an index_select per axis, so inf and NaN are
  copied as they are and integer tensors work);
- 'linear' / 'bilinear' / 'trilinear' and 'bicubic' multiply by a small constant (out, in) weight
  matrix per axis: BLAS does the work and matmul gives the gradients, to any order;
- 'area' is adaptive average pooling.

Source positions follow PyTorch's CPU kernels to the rounding: the scale is 1 / scale_factor when a
scale factor is given (and not recomputed), else in / out; it is computed in the input's float type
(float32 for float32 inputs), and the linear kernels' special case (a same-size axis is copied)
is kept for the linear modes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import DTypeError, ShapeError
from .arguments import tensor_args
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from .pooling3d import adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = {
    "nearest": (1, 2, 3),
    "nearest-exact": (1, 2, 3),
    "area": (1, 2, 3),
    "linear": (1,),
    "bilinear": (2,),
    "bicubic": (2,),
    "trilinear": (3,),
}
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) bicubic convolution constant


def _scale(n_in: int, n_out: int, scale: float | None, ft: type) -> Any:
    """compute_scales_value: 1 / scale_factor when given, else in / out, in the float type `ft`."""
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n_in) / ft(n_out)


def _nearest_source(
    n_in: int, n_out: int, mode: str, scale: float | None, ft: type, planar: bool = False
) -> np.ndarray:
    """The input position each output position copies: floor(scale * dst) for 'nearest' (OpenCV's
    INTER_NEAREST), floor(scale * (dst + 0.5) - 0.5 + 0.5) for 'nearest-exact' (Pillow, scipy).

    Rounded as PyTorch's compiled kernels round. For 1-D and 3-D inputs: the position in the float
    type `ft` (float32 for float32 and integer inputs, where the multiply-subtract is fused, so one
    rounding), the final + 0.5 in double, the floor taken on a float32 (floorf), also for float64.
    2-D inputs (`planar`) go through PyTorch's older index helpers instead: a float32 scale for every
    dtype, and for 'nearest' a same-size axis is copied and an exactly doubled one halves the index.
    """
    dst = np.arange(n_out)
    if planar:
        s32 = float(_scale(n_in, n_out, scale, np.float32))
        if mode == "nearest":
            if n_out == n_in:
                return dst
            if n_out == 2 * n_in:
                return dst >> 1
            real = dst.astype(np.float32) * np.float32(s32)
        else:
            real = ((dst + 0.5) * s32).astype(np.float32)
        return np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    s = _scale(n_in, n_out, scale, ft)
    if mode == "nearest":
        real = (s * dst.astype(ft)).astype(np.float32)
    else:
        if ft is np.float32:  # fused multiply-add: the exact product, rounded once
            pos = (np.float64(s) * (dst + 0.5) - 0.5).astype(np.float32)
        else:
            pos = s * (dst + 0.5) - 0.5
        real = (np.maximum(pos, 0).astype(np.float64) + 0.5).astype(np.float32)
    return np.minimum(np.floor(real).astype(np.int64), n_in - 1)


def _source_index(
    n_in: int, n_out: int, align_corners: bool, scale: float | None, ft: type, cubic: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(floor index, fraction) of each output position's real source position (PyTorch's
    area_pixel_compute_source_index + guard_index_and_lambda), computed in the float type `ft`."""
    dst: np.ndarray = np.arange(n_out).astype(ft)
    if align_corners:
        ratio = ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
        real = ratio * dst
    else:
        real = _scale(n_in, n_out, scale, ft) * (dst + ft(0.5)) - ft(0.5)
        if not cubic:
            real = np.maximum(real, ft(0))
    index = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    frac = np.clip(real - index.astype(ft), ft(0), ft(1))
    return index, frac


def _weights(
    n_in: int, n_out: int, mode: str, align_corners: bool, scale: float | None, ft: type
) -> np.ndarray:
    """(n_out, n_in) interpolation weights of one axis, in float type `ft`."""
    mat: np.ndarray = np.zeros((n_out, n_in), dtype=ft)
    dst = np.arange(n_out)
    cubic = mode == "bicubic"
    if n_out == n_in and not cubic:  # the linear kernels copy when the size does not change
        mat[dst, dst] = 1
        return mat
    index, t = _source_index(n_in, n_out, align_corners, scale, ft, cubic)
    if not cubic:
        np.add.at(mat, (dst, index), ft(1) - t)
        np.add.at(mat, (dst, np.minimum(index + 1, n_in - 1)), t)
        return mat
    a = ft(_CUBIC_A)

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    coeffs = (far(t + 1), near(t), near(1 - t), far(2 - t))
    for k, w in enumerate(coeffs):
        np.add.at(mat, (dst, np.clip(index - 1 + k, 0, n_in - 1)), w)
    return mat


def _sizes(
    op: str, x: Tensor, size: Any, scale_factor: Any, mode: str, recompute_scale_factor: bool | None
) -> tuple[tuple[int, ...], tuple]:
    """PyTorch's output size and the scales the kernels see (None where recomputed or sized)."""
    dims = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ShapeError(f"{op}: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ShapeError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(out) != dims:
            raise ShapeError(
                f"{op}: input and output must have the same number of spatial "
                f"dimensions, but got input of shape {x.shape} and output size "
                f"{size!r}"
            )
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out):
            raise TypeError(f"{op}: expected size to be an int or a tuple of ints, got {size!r}")
        return tuple(int(v) for v in out), (None,) * dims
    if scale_factor is None:
        raise ShapeError(f"{op}: either size or scale_factor should be defined")
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * dims
    if len(scales) != dims:
        raise ShapeError(
            f"{op}: input and scale_factor must have the same number of spatial "
            f"dimensions, but got input of shape {x.shape} and scale_factor "
            f"{scale_factor!r}"
        )
    if not all(isinstance(s, (int, float, np.number)) and not isinstance(s, bool) and s > 0 for s in scales):
        raise ShapeError(f"{op}: scale_factor must be positive numbers, got {scale_factor!r}")
    out = tuple(math.floor(float(n) * float(s)) for n, s in zip(x.shape[2:], scales))
    if recompute_scale_factor or mode == "area":
        return out, (None,) * dims
    return out, tuple(float(s) for s in scales)


@tensor_args("input")
def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size` or by `scale_factor`.

    mode: 'nearest', 'nearest-exact', 'area' (any of 1-3 spatial dims), 'linear' (1), 'bilinear' or
    'bicubic' (2), 'trilinear' (3). align_corners only for the interpolating modes (default False).
    With a scale_factor the kernels use 1 / scale_factor for the coordinate map unless
    recompute_scale_factor=True, which uses in / out of the floored output size, as in PyTorch.
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ShapeError(f"{op}: mode must be one of {', '.join(repr(m) for m in _MODES)}, got {mode!r}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ShapeError(
                f"{op}: align_corners option can only be set with the interpolating "
                f"modes: linear | bilinear | bicubic | trilinear (got mode {mode!r})"
            )
    elif align_corners is None:
        align_corners = False
    dims = input.ndim - 2
    if dims not in _MODES[mode]:
        need = " or ".join(f"{d + 2}-D" for d in _MODES[mode])
        raise ShapeError(
            f"{op}: mode {mode!r} needs a {need} input (N, C, *spatial), got shape {input.shape}"
        )
    if antialias:
        raise ShapeError(f"{op}: antialias=True is not supported")
    out, scales = _sizes(op, input, size, scale_factor, mode, recompute_scale_factor)
    if min(out) < 1:
        raise ShapeError(f"{op}: output size {out} must be positive (input shape {input.shape})")
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dims - 1]
        return pool(input, out)
    y = input
    ft = input.dtype.type if input.dtype.kind == "f" else np.float32
    if mode in ("nearest", "nearest-exact"):
        for axis, (n_in, n_out, s) in enumerate(zip(input.shape[2:], out, scales), start=2):
            src = _nearest_source(n_in, n_out, mode, s, ft, planar=dims == 2)
            if n_out != n_in or not np.array_equal(src, np.arange(n_in)):
                y = y.index_select(axis, src)
        return y
    if input.dtype.kind != "f":
        raise DTypeError(f"{op}: mode {mode!r} needs a floating point input, got {input.dtype}")
    for axis, (n_in, n_out, s) in enumerate(zip(input.shape[2:], out, scales), start=2):
        if n_out == n_in and mode != "bicubic":
            continue
        weights = _weights(n_in, n_out, mode, bool(align_corners), s, ft)  # (out, in)
        if axis == input.ndim - 1:
            y = y @ as_tensor(np.ascontiguousarray(weights.T))  # (..., W) @ (W, OW)
        elif axis == input.ndim - 2:
            y = as_tensor(weights) @ y  # (OH, H) @ (..., H, W')
        else:
            y = (y.movedim(axis, -1) @ as_tensor(np.ascontiguousarray(weights.T))).movedim(-1, axis)
    return y


@tensor_args("input")
def upsample(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Deprecated alias of `interpolate` (kept for PyTorch compatibility)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


@tensor_args("input")
def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: `interpolate(..., mode='nearest')`."""
    return interpolate(input, size, scale_factor, mode="nearest")


@tensor_args("input")
def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: `interpolate(..., mode='bilinear', align_corners=True)`."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
