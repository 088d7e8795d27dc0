"""im2col / col2im: the data reshuffles around the GEMM of a convolution.

A convolution is a matrix product once every receptive field is laid out as a column. `im2col` copies
the (kh, kw) window at each output position of an (N, C, H, W) image into columns of shape
(N, C * kh * kw, OH * OW), so that the weights (OC, C * kh * kw) times the columns gives the output
with one batched BLAS call and no transpose afterwards. `col2im` is its adjoint: it adds each column
entry back to the pixel it came from (the input gradient of a convolution, and the forward of a
transposed convolution).

One general 2-D pair serves every case: 1-D convolutions are 2-D ones with H = 1, groups are a view of
the channel axis, and padding may be asymmetric ('same' with an even kernel) because only the top/left
padding and the output size are needed; positions outside the image read as zero.

The jitted loops index without bounds checks, so the Python wrappers validate shapes, dtypes and
geometry first. The loops run in parallel over the N * C image planes: each plane writes its own rows
of the columns (im2col) or its own plane of the image (col2im), so there are no races.
"""
from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange, set_num_threads

# Below this many column entries a second thread costs more than it saves (thread wake-up, and
# oversubscription when several processes share the cores): run the parallel loop on one thread.
PARALLEL_MIN = 1 << 18


def _run_sized(kernel, work: int, *args) -> None:
    """Call a `parallel=True` kernel, on a single thread when `work` is small."""
    if work >= PARALLEL_MIN:
        kernel(*args)
        return
    previous = get_num_threads()
    set_num_threads(1)
    try:
        kernel(*args)
    finally:
        set_num_threads(previous)

Pair = tuple[int, int]


@njit(cache=True, parallel=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out):  # pragma: no cover - jitted
    n_img, n_ch, h, w = x.shape
    for nc in prange(n_img * n_ch):
        n = nc // n_ch
        c = nc - n * n_ch
        for i in range(kh):
            for j in range(kw):
                row = out[n, c, i, j]
                off = j * dw - pw
                # output columns ox whose input column ox * sw + off lies inside [0, w)
                lo = min(ow, max(0, (sw - 1 - off) // sw))
                hi = min(ow, max(lo, (w - off + sw - 1) // sw))
                for oy in range(oh):
                    iy = oy * sh - ph + i * dh
                    base = oy * ow
                    if iy < 0 or iy >= h:
                        row[base:base + ow] = 0.0
                        continue
                    src = x[n, c, iy]
                    row[base:base + lo] = 0.0
                    if sw == 1:  # contiguous on both sides: a plain copy
                        row[base + lo:base + hi] = src[lo + off:hi + off]
                    else:
                        for ox in range(lo, hi):
                            row[base + ox] = src[ox * sw + off]
                    row[base + hi:base + ow] = 0.0


@njit(cache=True, parallel=True)
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out):  # pragma: no cover - jitted
    n_img, n_ch, h, w = out.shape
    for nc in prange(n_img * n_ch):
        n = nc // n_ch
        c = nc - n * n_ch
        out[n, c] = 0.0
        for i in range(kh):
            for j in range(kw):
                row = cols[n, c, i, j]
                off = j * dw - pw
                lo = min(ow, max(0, (sw - 1 - off) // sw))
                hi = min(ow, max(lo, (w - off + sw - 1) // sw))
                for oy in range(oh):
                    iy = oy * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    dst = out[n, c, iy]
                    base = oy * ow
                    if sw == 1:
                        for ox in range(lo, hi):
                            dst[ox + off] += row[base + ox]
                    else:
                        for ox in range(lo, hi):
                            dst[ox * sw + off] += row[base + ox]


def _check_geometry(op: str, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                    out_size: Pair = (0, 0)) -> None:
    for name, pair, least in (("kernel", kernel, 1), ("stride", stride, 1), ("padding", padding, 0),
                              ("dilation", dilation, 1), ("output size", out_size, 0)):
        if len(pair) != 2 or any(int(v) != v or v < least for v in pair):
            raise ValueError(f"{op}: {name} must be two integers >= {least}, got {pair}")


def _check_float(op: str, name: str, a: np.ndarray, ndim: int) -> None:
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: {name} must be a float32 or float64 ndarray, got "
                        f"{getattr(a, 'dtype', type(a).__name__)}")
    if a.ndim != ndim:
        raise ValueError(f"{op}: {name} must have {ndim} dimensions, got shape {a.shape}")


def conv_output_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length of a convolution along one axis (`pad_total` = padding on both sides)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x: np.ndarray, kernel: Pair, stride: Pair = (1, 1), padding: Pair = (0, 0),
           dilation: Pair = (1, 1), out_size: Pair | None = None) -> np.ndarray:
    """Columns (N, C * kh * kw, OH * OW) of the receptive fields of x (N, C, H, W).

    `padding` is the top/left padding; `out_size` (OH, OW) defaults to the symmetric-padding size.
    Row index c * kh * kw + i * kw + j, column oy * OW + ox holds x[c, oy*sh - ph + i*dh,
    ox*sw - pw + j*dw], or 0 where that falls outside the image.
    """
    _check_float("im2col", "x", x, 4)
    _check_geometry("im2col", kernel, stride, padding, dilation)
    if out_size is None:
        out_size = tuple(conv_output_size(x.shape[2 + a], kernel[a], stride[a], 2 * padding[a],
                                          dilation[a]) for a in range(2))
    _check_geometry("im2col", kernel, stride, padding, dilation, out_size)
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel, out_size
    out = np.empty((n, c, kh, kw, oh * ow), dtype=x.dtype)
    _run_sized(_im2col, out.size, np.ascontiguousarray(x), kh, kw, *stride, *padding, *dilation,
               oh, ow, out)
    return out.reshape(n, c * kh * kw, oh * ow)


def col2im(cols: np.ndarray, image_size: Pair, kernel: Pair, stride: Pair = (1, 1),
           padding: Pair = (0, 0), dilation: Pair = (1, 1), out_size: Pair | None = None) -> np.ndarray:
    """The adjoint of `im2col`: add columns (N, C * kh * kw, OH * OW) back into an (N, C, H, W) image.

    Entries that `im2col` would have read from the padding are dropped.
    """
    _check_float("col2im", "cols", cols, 3)
    _check_geometry("col2im", kernel, stride, padding, dilation)
    h, w = image_size
    if out_size is None:
        out_size = (conv_output_size(h, kernel[0], stride[0], 2 * padding[0], dilation[0]),
                    conv_output_size(w, kernel[1], stride[1], 2 * padding[1], dilation[1]))
    _check_geometry("col2im", kernel, stride, padding, dilation, out_size)
    if min(h, w) < 0:
        raise ValueError(f"col2im: image size must be non-negative, got {image_size}")
    n, rows, length = cols.shape
    (kh, kw), (oh, ow) = kernel, out_size
    if rows % (kh * kw) or length != oh * ow:
        raise ValueError(f"col2im: columns of shape {cols.shape} do not fit kernel {kernel} and "
                         f"output size {out_size}")
    c = rows // (kh * kw)
    cols6 = np.ascontiguousarray(cols).reshape(n, c, kh, kw, oh * ow)
    out = np.empty((n, c, h, w), dtype=cols.dtype)
    _run_sized(_col2im, cols6.size, cols6, kh, kw, *stride, *padding, *dilation, oh, ow, out)
    return out


__all__ = ["im2col", "col2im", "conv_output_size"]
