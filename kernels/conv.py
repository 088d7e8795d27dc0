"""im2col / col2im: the data reshuffles around the GEMM of a convolution.

A convolution is a matrix product once every receptive field is laid out as a row. `im2col` copies
the (kh, kw) window at each output position of an (N, C, H, W) image into one row of a matrix
(N * OH * OW, kh * kw * C), so that a tall-and-skinny GEMM with the weights gives the output (the
orientation OpenBLAS ran fastest on the benchmark sizes). With groups, the columns of group g form
their own contiguous matrix: the result is (groups, N * OH * OW, kh * kw * C / groups). Within a
row the order is (i, j, c), channels fastest, so that the `kw` taps of a row of the window are one
contiguous run of a padded channels-last copy of the image: the copy is a few long memory moves, not one
branchy move per element. `col2im` is the adjoint: it adds each entry back to the pixel it came from
(the input gradient of a convolution, and the forward of a transposed convolution).

Both work on a range of images [n0, n1) at a time, so a caller can stream the batch through a buffer
that stays in cache instead of materialising all the columns (9x the input for a 3x3 kernel). Each
image is first copied into a zero-padded (Hp, Wp, C) tile: the copy loops then never test bounds.
Flat offsets are unsigned, so Numba emits no negative-index wraparound test and LLVM vectorises the
copies (3x faster than signed indexing).

One general 2-D pair serves every case: 1-D convolutions are 2-D ones with H = 1, and padding may be
asymmetric ('same' with an even kernel) because only the top/left padding and the output size are
needed; positions outside the image read as zero.

The loops are serial (they compile several times faster than `parallel=True` ones) and release the
GIL (`nogil=True`): `ops/conv.py` runs blocks of images on autograd_nn's thread pool, each block an
im2col, a single-threaded GEMM and a copy. The jitted loops index without bounds checks, so the
Python wrappers validate shapes, dtypes and geometry first.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

Pair = tuple[int, int]


@njit(cache=True, nogil=True)
def _im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out):  # pragma: no cover - jitted
    n_ch, h, w = x.shape[1], x.shape[2], x.shape[3]
    groups, rows, kg = out.shape
    cg = n_ch // groups
    # zero-padded channels-last tile of one image: the image at (ph, pw), and every tap read
    wp = max(w + pw, (ow - 1) * sw + (kw - 1) * dw + 1)
    hp = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
    tile = np.zeros(hp * wp * n_ch, dtype=x.dtype)  # the padding stays zero for every image
    src, dst = x.reshape(x.size), out.reshape(out.size)
    # with one group and no dilation along W, the kw taps of a window row are one run
    run = np.uint64(kw * cg if groups == 1 and dw == 1 else cg)
    taps = 1 if groups == 1 and dw == 1 else kw
    step, nc, hw = np.uint64(dw * n_ch), np.uint64(n_ch), np.uint64(h * w)
    uow, ukg, sstep = np.uint64(ow), np.uint64(kg), np.uint64(sw * n_ch)
    for n in range(n0, n1):
        for y in range(h):
            for xx in range(w):
                t = np.uint64(((y + ph) * wp + pw + xx) * n_ch)
                o = np.uint64((n * n_ch * h + y) * w + xx)
                for c in range(nc):
                    tile[t + c] = src[o + c * hw]
        if run >= 8:  # long runs: copy each run (vectorised)
            for oy in range(oh):
                for ox in range(ow):
                    row = ((n - n0) * oh + oy) * ow + ox
                    for g in range(groups):
                        d = np.uint64((g * rows + row) * kg)
                        for i in range(kh):
                            s = np.uint64(((oy * sh + i * dh) * wp + ox * sw) * n_ch + g * cg)
                            for _ in range(taps):
                                for k in range(run):
                                    dst[d + k] = tile[s + k]
                                d += run
                                s += step
        else:  # short runs (few channels): loop over the output row innermost, 3x faster for C = 1
            for oy in range(oh):
                row = ((n - n0) * oh + oy) * ow
                for g in range(groups):
                    d = np.uint64((g * rows + row) * kg)
                    for i in range(kh):
                        s = np.uint64(((oy * sh + i * dh) * wp) * n_ch + g * cg)
                        for _ in range(taps):
                            for k in range(run):
                                for ox in range(uow):
                                    dst[d + k + ox * ukg] = tile[s + k + ox * sstep]
                            d += run
                            s += step


@njit(cache=True, nogil=True)
def _col2im(cols, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out):  # pragma: no cover - jitted
    n_ch, h, w = out.shape[1], out.shape[2], out.shape[3]
    groups, rows, kg = cols.shape
    cg = n_ch // groups
    wp = max(w + pw, (ow - 1) * sw + (kw - 1) * dw + 1)
    hp = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1)
    tile = np.empty(hp * wp * n_ch, dtype=out.dtype)
    src, dst = cols.reshape(cols.size), out.reshape(out.size)
    run = np.uint64(kw * cg if groups == 1 and dw == 1 else cg)
    taps = 1 if groups == 1 and dw == 1 else kw
    step, nc = np.uint64(dw * n_ch), np.uint64(n_ch)
    for n in range(n0, n1):
        tile[:] = 0.0
        for oy in range(oh):
            for ox in range(ow):
                row = ((n - n0) * oh + oy) * ow + ox
                for g in range(groups):
                    d = np.uint64((g * rows + row) * kg)
                    for i in range(kh):
                        s = np.uint64(((oy * sh + i * dh) * wp + ox * sw) * n_ch + g * cg)
                        for _ in range(taps):
                            for k in range(run):
                                tile[s + k] += src[d + k]
                            d += run
                            s += step
        for c in range(n_ch):  # padding entries are dropped
            for y in range(h):
                t = np.uint64(((y + ph) * wp + pw) * n_ch + c)
                o = np.uint64(((n * n_ch + c) * h + y) * w)
                for xx in range(np.uint64(w)):
                    dst[o + xx] = tile[t + xx * nc]


@lru_cache(maxsize=256)  # called once per block of images: keep it cheap
def _check_geometry(
    op: str, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_size: Pair = (0, 0)
) -> None:
    for name, pair, least in (
        ("kernel", kernel, 1),
        ("stride", stride, 1),
        ("padding", padding, 0),
        ("dilation", dilation, 1),
        ("output size", out_size, 0),
    ):
        if len(pair) != 2 or any(int(v) != v or v < least for v in pair):
            raise ValueError(f"{op}: {name} must be two integers >= {least}, got {pair}")


def _check_float(op: str, name: str, a: np.ndarray, ndim: int) -> None:
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{op}: {name} must be a float32 or float64 ndarray, got {getattr(a, 'dtype', type(a).__name__)}"
        )
    if a.ndim != ndim:
        raise ValueError(f"{op}: {name} must have {ndim} dimensions, got shape {a.shape}")


def _check_buffer(op: str, name: str, a: np.ndarray, shape: tuple, dtype: np.dtype) -> None:
    if not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != dtype or not a.flags.c_contiguous:
        raise ValueError(
            f"{op}: {name} must be a C-contiguous {np.dtype(dtype)} array of shape "
            f"{shape}, got {getattr(a, 'dtype', None)} {getattr(a, 'shape', None)}"
        )


def _image_range(op: str, images: Pair | None, n: int) -> Pair:
    n0, n1 = (0, n) if images is None else images
    if int(n0) != n0 or int(n1) != n1 or not 0 <= n0 <= n1 <= n:
        raise ValueError(f"{op}: images {images} must be a range inside the batch of {n}")
    return int(n0), int(n1)


def conv_output_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length of a convolution along one axis (`pad_total` = padding on both sides)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def _default_out(image: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Pair:
    oh, ow = (conv_output_size(image[a], kernel[a], stride[a], 2 * padding[a], dilation[a]) for a in range(2))
    return oh, ow


def im2col(
    x: np.ndarray,
    kernel: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    out_size: Pair | None = None,
    groups: int = 1,
    images: Pair | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of receptive fields of x (N, C, H, W): (groups, B * OH * OW, kh * kw * C / groups).

    `padding` is the top/left padding; `out_size` (OH, OW) defaults to the symmetric-padding size.
    Only images [n0, n1) = `images` (default: all, B = n1 - n0) are laid out. Entry
    [g, ((n - n0) * OH + oy) * OW + ox, (i * kw + j) * C / groups + c] holds
    x[n, g * C / groups + c, oy*sh - ph + i*dh, ox*sw - pw + j*dw], or 0 where that falls outside
    the image. `out`, if given, is the C-contiguous array of that shape and dtype to write into.
    """
    _check_float("im2col", "x", x, 4)
    _check_geometry("im2col", kernel, stride, padding, dilation)
    if out_size is None:
        out_size = _default_out(x.shape[2:], kernel, stride, padding, dilation)
    _check_geometry("im2col", kernel, stride, padding, dilation, out_size)
    n, c = x.shape[:2]
    if int(groups) != groups or groups < 1 or c % groups:
        raise ValueError(f"im2col: groups={groups} must be a positive divisor of the {c} channels")
    n0, n1 = _image_range("im2col", images, n)
    (kh, kw), (oh, ow) = kernel, out_size
    shape = (groups, (n1 - n0) * oh * ow, kh * kw * (c // groups))
    if out is None:
        out = np.empty(shape, dtype=x.dtype)
    _check_buffer("im2col", "out", out, shape, x.dtype)
    _im2col(np.ascontiguousarray(x), n0, n1, kh, kw, *stride, *padding, *dilation, oh, ow, out)
    return out


def col2im(
    cols: np.ndarray,
    image_size: Pair,
    kernel: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    out_size: Pair | None = None,
    images: Pair | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The adjoint of `im2col`: add rows (groups, B * OH * OW, kh * kw * C / groups) back into
    images (B, C, H, W); entries that `im2col` would have read from the padding are dropped.

    With `out` (N, C, H, W) and `images` = (n0, n1) the result is written to out[n0:n1] (the rest of
    `out` is untouched) and `out` is returned; without, a new (B, C, H, W) array.
    """
    _check_float("col2im", "cols", cols, 3)
    _check_geometry("col2im", kernel, stride, padding, dilation)
    h, w = image_size
    if min(h, w) < 0:
        raise ValueError(f"col2im: image size must be non-negative, got {image_size}")
    if out_size is None:
        out_size = _default_out(image_size, kernel, stride, padding, dilation)
    _check_geometry("col2im", kernel, stride, padding, dilation, out_size)
    groups, length, rows = cols.shape
    (kh, kw), (oh, ow) = kernel, out_size
    batch = length // (oh * ow) if oh * ow else 0
    if groups < 1 or rows % (kh * kw) or length != batch * oh * ow:
        raise ValueError(
            f"col2im: columns of shape {cols.shape} do not fit kernel {kernel} and output size {out_size}"
        )
    shape = (batch, groups * rows // (kh * kw), h, w)
    if out is None:
        out = np.empty(shape, dtype=cols.dtype)
        n0, n1 = _image_range("col2im", images, batch)
    else:
        n0, n1 = _image_range("col2im", images, out.shape[0] if out.ndim == 4 else 0)
        _check_buffer("col2im", "out", out, (out.shape[0],) + shape[1:], cols.dtype)
    if n1 - n0 != batch:
        raise ValueError(f"col2im: columns for {batch} images do not fit the range {images}")
    _col2im(np.ascontiguousarray(cols), n0, n1, kh, kw, *stride, *padding, *dilation, oh, ow, out)
    return out


__all__ = ["im2col", "col2im", "conv_output_size"]
