"""Pooling beyond the 2-D kernels: 3-D pooling as two 2-D passes, max unpooling, integer max pooling.

Pooling over a box is separable: the max (or sum) over (kd, kh, kw) windows is the max over kd-long
windows along D of the max over (kh, kw) windows of each depth slice. So a 3-D pool is the 2-D op of
`ops/pool.py` on (N, C * D, H, W), then again on the (D, OH * OW) planes with a (kd, 1) window; each
axis' padding, dilation, ceil_mode and clipping is independent, and average divisors (count_include_pad
or not, adaptive window sizes) are per-axis products. The first maximum in (d, h, w) order wins, as in
PyTorch's scan, and NaN propagates. Gradients come from the 2-D ops, to any order.

`MaxUnpool` writes each value at its recorded flat index in an otherwise zero plane (PyTorch's
max_unpool); its gradient reads the output gradient back at those indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import OpIndexError, ShapeError
from ..function import Function
from ..kernels import pool as kpool
from . import dual
from . import pool as P

Triple = tuple[int, int, int]


def check_windows(
    op: str, image: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, ceil_mode: bool
) -> tuple:
    """PyTorch's checks of a pooling's windows along each spatial axis; the output size."""
    out = []
    for n, k, s, p, d in zip(image, kernel, stride, padding, dilation):
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise ShapeError(
                f"{op}: kernel_size, stride and dilation must be positive and padding "
                f"non-negative, got {kernel}, {stride}, {padding}, {dilation}"
            )
        if p > k // 2:
            raise ShapeError(f"{op}: padding {padding} must be at most half of the kernel size {kernel}")
        o = kpool.pool_output_size(n, k, s, p, d, ceil_mode)
        if o < 1:
            raise ShapeError(
                f"{op}: the kernel {kernel} (dilation {dilation}) does not fit the "
                f"padded input of spatial size {tuple(image)}"
            )
        out.append(o)
    return tuple(out)


def _check_float5(op: str, x: Any) -> None:
    if x.ndim != 5:
        raise ShapeError(f"{op}: expected a 4-D (unbatched) or 5-D (batched) input, got shape {x.shape}")
    if min(x.shape[2:], default=1) < 1:
        raise ShapeError(f"{op}: input {x.shape} has an empty spatial dimension")


def _depth_index(
    i1: np.ndarray, i2: np.ndarray, n: int, c: int, d: int, plane: tuple, out_plane: tuple
) -> np.ndarray:
    """Flat (d, h, w) argmax from the plane pass's (h, w) argmax and the depth pass's argmax."""
    cells = out_plane[0] * out_plane[1]
    depth = i2 // cells  # (N, C, OD, OH * OW): the depth slice the max came from
    hw = np.take_along_axis(i1.reshape(n, c, d, cells), depth, axis=2)
    index = depth * (plane[0] * plane[1]) + hw
    return index.reshape(i2.shape[:3] + tuple(out_plane))


def max_pool3d(
    op: str, x: Any, kernel: Triple, stride: Triple, padding: Triple, dilation: Triple, ceil_mode: bool
) -> tuple[Any, np.ndarray]:
    """Max pooling of (N, C, D, H, W) and the flat (d, h, w) argmax of each window."""
    _check_float5(op, x)
    n, c, d, h, w = x.shape
    check_windows(op, (d, h, w), kernel, stride, padding, dilation, ceil_mode)
    y1, i1 = P.max_pool(
        op, x.reshape(n, c * d, h, w), kernel[1:], stride[1:], padding[1:], dilation[1:], ceil_mode
    )  # (N, C * D, OH, OW)
    oh, ow = y1.shape[2:]
    y2, i2 = P.max_pool(
        op,
        y1.reshape(n, c, d, oh * ow),
        (kernel[0], 1),
        (stride[0], 1),
        (padding[0], 0),
        (dilation[0], 1),
        ceil_mode,
    )  # (N, C, OD, OH * OW)
    index = _depth_index(i1, i2, n, c, d, (h, w), (oh, ow))
    return y2.reshape(n, c, y2.shape[2], oh, ow), index


def adaptive_max_pool3d(op: str, x: Any, out: Triple) -> tuple[Any, np.ndarray]:
    _check_float5(op, x)
    n, c, d, h, w = x.shape
    y1, i1 = P.adaptive_max_pool(op, x.reshape(n, c * d, h, w), out[1:])
    y2, i2 = P.adaptive_max_pool(op, y1.reshape(n, c, d, out[1] * out[2]), (out[0], out[1] * out[2]))
    return y2.reshape((n, c) + tuple(out)), _depth_index(i1, i2, n, c, d, (h, w), out[1:])


def avg_pool3d(
    op: str,
    x: Any,
    kernel: Triple,
    stride: Triple,
    padding: Triple,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Any:
    """Average pooling of (N, C, D, H, W); the divisor of each window is the product of its
    per-axis sizes (or `divisor_override`)."""
    _check_float5(op, x)
    n, c, d, h, w = x.shape
    check_windows(op, (d, h, w), kernel, stride, padding, (1, 1, 1), ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ShapeError(f"{op}: divisor_override must be non-zero")
    plane_div = None if divisor_override is None else 1  # sums first, then divide once
    y1 = P.avg_pool(
        op,
        x.reshape(n, c * d, h, w),
        kernel[1:],
        stride[1:],
        padding[1:],
        ceil_mode,
        count_include_pad,
        plane_div,
    )  # (N, C * D, OH, OW)
    oh, ow = y1.shape[2:]
    y2 = P.avg_pool(
        op,
        y1.reshape(n, c, d, oh * ow),
        (kernel[0], 1),
        (stride[0], 1),
        (padding[0], 0),
        ceil_mode,
        count_include_pad,
        divisor_override,
    )
    return y2.reshape(n, c, y2.shape[2], oh, ow)


def adaptive_avg_pool3d(op: str, x: Any, out: Triple) -> Any:
    _check_float5(op, x)
    n, c, d, h, w = x.shape
    y1 = P.adaptive_avg_pool(op, x.reshape(n, c * d, h, w), out[1:])
    y2 = P.adaptive_avg_pool(op, y1.reshape(n, c, d, out[1] * out[2]), (out[0], out[1] * out[2]))
    return y2.reshape((n, c) + tuple(out))


# ---- max pooling of integer tensors (forward only, as PyTorch allows) --------------------------
def int_max_pool(
    op: str, x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, ceil_mode: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Values and flat argmax of max pooling an integer array (N, C, *spatial), by NumPy windows.

    The first maximum of each window (clipped to the input) wins, as in PyTorch's scan.
    """
    spatial = x.shape[2:]
    dims = len(spatial)
    out = check_windows(op, spatial, kernel, stride, padding, dilation, ceil_mode)
    spans = [di * (k - 1) + 1 for di, k in zip(dilation, kernel)]
    right = [max(0, (o - 1) * s + sp - p - n) for o, s, sp, p, n in zip(out, stride, spans, padding, spatial)]
    widths = [(0, 0), (0, 0)] + [(p, r) for p, r in zip(padding, right)]
    low = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False
    xp = np.pad(x, widths, constant_values=low)
    valid = np.pad(np.ones(spatial, bool), widths[2:], constant_values=False)
    axes = tuple(range(2, 2 + dims))
    pick = (
        (slice(None),) * 2
        + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride))
        + tuple(slice(None, None, di) for di in dilation)
    )
    win = sliding_window_view(xp, spans, axis=axes)[pick].reshape(x.shape[:2] + out + (-1,))
    ok = sliding_window_view(valid, spans)[pick[2:]].reshape(out + (-1,))
    best = np.where(ok, win, low).max(axis=-1)
    first = np.argmax(ok & (win == best[..., None]), axis=-1)  # (N, C, *out)
    taps = np.unravel_index(first, tuple(kernel))
    flat = np.zeros(first.shape, np.int64)
    for a in range(dims):
        pos = np.arange(out[a]).reshape((-1,) + (1,) * (dims - 1 - a)) * stride[a] - padding[a]
        flat = flat * spatial[a] + pos + taps[a] * dilation[a]
    return best.astype(x.dtype), flat


# ---- max unpooling ---------------------------------------------------------------------------
class MaxUnpool(Function):
    """out (N, C, *image) = 0, then out[n, c].flat[index[n, c, k]] = x[n, c, k] (last write wins)."""

    def forward(self, x: np.ndarray, *, index: np.ndarray, image: tuple) -> np.ndarray:
        n, c = x.shape[:2]
        self.index = index
        out = np.zeros((n, c, int(np.prod(image))), dtype=x.dtype)
        np.put_along_axis(out, index.reshape(n, c, -1), x.reshape(n, c, -1), axis=2)
        return out.reshape((n, c) + tuple(image))

    def backward(self, g):
        if dual.is_tensor(g):
            return P.GatherPlanes.apply(g, index=self.index)
        n, c = g.shape[:2]
        flat = np.take_along_axis(g.reshape(n, c, -1), self.index.reshape(n, c, -1), axis=2)
        return flat.reshape(self.index.shape)


def max_unpool(op: str, x: Any, index: np.ndarray, image: tuple) -> Any:
    """Scatter a batched (N, C, *spatial) input to (N, C, *image) at `index` (checked first)."""
    if index.shape != x.shape:
        raise ShapeError(f"{op}: expected indices of the input's shape {x.shape}, got {index.shape}")
    if index.dtype.kind not in "iu":
        raise ShapeError(f"{op}: indices must be an integer tensor, got {index.dtype}")
    size = int(np.prod(image))
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = int(index.min()) if index.min() < 0 else int(index.max())
        raise OpIndexError(
            f"{op}: found an invalid max index {bad} (output volumes are of size "
            f"{'x'.join(str(s) for s in image)})"
        )
    return MaxUnpool.apply(x, index=index.astype(np.int64, copy=False), image=tuple(image))
