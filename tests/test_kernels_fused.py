"""The fused Numba kernels (kernels/softmax.py, norm.py, recurrent.py) against plain NumPy references.

Run once compiled and once more with NUMBA_DISABLE_JIT=1 in a subprocess (the kernels as Python), so
the Python semantics of the kernel source agree with the compiled ones.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from autograd_nn.kernels import norm as knorm
from autograd_nn.kernels import recurrent as krec
from autograd_nn.kernels import softmax as ksoftmax

RNG = np.random.default_rng(7)
DTYPES = [np.float32, np.float64]
SHAPES = [(1, 1), (7, 13), (3, 257)]


def tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-12}


def logits(shape, dtype, scale=3.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def ref_log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


# ---- log-sum-exp and probabilities ----------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_logsumexp_and_probabilities(shape, dtype):
    x = logits(shape, dtype)
    lp = ref_log_softmax(x)
    m, ls = ksoftmax.logsumexp_rows(x)
    np.testing.assert_allclose(m + ls, (x - lp)[:, 0], **tol(dtype))
    np.testing.assert_allclose(
        ksoftmax.softmax_from_lse(x, *ksoftmax.logsumexp_rows(x)), np.exp(lp), **tol(dtype)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_logits_stay_finite(dtype):
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4 + 2.0, -1e4, -1e4]], dtype)
    y = ksoftmax.softmax_from_lse(x, *ksoftmax.logsumexp_rows(x))
    np.testing.assert_allclose(y, np.exp(ref_log_softmax(x)), **tol(dtype))
    assert np.all(np.isfinite(y)) and np.allclose(y.sum(1), 1.0)


def ref_cross_entropy(x, t, w, ignore, eps):
    lp = ref_log_softmax(x)
    n, c = x.shape
    loss = np.zeros(n)
    total = 0.0
    for i in range(n):
        if t[i] == ignore:
            continue
        loss[i] = -(1 - eps) * w[t[i]] * lp[i, t[i]] - eps / c * (w * lp[i]).sum()
        total += w[t[i]]
    return loss, total, lp


def ref_cross_entropy_grad(x, t, w, ignore, eps, grow):
    n, c = x.shape
    p = np.exp(ref_log_softmax(x))
    dx = np.zeros((n, c))
    for i in range(n):
        if t[i] == ignore:
            continue
        onehot = np.eye(c)[t[i]]
        # loss_i = -sum_k a_k logp_k with a = (1-eps) w_t onehot + eps/C w: dlogits = sum(a) p - a
        a = (1 - eps) * w[t[i]] * onehot + eps / c * w
        dx[i] = grow[i] * (a.sum() * p[i] - a)
    return dx


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eps", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(1, 1), (9, 5), (4, 101)])
def test_cross_entropy(shape, eps, dtype):
    n, c = shape
    x = logits(shape, dtype)
    t = RNG.integers(0, c, n)
    t[::3] = -100
    w = RNG.uniform(0.2, 2.0, c).astype(dtype)
    loss, total, bad = ksoftmax.cross_entropy_forward(x, t, w, *ksoftmax.logsumexp_rows(x), -100, eps)
    ref, ref_total, _ = ref_cross_entropy(x, t, w.astype(np.float64), -100, eps)
    assert bad == -1 and loss.dtype == dtype
    np.testing.assert_allclose(loss, ref, **tol(dtype))
    np.testing.assert_allclose(total, ref_total, rtol=1e-6)
    grow = logits((n,), dtype, 1.0)
    p = ksoftmax.softmax_from_lse(x, *ksoftmax.logsumexp_rows(x))
    dx = ksoftmax.cross_entropy_backward(p, t, w, -100, eps, grow)
    expected = ref_cross_entropy_grad(x, t, w.astype(np.float64), -100, eps, grow)
    np.testing.assert_allclose(dx, expected, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_huge_logits_and_all_ignored(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype)
    t = np.array([1, 0])
    w = np.ones(3, dtype)
    loss, total, _ = ksoftmax.cross_entropy_forward(x, t, w, *ksoftmax.logsumexp_rows(x), -100, 0.1)
    np.testing.assert_allclose(loss, ref_cross_entropy(x, t, w, -100, 0.1)[0], rtol=1e-6)
    assert total == 2.0
    ignored = np.full(2, 5)
    loss, total, bad = ksoftmax.cross_entropy_forward(x, ignored, w, *ksoftmax.logsumexp_rows(x), 5, 0.2)
    assert bad == -1 and total == 0.0 and np.all(loss == 0.0)
    dx = ksoftmax.cross_entropy_backward(np.ones_like(x), ignored, w, 5, 0.2, np.ones(2, dtype))
    assert np.all(dx == 0.0)


@pytest.mark.parametrize("bad_target", [3, -1, 10**12])
def test_cross_entropy_reports_bad_target(bad_target):
    x = logits((4, 3), np.float64)
    t = np.array([0, -100, bad_target, bad_target])
    loss, _, bad = ksoftmax.cross_entropy_forward(x, t, np.ones(3), *ksoftmax.logsumexp_rows(x), -100, 0.0)
    assert bad == 2 and loss[2] == 0.0


# ---- norms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (33, 130)])
def test_layer_norm(shape, affine, dtype):
    n, f = shape
    x = (logits(shape, dtype) + 1e3).astype(dtype)  # a large mean: needs two-pass statistics
    g = logits(shape, dtype, 1.0)
    w = logits((f,), dtype) if affine else np.empty(0, dtype)
    b = logits((f,), dtype) if affine else np.empty(0, dtype)
    y, mean, rstd = knorm.layer_norm_forward(x, w, b, 1e-5)
    x64 = x.astype(np.float64)
    mu = x64.mean(1, keepdims=True)
    r = 1.0 / np.sqrt(x64.var(1, keepdims=True) + 1e-5)
    xhat = (x64 - mu) * r
    ww = w.astype(np.float64) if affine else np.ones(f)
    expected = xhat * ww + (b if affine else 0.0)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-4)
    np.testing.assert_allclose(mean, mu[:, 0], rtol=1e-12)
    dx, dw, db = knorm.layer_norm_backward(g, x, mean, rstd, w, True)
    gw = g * ww
    ref_dx = r * (gw - gw.mean(1, keepdims=True) - xhat * (gw * xhat).mean(1, keepdims=True))
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-3 if dtype == np.float32 else 1e-8, atol=1e-4)
    np.testing.assert_allclose(dw, (g * xhat).sum(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, g.sum(0, dtype=np.float64), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 1, 1), (5, 3, 7), (4, 6, 33)])
def test_batch_norm(shape, dtype):
    n, c, s = shape
    x = (logits(shape, dtype) + 50.0).astype(dtype)
    g = logits(shape, dtype, 1.0)
    w, b = logits((c,), dtype), logits((c,), dtype)
    y, mean, invstd, var_u = knorm.batch_norm_forward(x, w, b, 1e-5)
    x64 = x.astype(np.float64)
    mu = x64.mean((0, 2), keepdims=True)
    var = x64.var((0, 2), keepdims=True)
    r = 1.0 / np.sqrt(var + 1e-5)
    xhat = (x64 - mu) * r
    expected = xhat * w[:, None] + b[:, None]
    t = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-10}
    assert y.dtype == dtype
    np.testing.assert_allclose(y, expected, **t)
    np.testing.assert_allclose(var_u, x64.var((0, 2), ddof=1), rtol=1e-9)
    dx, dw, db = knorm.batch_norm_backward(g, x, mean, invstd, w)
    gm = g.astype(np.float64)
    ref_dx = (
        w[:, None]
        * r
        * (gm - gm.mean((0, 2), keepdims=True) - xhat * (gm * xhat).mean((0, 2), keepdims=True))
    )
    np.testing.assert_allclose(dx, ref_dx, **t)
    np.testing.assert_allclose(dw, (gm * xhat).sum((0, 2)), **t)
    np.testing.assert_allclose(db, gm.sum((0, 2)), **t)


def test_batch_norm_without_affine_single_value_variance():
    x = np.array([[[1.0]], [[3.0]]])
    y, mean, invstd, var_u = knorm.batch_norm_forward(x, np.empty(0), np.empty(0), 0.0)
    np.testing.assert_allclose(y[:, 0, 0], [-1.0, 1.0])
    np.testing.assert_allclose(var_u, [2.0])
    _, _, _, var_one = knorm.batch_norm_forward(x[:1], np.empty(0), np.empty(0), 1e-5)
    assert np.isnan(var_one[0])


# ---- recurrent cells ----------------------------------------------------------------------------
def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b, hid", [(1, 1), (3, 5), (4, 33)])
def test_lstm_cell(b, hid, dtype):
    gates = logits((b, 4 * hid), dtype)
    c_prev = logits((b, hid), dtype)
    dout = logits((b, 2 * hid), dtype, 1.0)
    out, acts = krec.lstm_cell_forward(gates, c_prev)
    g64 = gates.astype(np.float64)
    i, f, gg, o = (
        sig(g64[:, :hid]),
        sig(g64[:, hid : 2 * hid]),
        np.tanh(g64[:, 2 * hid : 3 * hid]),
        sig(g64[:, 3 * hid :]),
    )
    c = f * c_prev + i * gg
    h = o * np.tanh(c)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, np.concatenate([h, c], 1), **tol(dtype))
    dgates, dc_prev = krec.lstm_cell_backward(dout, acts, c_prev, out)
    dh, dc = dout[:, :hid], dout[:, hid:]
    dct = dc + dh * o * (1 - np.tanh(c) ** 2)
    expected = np.concatenate(
        [
            dct * gg * i * (1 - i),
            dct * c_prev * f * (1 - f),
            dct * i * (1 - gg**2),
            dh * np.tanh(c) * o * (1 - o),
        ],
        1,
    )
    np.testing.assert_allclose(dgates, expected, **tol(dtype))
    np.testing.assert_allclose(dc_prev, dct * f, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b, hid", [(1, 1), (3, 5), (4, 33)])
def test_gru_cell(b, hid, dtype):
    gi, gh = logits((b, 3 * hid), dtype), logits((b, 3 * hid), dtype)
    h_prev = logits((b, hid), dtype)
    dh = logits((b, hid), dtype, 1.0)
    h, acts = krec.gru_cell_forward(gi, gh, h_prev)
    gi64, gh64 = gi.astype(np.float64), gh.astype(np.float64)
    r = sig(gi64[:, :hid] + gh64[:, :hid])
    z = sig(gi64[:, hid : 2 * hid] + gh64[:, hid : 2 * hid])
    n = np.tanh(gi64[:, 2 * hid :] + r * gh64[:, 2 * hid :])
    assert h.dtype == dtype
    np.testing.assert_allclose(h, (1 - z) * n + z * h_prev, **tol(dtype))
    dgi, dgh, dh_prev = krec.gru_cell_backward(dh, acts, gh, h_prev)
    dn = dh * (1 - z) * (1 - n**2)
    dz = dh * (h_prev - n) * z * (1 - z)
    dr = dn * gh64[:, 2 * hid :] * r * (1 - r)
    np.testing.assert_allclose(dgi, np.concatenate([dr, dz, dn], 1), **tol(dtype))
    np.testing.assert_allclose(dgh, np.concatenate([dr, dz, dn * r], 1), **tol(dtype))
    np.testing.assert_allclose(dh_prev, dh * z, **tol(dtype))


def test_sigmoid_saturates_without_overflow():
    out, _ = krec.lstm_cell_forward(np.array([[800.0, -800.0, 800.0, -800.0]]), np.zeros((1, 1)))
    np.testing.assert_allclose(out, [[0.0, 1.0]], atol=1e-300)


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already the pure-Python run")
def test_kernels_as_plain_python():
    """The same tests with the JIT disabled: the kernel source is also correct Python."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        __file__,
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-k",
        "not 257 and not 130 and not 33 and not 101",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
