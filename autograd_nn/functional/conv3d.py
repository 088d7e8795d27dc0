"""F.conv3d and F.conv_transpose3d, composed exactly from the 2-D convolution.

A 3-D convolution is a 2-D one over (H, W) whose input channels are the kd depth taps of each
channel: stack, for every output depth `od`, the input slices at depths od * sd + k * dd (k < kd) as
kd * C channels, and fold the kernel's depth into its channels the same way; one `conv2d` over a batch
of N * OD such images then gives the output (one im2col and one GEMM, as a native 3-D im2col would).
The transposed convolution is the adjoint of that map: `conv_transpose2d`, then each depth tap added
back at its depth. Every step is a differentiable op, so gradients of any order work, and the 2-D
path's speed carries over.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..errors import ShapeError
from ..ops.conv import check_dtypes
from ..ops.join import stack
from ..ops.pad import pad
from .arguments import tensor_args
from .conv import conv2d, conv_transpose2d

__all__ = ["conv3d", "conv_transpose3d"]

Triple = tuple[int, int, int]


def _triple(op: str, name: str, value: Any, least: int) -> Triple:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3
    if len(vals) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise ShapeError(f"{op}: {name} must be an int or a tuple of 3 ints, got {value!r}")
    if min(vals) < least:
        raise ShapeError(f"{op}: {name} must be >= {least}, got {value!r}")
    return vals


def _batched(op: str, x: Any, w: Any, b: Any) -> tuple[Tensor, bool]:
    for name, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if w.ndim != 5:
        raise ShapeError(f"{op}: weight must have 5 dimensions, got shape {w.shape}")
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}: expected a 4-D (unbatched) or 5-D (batched) input, got shape {x.shape}")
    check_dtypes(op, x, w, b)
    if x.ndim == 4:
        return x.unsqueeze(0), True
    return x, False


def _depth_taps(x: Tensor, kd: int, sd: int, dd: int, od: int, groups: int) -> Tensor:
    """(N, C, D, H, W) -> (N * OD, G * kd * C / G, H, W): image (n, od) holds, per group, the kd
    depth slices od * sd + k * dd of that group's channels (tap-major)."""
    n, c, _, h, w = x.shape
    taps = [x[:, :, k * dd : k * dd + (od - 1) * sd + 1 : sd] for k in range(kd)]  # (N, C, OD, H, W)
    t = stack(taps, 2) if kd > 1 else taps[0].unsqueeze(2)  # (N, C, kd, OD, H, W)
    t = t.reshape(n, groups, c // groups, kd, od, h, w).permute(0, 4, 1, 3, 2, 5, 6)
    return t.reshape(n * od, c * kd, h, w)  # (N * OD, G * kd * C / G, H, W)


def _fold_kernel_depth(w: Tensor) -> Tensor:
    """(A, B, kd, kh, kw) -> (A, kd * B, kh, kw), taps slowest within dim 1."""
    a, b, kd, kh, kw = w.shape
    return w.permute(0, 2, 1, 3, 4).reshape(a, kd * b, kh, kw)


@tensor_args("input", "weight", "bias", same_dtype=True)
def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """3-D cross-correlation: input (N, C, D, H, W), weight (OC, C / groups, kd, kh, kw) ->
    (N, OC, OD, OH, OW). padding: an int, a triple, 'valid' or 'same' (stride 1)."""
    op = "conv3d"
    x, unbatched = _batched(op, input, weight, bias)
    s = _triple(op, "stride", stride, 1)
    d = _triple(op, "dilation", dilation, 1)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ShapeError(f"{op}: groups must be a positive integer, got {groups!r}")
    oc, cg, kd, kh, kw = weight.shape
    c = x.shape[1]
    if c % groups or oc % groups or cg * groups != c:
        raise ShapeError(
            f"{op}: input has {c} channels but weight {weight.shape} with groups="
            f"{groups} expects {cg * groups} (groups must divide both channel counts)"
        )
    if bias is not None and bias.shape != (oc,):
        raise ShapeError(f"{op}: bias must have shape ({oc},), got {bias.shape}")
    span = tuple(di * (k - 1) for di, k in zip(d, (kd, kh, kw)))
    plane_pad: str | tuple[int, int]  # 'same', 'valid' or the (h, w) padding
    if padding == "same":
        if max(s) != 1:
            raise ShapeError(f"{op}: padding='same' needs stride 1, got {s}")
        depth_pad, plane_pad = (span[0] // 2, span[0] - span[0] // 2), "same"
    elif padding == "valid":
        depth_pad, plane_pad = (0, 0), "valid"
    elif isinstance(padding, str):
        raise ShapeError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        p = _triple(op, "padding", padding, 0)
        depth_pad, plane_pad = (p[0], p[0]), p[1:]
    size = x.shape[2:]
    pads = (sum(depth_pad),) + (
        (2 * plane_pad[0], 2 * plane_pad[1])
        if isinstance(plane_pad, tuple)
        else span[1:]
        if plane_pad == "same"
        else (0, 0)
    )
    if any(n + pt < sp + 1 for n, pt, sp in zip(size, pads, span)):
        raise ShapeError(
            f"{op}: kernel {(kd, kh, kw)} (dilation {d}) is larger than the padded input {tuple(size)}"
        )
    if any(depth_pad):
        x = pad(x, (0, 0, 0, 0) + depth_pad)  # zeros in front of and behind the depth axis
    od = (x.shape[2] - span[0] - 1) // s[0] + 1
    n = x.shape[0]
    cols = _depth_taps(x, kd, s[0], d[0], od, groups)  # (N * OD, kd * C, H, W)
    y = conv2d(cols, _fold_kernel_depth(weight), bias, s[1:], plane_pad, d[1:], groups)
    y = y.reshape(n, od, oc, y.shape[2], y.shape[3]).permute(0, 2, 1, 3, 4)  # (N, OC, OD, OH, OW)
    return y.squeeze(0) if unbatched else y


@tensor_args("input", "weight", "bias", same_dtype=True)
def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d with respect to its input): input
    (N, C_in, D, H, W), weight (C_in, C_out / groups, kd, kh, kw) -> (N, C_out, D_out, H_out, W_out),
    D_out = (D - 1) * stride - 2 * padding + dilation * (kd - 1) + output_padding + 1."""
    op = "conv_transpose3d"
    x, unbatched = _batched(op, input, weight, bias)
    if isinstance(padding, str):
        raise ShapeError(f"{op}: padding must be an int or a tuple, got {padding!r}")
    s = _triple(op, "stride", stride, 1)
    d = _triple(op, "dilation", dilation, 1)
    p = _triple(op, "padding", padding, 0)
    op_ = _triple(op, "output_padding", output_padding, 0)
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ShapeError(f"{op}: groups must be a positive integer, got {groups!r}")
    c_in, cg, kd, _kh, _kw = weight.shape
    if x.shape[1] != c_in:
        raise ShapeError(f"{op}: input has {x.shape[1]} channels but weight {weight.shape} expects {c_in}")
    if c_in % groups:
        raise ShapeError(f"{op}: groups={groups} does not divide the {c_in} input channels")
    if any(o >= si and o >= di for o, si, di in zip(op_, s, d)):
        raise ShapeError(
            f"{op}: output_padding {op_} must be smaller than the stride {s} or the dilation {d}"
        )
    c_out = cg * groups
    if bias is not None and bias.shape != (c_out,):
        raise ShapeError(f"{op}: bias must have shape ({c_out},), got {bias.shape}")
    n, _, depth, h, w = x.shape
    full = (depth - 1) * s[0] + d[0] * (kd - 1) + 1  # depth before cropping the padding
    out_depth = full - 2 * p[0] + op_[0]
    if out_depth < 1:
        raise ShapeError(f"{op}: output depth {out_depth} is not positive for input {input.shape}")
    planes = x.permute(0, 2, 1, 3, 4).reshape(n * depth, c_in, h, w)  # (N * D, C_in, H, W)
    z = conv_transpose2d(
        planes, _fold_kernel_depth(weight), None, s[1:], p[1:], op_[1:], groups, d[1:]
    )  # (N * D, G * kd * C_out / G, OH, OW)
    oh, ow = z.shape[2:]
    z = z.reshape(n, depth, groups, kd, cg, oh, ow).permute(0, 3, 2, 4, 1, 5, 6)
    z = z.reshape(n, kd, c_out, depth, oh, ow)  # (N, kd, C_out, D, OH, OW)
    if s[0] > 1:  # spread the depths s apart: (.., D, ..) -> (.., (D - 1) * s + 1, ..)
        z = pad(z.unsqueeze(4), (0, 0, 0, 0, 0, s[0] - 1)).reshape(n, kd, c_out, depth * s[0], oh, ow)
        z = z[:, :, :, : (depth - 1) * s[0] + 1]
    span = (depth - 1) * s[0] + 1
    y = None
    for k in range(kd):  # tap k lands at depths k * dd + od * sd
        front = k * d[0]
        tap = pad(z[:, k], (0, 0, 0, 0, front, full - front - span))  # (N, C_out, full, OH, OW)
        y = tap if y is None else y + tap
    assert y is not None  # kd >= 1 taps
    if p[0] or op_[0]:
        y = pad(y, (0, 0, 0, 0, -p[0], op_[0] - p[0]))  # crop the padding, add output_padding
    if bias is not None:
        y = y + bias.reshape(c_out, 1, 1, 1)
    return y.squeeze(0) if unbatched else y
