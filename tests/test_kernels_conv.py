"""Kernels (im2col/col2im, pooling, scatter-add) against plain NumPy references, float32 and float64.

The whole file also runs once with NUMBA_DISABLE_JIT=1 (see the last test), so the Python semantics
of the jitted loops are checked too, not only their compiled form.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from autograd_nn.kernels import (
    adaptive_windows,
    avg_pool,
    avg_pool_backward,
    col2im,
    conv_output_size,
    im2col,
    max_pool,
    pool_windows,
    scatter_add_rows,
    scatter_planes,
)

RNG = np.random.default_rng(7)
DTYPES = [np.float32, np.float64]
# (H, W), kernel, stride, padding, dilation
GEOMETRIES = [
    ((5, 7), (3, 2), (1, 1), (0, 0), (1, 1)),
    ((6, 9), (3, 3), (2, 3), (1, 2), (2, 1)),
    ((1, 11), (1, 4), (1, 3), (0, 3), (1, 2)),
    ((4, 4), (1, 1), (2, 2), (0, 0), (1, 1)),
    ((7, 5), (2, 3), (3, 1), (2, 1), (1, 2)),
]


def ref_im2col(x, k, s, p, d, out, groups=1):
    """(groups, N * OH * OW, kh * kw * C / groups), row (n, oy, ox), column (i, j, c)."""
    n, c, h, w = x.shape
    cols = np.zeros((n, out[0], out[1], k[0], k[1], c), x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            for oy in range(out[0]):
                for ox in range(out[1]):
                    iy, ix = oy * s[0] - p[0] + i * d[0], ox * s[1] - p[1] + j * d[1]
                    if 0 <= iy < h and 0 <= ix < w:
                        cols[:, oy, ox, i, j, :] = x[:, :, iy, ix]
    cols = cols.reshape(n * out[0] * out[1], k[0], k[1], groups, c // groups)
    cols = np.ascontiguousarray(cols.transpose(3, 0, 1, 2, 4))
    return cols.reshape(groups, -1, k[0] * k[1] * c // groups)


def ref_col2im(cols, image, k, s, p, d, out):
    groups, length, rows = cols.shape
    n, cg = length // (out[0] * out[1]), rows // (k[0] * k[1])
    c6 = cols.reshape(groups, n, out[0], out[1], k[0], k[1], cg)
    img = np.zeros((n, groups, cg) + tuple(image), cols.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            for oy in range(out[0]):
                for ox in range(out[1]):
                    iy, ix = oy * s[0] - p[0] + i * d[0], ox * s[1] - p[1] + j * d[1]
                    if 0 <= iy < image[0] and 0 <= ix < image[1]:
                        img[:, :, :, iy, ix] += c6[:, :, oy, ox, i, j, :].transpose(1, 0, 2)
    return img.reshape((n, groups * cg) + tuple(image))


def _out(image, k, s, p, d):
    return tuple(conv_output_size(image[a], k[a], s[a], 2 * p[a], d[a]) for a in range(2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("image,k,s,p,d", GEOMETRIES)
def test_im2col_col2im_match_reference(dtype, groups, image, k, s, p, d):
    x = RNG.standard_normal((2, 6) + image).astype(dtype)
    out = _out(image, k, s, p, d)
    cols = im2col(x, k, s, p, d, groups=groups)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, ref_im2col(x, k, s, p, d, out, groups))
    y = RNG.standard_normal(cols.shape).astype(dtype)
    back = col2im(y, image, k, s, p, d)
    assert back.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(back, ref_col2im(y, image, k, s, p, d, out), rtol=tol, atol=tol)


@pytest.mark.parametrize("groups", [1, 2])
def test_im2col_col2im_one_block_of_images(groups):
    """images=(n0, n1) lays out / adds back only those images, through caller-owned buffers."""
    x = RNG.standard_normal((3, 4, 5, 6))
    k, s, p, d = (3, 2), (1, 2), (1, 0), (1, 1)
    full = im2col(x, k, s, p, d, groups=groups)
    per = full.shape[1] // 3
    buf = np.empty((groups, 2 * per, full.shape[2]))
    assert im2col(x, k, s, p, d, groups=groups, images=(1, 3), out=buf) is buf
    np.testing.assert_array_equal(buf, full[:, per:])
    y = RNG.standard_normal(full.shape)
    image = np.full(x.shape, np.nan)
    col2im(np.ascontiguousarray(y[:, :per]), (5, 6), k, s, p, d, images=(0, 1), out=image)
    col2im(np.ascontiguousarray(y[:, per:]), (5, 6), k, s, p, d, images=(1, 3), out=image)
    np.testing.assert_allclose(image, col2im(y, (5, 6), k, s, p, d), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_im2col_explicit_output_size_and_asymmetric_padding(dtype):
    """'same' with an even kernel pads 0 on the top and 1 at the bottom: only out_size says so."""
    x = RNG.standard_normal((1, 2, 4, 5)).astype(dtype)
    k, s, p, d, out = (2, 2), (1, 1), (0, 0), (1, 1), (4, 5)
    np.testing.assert_array_equal(im2col(x, k, s, p, d, out), ref_im2col(x, k, s, p, d, out))
    y = RNG.standard_normal((1, 20, 8)).astype(dtype)
    np.testing.assert_allclose(
        col2im(y, (4, 5), k, s, p, d, out), ref_col2im(y, (4, 5), k, s, p, d, out), rtol=1e-6
    )


def test_conv_kernels_reject_bad_input():
    x = np.zeros((1, 2, 4, 4), np.float32)
    with pytest.raises(TypeError, match="im2col"):
        im2col(x.astype(np.int32), (2, 2))
    with pytest.raises(ValueError, match="im2col"):
        im2col(x[0], (2, 2))
    with pytest.raises(ValueError, match="stride"):
        im2col(x, (2, 2), (0, 1))
    with pytest.raises(ValueError, match="groups"):
        im2col(x, (2, 2), groups=3)
    with pytest.raises(ValueError, match="images"):
        im2col(x, (2, 2), images=(0, 2))
    with pytest.raises(ValueError, match="out"):
        im2col(x, (2, 2), out=np.zeros((1, 8, 9), np.float32))
    with pytest.raises(ValueError, match="col2im"):
        col2im(np.zeros((1, 9, 7), np.float32), (4, 4), (2, 2))
    with pytest.raises(ValueError, match="col2im"):
        col2im(
            np.zeros((1, 9, 8), np.float32),
            (4, 4),
            (2, 2),
            images=(0, 2),
            out=np.zeros((2, 2, 4, 4), np.float32),
        )


def ref_max_pool(x, k, s, p, d, ceil_mode):
    n, c, h, w = x.shape
    oh, ow = (len(pool_windows(size, k[a], s[a], p[a], d[a], ceil_mode)[1]) for a, size in enumerate((h, w)))
    xp = np.full((n, c, h + 2 * p[0] + k[0] * d[0], w + 2 * p[1] + k[1] * d[1]), -np.inf, x.dtype)
    xp[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = x
    out = np.empty((n, c, oh, ow), x.dtype)
    arg = np.empty((n, c, oh, ow), np.int64)
    for oy in range(oh):
        for ox in range(ow):
            ys = oy * s[0] + np.arange(k[0]) * d[0]
            xs = ox * s[1] + np.arange(k[1]) * d[1]
            win = xp[:, :, ys][:, :, :, xs].reshape(n, c, -1)
            best = win.argmax(axis=2)
            out[:, :, oy, ox] = win.max(axis=2)
            iy, ix = ys[best // k[1]] - p[0], xs[best % k[1]] - p[1]
            arg[:, :, oy, ox] = iy * w + ix
    return out, arg


def ref_avg_pool(x, k, s, p, ceil_mode, include_pad):
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * p[0] + k[0], w + 2 * p[1] + k[1]), x.dtype)
    xp[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = x
    ones = np.zeros(xp.shape[2:])
    ones[p[0] : p[0] + h, p[1] : p[1] + w] = 1
    oh, ow = (len(pool_windows(size, k[a], s[a], p[a], 1, ceil_mode)[1]) for a, size in enumerate((h, w)))
    out = np.empty((n, c, oh, ow))
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * s[0], ox * s[1]
            y1, x1 = min(y0 + k[0], h + 2 * p[0]), min(x0 + k[1], w + 2 * p[1])
            total = xp[:, :, y0:y1, x0:x1].sum(axis=(2, 3))
            count = (y1 - y0) * (x1 - x0) if include_pad else ones[y0:y1, x0:x1].sum()
            out[:, :, oy, ox] = total / count
    return out


POOLS = [
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((3, 2), (2, 3), (1, 0), (2, 1), True),
    ((1, 3), (1, 2), (0, 1), (1, 1), False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,d,ceil_mode", POOLS)
def test_max_pool_and_scatter_match_reference(dtype, k, s, p, d, ceil_mode):
    x = RNG.standard_normal((2, 3, 7, 8)).astype(dtype)
    rows, _, _ = pool_windows(7, k[0], s[0], p[0], d[0], ceil_mode)
    cols, _, _ = pool_windows(8, k[1], s[1], p[1], d[1], ceil_mode)
    out, arg = max_pool(x, rows, cols)
    ref_out, ref_arg = ref_max_pool(x, k, s, p, d, ceil_mode)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(arg, ref_arg)
    g = RNG.standard_normal(out.shape).astype(dtype)
    expected = np.zeros((2, 3, 56), dtype)
    for n in range(2):
        for c in range(3):
            np.add.at(expected[n, c], arg[n, c].ravel(), g[n, c].ravel())
    np.testing.assert_allclose(scatter_planes(g, arg, (7, 8)), expected.reshape(x.shape), rtol=1e-6)


def test_max_pool_propagates_nan_and_keeps_first_index_of_ties():
    x = np.array([[[[1.0, 3.0, 3.0, np.nan, 0.0, -1.0]]]])
    out, arg = max_pool(
        x, (np.zeros(1, np.int64), np.ones(1, np.int64), 1), (np.array([0, 3]), np.array([3, 3]), 1)
    )
    assert out[0, 0, 0, 0] == 3.0 and arg[0, 0, 0, 0] == 1
    assert np.isnan(out[0, 0, 0, 1]) and arg[0, 0, 0, 1] == 3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k,s,p,_d,ceil_mode", POOLS)
@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool_matches_reference(dtype, k, s, p, _d, ceil_mode, include_pad):
    x = RNG.standard_normal((2, 3, 7, 8)).astype(dtype)
    (rows, rpad, rval), (cols, cpad, cval) = (
        pool_windows(n, k[a], s[a], p[a], 1, ceil_mode) for a, n in enumerate((7, 8))
    )
    rdiv, cdiv = (rpad, cpad) if include_pad else (rval, cval)
    out = avg_pool(x, rows, cols, rdiv, cdiv)
    assert out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref_avg_pool(x, k, s, p, ceil_mode, include_pad), rtol=tol, atol=tol)
    g = RNG.standard_normal(out.shape).astype(dtype)  # the backward is the adjoint
    back = avg_pool_backward(g, (7, 8), rows, cols, rdiv, cdiv)
    assert back.dtype == dtype
    np.testing.assert_allclose(
        np.sum(out * g, dtype=np.float64), np.sum(x * back, dtype=np.float64), rtol=1e-5
    )


def test_adaptive_windows_follow_pytorch_split():
    start, count, step = adaptive_windows(10, 4)
    np.testing.assert_array_equal(start, [0, 2, 5, 7])
    np.testing.assert_array_equal(start + count, [3, 5, 8, 10])
    assert step == 1
    x = RNG.standard_normal((1, 2, 5, 10))
    out = avg_pool(x, adaptive_windows(5, 2), (start, count, 1), np.array([3.0, 3.0]), count.astype(float))
    np.testing.assert_allclose(out[0, 0, 1, 2], x[0, 0, 2:5, 5:8].mean())


def test_pool_kernels_reject_windows_outside_the_input():
    x = np.zeros((1, 1, 4, 4))
    ok = (np.array([0, 2]), np.array([2, 2]), 1)
    bad = (np.array([0, 3]), np.array([2, 2]), 1)
    with pytest.raises(ValueError, match="leaves the input"):
        max_pool(x, ok, bad)
    with pytest.raises(ValueError, match="leaves the input"):
        avg_pool(x, bad, ok, np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="padding"):
        max_pool(x, ok, (np.array([0]), np.array([0]), 1))
    with pytest.raises(IndexError, match="outside"):
        scatter_planes(np.ones((1, 1, 2)), np.array([[[0, 16]]]), (4, 4))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9, 5), (6, 130), (4,), (7, 2, 3)])
def test_scatter_add_rows_accumulates_repeats(dtype, shape):
    m = shape[0]
    idx = RNG.integers(-m, m, size=23)
    src = RNG.standard_normal((23,) + shape[1:]).astype(dtype)
    out = RNG.standard_normal(shape).astype(dtype)
    expected = out.copy()
    np.add.at(expected, idx, src)
    result = scatter_add_rows(out, idx, src)
    assert result is out and out.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_scatter_add_rows_rejects_bad_input():
    out = np.zeros((3, 2))
    with pytest.raises(IndexError, match="outside"):
        scatter_add_rows(out, np.array([0, 3]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="src"):
        scatter_add_rows(out, np.array([0, 1]), np.ones((2, 3)))
    with pytest.raises(ValueError, match="src"):
        scatter_add_rows(out, np.array([0, 1]), np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match="idx"):
        scatter_add_rows(out, np.array([0.0]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="contiguous"):
        scatter_add_rows(np.zeros((2, 3)).T, np.array([0]), np.ones((1, 2)))


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already without JIT")
def test_kernels_without_jit():
    """Re-run this file with NUMBA_DISABLE_JIT=1: the loops as plain Python give the same results."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            __file__,
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-k",
            "not without_jit",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
