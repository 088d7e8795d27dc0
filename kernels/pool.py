"""Pooling loops: max with argmax, average, and their backward passes, over (N, C, H, W) planes.

Every pooling variant is described the same way, axis by axis: output position o reads the input
positions start[o] + t * step for t < count[o]. `pool_windows` builds these for ordinary pooling
(kernel, stride, padding, dilation, ceil_mode; windows are clipped to the image, so padding never
has to be materialised) and `adaptive_windows` for adaptive pooling (PyTorch's floor/ceil split).
1-D pooling is 2-D pooling with H = 1. So two forward loops and two backward loops serve
max_pool1d/2d, adaptive_max_pool, avg_pool1d/2d and adaptive_avg_pool.

The loops are serial, one (N, C) plane after another: measured on the shared 2-core machine at the
CNN benchmark's sizes, `parallel=True` versions were 1.2x to 15x slower (thread hand-off under load)
and took about 3x longer to compile. The jitted loops index without bounds checks; the Python
wrappers validate every window and index against the image first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

Windows = tuple[np.ndarray, np.ndarray, int]  # (start, count, step) along one axis


@njit(cache=True)
def _max_pool(x, hs, hc, dh, ws, wc, dw, out, arg):  # pragma: no cover - jitted
    n_img, n_ch, _h, w = x.shape
    oh, ow = hs.size, ws.size
    for nc in range(n_img * n_ch):
        n = nc // n_ch
        c = nc - n * n_ch
        plane = x[n, c]
        for oy in range(oh):
            for ox in range(ow):
                best = -np.inf
                where = hs[oy] * w + ws[ox]  # PyTorch's choice when every value is -inf
                for a in range(hc[oy]):
                    iy = hs[oy] + a * dh
                    for b in range(wc[ox]):
                        ix = ws[ox] + b * dw
                        v = plane[iy, ix]
                        if v > best or np.isnan(v):  # NaN wins and propagates, as in PyTorch
                            best = v
                            where = iy * w + ix
                out[n, c, oy, ox] = best
                arg[n, c, oy, ox] = where


@njit(cache=True)
def _scatter_planes(g, arg, out):  # pragma: no cover - jitted
    n_img, n_ch = g.shape[0], g.shape[1]
    for nc in range(n_img * n_ch):
        n = nc // n_ch
        c = nc - n * n_ch
        dst = out[n, c]
        src = g[n, c]
        idx = arg[n, c]
        dst[:] = 0.0
        for k in range(src.size):
            dst[idx[k]] += src[k]


@njit(cache=True)
def _avg_pool(x, hs, hc, ws, wc, hdiv, wdiv, out):  # pragma: no cover - jitted
    n_img, n_ch = x.shape[0], x.shape[1]
    oh, ow = hs.size, ws.size
    for nc in range(n_img * n_ch):
        n = nc // n_ch
        c = nc - n * n_ch
        plane = x[n, c]
        for oy in range(oh):
            for ox in range(ow):
                total = 0.0  # accumulate in float64, as PyTorch does on CPU
                for iy in range(hs[oy], hs[oy] + hc[oy]):
                    for ix in range(ws[ox], ws[ox] + wc[ox]):
                        total += plane[iy, ix]
                out[n, c, oy, ox] = total / (hdiv[oy] * wdiv[ox])


@njit(cache=True)
def _avg_pool_backward(g, hs, hc, ws, wc, hdiv, wdiv, out):  # pragma: no cover - jitted
    n_img, n_ch = g.shape[0], g.shape[1]
    oh, ow = hs.size, ws.size
    for nc in range(n_img * n_ch):
        n = nc // n_ch
        c = nc - n * n_ch
        dst = out[n, c]
        dst[:, :] = 0.0
        for oy in range(oh):
            for ox in range(ow):
                share = g[n, c, oy, ox] / (hdiv[oy] * wdiv[ox])
                for iy in range(hs[oy], hs[oy] + hc[oy]):
                    for ix in range(ws[ox], ws[ox] + wc[ox]):
                        dst[iy, ix] += share


def pool_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output length; with ceil_mode the last window must start inside the input
    or the left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool_windows(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> tuple[Windows, np.ndarray, np.ndarray]:
    """Windows of ordinary pooling along one axis, clipped to [0, size).

    Returns ((start, count, dilation), include_pad_divisor, valid_divisor): the divisors of average
    pooling with count_include_pad=True (the window clipped to the padded input, as PyTorch does) and
    with count_include_pad=False (the number of real elements).
    """
    out = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    first = np.arange(max(out, 0), dtype=np.int64) * stride - padding
    last = first + dilation * (kernel - 1)
    skip = np.maximum(0, -first + dilation - 1) // dilation  # taps that fall in the left padding
    start = first + skip * dilation
    stop = np.minimum(last, size - 1)
    count = np.maximum(0, (stop - start) // dilation + 1)
    count[start > stop] = 0
    with_pad = np.minimum(first + kernel, size + padding) - first
    return (start, count, dilation), with_pad, count.copy()


def adaptive_windows(size: int, out: int) -> Windows:
    """Adaptive pooling windows: [floor(o * size / out), ceil((o + 1) * size / out))."""
    o = np.arange(out, dtype=np.int64)
    start = (o * size) // out
    stop = -((-(o + 1) * size) // out)
    return start, stop - start, 1


def _check(op: str, x: np.ndarray, rows: Windows, cols: Windows) -> None:
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{op}: input must be a float32 or float64 ndarray, got {getattr(x, 'dtype', type(x).__name__)}"
        )
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be (N, C, H, W), got shape {x.shape}")
    for axis, (start, count, step) in zip((2, 3), (rows, cols)):
        if start.shape != count.shape or start.ndim != 1 or int(step) < 1:
            raise ValueError(f"{op}: malformed windows along axis {axis}")
        if count.size and count.min() < 0:
            raise ValueError(f"{op}: negative window size along axis {axis}")
        used = count > 0
        first, last = start[used], start[used] + (count[used] - 1) * step
        if first.size and (first.min() < 0 or last.max() >= x.shape[axis]):
            raise ValueError(f"{op}: a window leaves the input (size {x.shape[axis]}) along axis {axis}")


def _ints(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def max_pool(x: np.ndarray, rows: Windows, cols: Windows) -> tuple[np.ndarray, np.ndarray]:
    """Max over each window, and the flat index (iy * W + ix) of the max in its input plane.

    Every window must hold at least one element (PyTorch's padding rule guarantees it).
    """
    _check("max_pool", x, rows, cols)
    if (rows[1].size and rows[1].min() < 1) or (cols[1].size and cols[1].min() < 1):
        raise ValueError("max_pool: a pooling window lies entirely in the padding")
    shape = x.shape[:2] + (rows[0].size, cols[0].size)
    out = np.empty(shape, dtype=x.dtype)
    arg = np.empty(shape, dtype=np.int64)
    _max_pool(
        np.ascontiguousarray(x),
        _ints(rows[0]),
        _ints(rows[1]),
        int(rows[2]),
        _ints(cols[0]),
        _ints(cols[1]),
        int(cols[2]),
        out,
        arg,
    )
    return out, arg


def scatter_planes(g: np.ndarray, arg: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """out[n, c].flat[arg[n, c, k]] += g[n, c, k]: the backward of max pooling."""
    if not isinstance(g, np.ndarray) or g.dtype not in (np.float32, np.float64) or g.ndim < 2:
        raise TypeError(
            f"scatter_planes: g must be a float32/float64 array with N, C axes, got "
            f"{getattr(g, 'dtype', None)} {getattr(g, 'shape', None)}"
        )
    if not isinstance(arg, np.ndarray) or arg.shape != g.shape or arg.dtype.kind not in "iu":
        raise ValueError(
            f"scatter_planes: indices {getattr(arg, 'shape', None)} must be integers "
            f"shaped like the gradient {g.shape}"
        )
    h, w = image_size
    if arg.size and (arg.min() < 0 or arg.max() >= h * w):
        raise IndexError(f"scatter_planes: an index is outside the {h}x{w} plane")
    n, c = g.shape[:2]
    out = np.empty((n, c, h * w), dtype=g.dtype)
    _scatter_planes(
        np.ascontiguousarray(g).reshape(n, c, -1),
        np.ascontiguousarray(arg, dtype=np.int64).reshape(n, c, -1),
        out,
    )
    return out.reshape(n, c, h, w)


def avg_pool(
    x: np.ndarray, rows: Windows, cols: Windows, row_div: np.ndarray, col_div: np.ndarray
) -> np.ndarray:
    """Sum over each (step-1) window divided by row_div[oy] * col_div[ox]."""
    _check("avg_pool", x, rows, cols)
    out = np.empty(x.shape[:2] + (rows[0].size, cols[0].size), dtype=x.dtype)
    _avg_pool(np.ascontiguousarray(x), *_avg_args(rows, cols, row_div, col_div, x.dtype), out)
    return out


def avg_pool_backward(
    g: np.ndarray,
    image_size: tuple[int, int],
    rows: Windows,
    cols: Windows,
    row_div: np.ndarray,
    col_div: np.ndarray,
) -> np.ndarray:
    """The adjoint of `avg_pool`: spread each gradient evenly over its window."""
    _check("avg_pool_backward", np.empty(g.shape[:2] + tuple(image_size), g.dtype), rows, cols)
    if g.shape[2:] != (rows[0].size, cols[0].size):
        raise ValueError(f"avg_pool_backward: gradient {g.shape} does not fit the windows")
    out = np.empty(g.shape[:2] + tuple(image_size), dtype=g.dtype)
    _avg_pool_backward(np.ascontiguousarray(g), *_avg_args(rows, cols, row_div, col_div, g.dtype), out)
    return out


def _avg_args(
    rows: Windows, cols: Windows, row_div: np.ndarray, col_div: np.ndarray, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if rows[2] != 1 or cols[2] != 1:
        raise ValueError("avg_pool: windows must have step 1")
    if row_div.shape != rows[0].shape or col_div.shape != cols[0].shape:
        raise ValueError("avg_pool: one divisor per output position is needed along each axis")
    return (
        _ints(rows[0]),
        _ints(rows[1]),
        _ints(cols[0]),
        _ints(cols[1]),
        np.ascontiguousarray(row_div, dtype=dtype),
        np.ascontiguousarray(col_div, dtype=dtype),
    )


__all__ = [
    "adaptive_windows",
    "avg_pool",
    "avg_pool_backward",
    "max_pool",
    "pool_output_size",
    "pool_windows",
    "scatter_planes",
]
