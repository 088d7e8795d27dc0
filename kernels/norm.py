"""Layer norm and batch norm (training) forward and backward, for `autograd_nn/ops/fused/norm.py`.

Layer norm normalises each row of a (rows, features) view; batch norm normalises each channel of a
(N, C, S) view (S = the product of the spatial sizes, 1 for (N, C) inputs). Statistics are two-pass
(mean, then the mean squared deviation) and accumulated in float64, so float32 inputs with a large
mean keep their accuracy; outputs have the input's dtype, statistics are float64.

`weight` and `bias` are arrays of the normalised size, or empty (size 0) arrays for "none", so one
compiled kernel serves affine and non-affine layers. Shapes are checked by the caller.

All kernels are serial: on two shared cores `parallel=True` measured no faster at the benchmark sizes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FM = {"reassoc", "contract"}  # lets float64 sums vectorise; keeps inf/NaN semantics
_CHUNKS = 16  # row blocks of the layer-norm weight gradient (fixed, so results are deterministic)


@njit(cache=True, fastmath=_FM)
def layer_norm_forward(x, weight, bias, eps):
    """y = (x - mean) * rstd * weight + bias per row of `x` (rows, F). Returns (y, mean, rstd)."""
    n, f = x.shape
    y = np.empty_like(x)
    mean = np.zeros(n)
    rstd = np.zeros(n)
    has_w = weight.shape[0] > 0
    has_b = bias.shape[0] > 0
    if f == 0:
        return y, mean, rstd
    for i in range(n):
        s = np.float64(0.0)
        for j in range(f):
            s += x[i, j]
        mu = s / f
        v = np.float64(0.0)
        for j in range(f):
            d = x[i, j] - mu
            v += d * d
        r = 1.0 / np.sqrt(v / f + eps)
        mean[i] = mu
        rstd[i] = r
        for j in range(f):
            val = (x[i, j] - mu) * r
            if has_w:
                val = val * weight[j]
            if has_b:
                val = val + bias[j]
            y[i, j] = val
    return y, mean, rstd


@njit(cache=True, fastmath=_FM)
def layer_norm_backward(g, x, mean, rstd, weight, need_affine):
    """Gradients of `layer_norm_forward`: (dx, dweight, dbias); the last two float64, (F,).

    dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * weight, xhat = (x - mean) *
    rstd. dweight = sum over rows of g * xhat and dbias = sum of g, accumulated per block of rows and
    then added, so no two rows write the same memory and the result does not depend on threads.
    """
    n, f = x.shape
    dx = np.empty_like(x)
    has_w = weight.shape[0] > 0
    chunks = min(n, _CHUNKS) if need_affine else 0
    dw_part = np.zeros((max(chunks, 1), f))
    db_part = np.zeros((max(chunks, 1), f))
    if f == 0:
        return dx, np.zeros(f), np.zeros(f)
    for i in range(n):
        mu = mean[i]
        r = rstd[i]
        a = np.float64(0.0)
        b = np.float64(0.0)
        for j in range(f):
            gw = g[i, j] * weight[j] if has_w else np.float64(g[i, j])
            a += gw
            b += gw * ((x[i, j] - mu) * r)
        a /= f
        b /= f
        for j in range(f):
            xh = (x[i, j] - mu) * r
            gw = g[i, j] * weight[j] if has_w else np.float64(g[i, j])
            dx[i, j] = r * (gw - a - xh * b)
        if need_affine:
            k = i * chunks // n
            for j in range(f):
                dw_part[k, j] += g[i, j] * ((x[i, j] - mu) * r)
                db_part[k, j] += g[i, j]
    dw = np.zeros(f)
    db = np.zeros(f)
    for k in range(chunks):
        for j in range(f):
            dw[j] += dw_part[k, j]
            db[j] += db_part[k, j]
    return dx, dw, db


@njit(cache=True, fastmath=_FM)
def batch_norm_forward(x, weight, bias, eps):
    """Training batch norm of `x` (N, C, S) per channel, with the batch's biased variance.

    Returns (y, mean (C,), invstd (C,), unbiased variance (C,) for the running statistics; NaN when a
    channel has a single value).
    """
    n, c, s = x.shape
    m = n * s
    y = np.empty_like(x)
    mean = np.zeros(c)
    invstd = np.zeros(c)
    var_unbiased = np.full(c, np.nan)
    has_w = weight.shape[0] > 0
    has_b = bias.shape[0] > 0
    if m == 0:
        return y, mean, invstd, var_unbiased
    for ch in range(c):
        acc = np.float64(0.0)
        for i in range(n):
            for k in range(s):
                acc += x[i, ch, k]
        mu = acc / m
        v = np.float64(0.0)
        for i in range(n):
            for k in range(s):
                d = x[i, ch, k] - mu
                v += d * d
        r = 1.0 / np.sqrt(v / m + eps)
        mean[ch] = mu
        invstd[ch] = r
        if m > 1:
            var_unbiased[ch] = v / (m - 1)
        scale = r * weight[ch] if has_w else r
        shift = (bias[ch] if has_b else 0.0) - mu * scale
        for i in range(n):
            for k in range(s):
                y[i, ch, k] = x[i, ch, k] * scale + shift
    return y, mean, invstd, var_unbiased


@njit(cache=True, fastmath=_FM)
def batch_norm_backward(g, x, mean, invstd, weight):
    """Gradients of `batch_norm_forward`: (dx, dweight (C,), dbias (C,)), the last two float64.

    dx = weight * invstd * (g - mean(g) - xhat * mean(g * xhat)), means over the channel's N * S
    values; dweight = sum(g * xhat), dbias = sum(g).
    """
    n, c, s = x.shape
    m = n * s
    dx = np.empty_like(x)
    dw = np.zeros(c)
    db = np.zeros(c)
    has_w = weight.shape[0] > 0
    if m == 0:
        return dx, dw, db
    for ch in range(c):
        mu = mean[ch]
        r = invstd[ch]
        sg = np.float64(0.0)
        sgx = np.float64(0.0)
        for i in range(n):
            for k in range(s):
                gv = g[i, ch, k]
                sg += gv
                sgx += gv * (x[i, ch, k] - mu)
        db[ch] = sg
        dw[ch] = sgx * r
        k1 = r * weight[ch] if has_w else r
        k2 = sg / m
        k3 = sgx * r * r / m
        for i in range(n):
            for k in range(s):
                dx[i, ch, k] = k1 * (g[i, ch, k] - k2 - (x[i, ch, k] - mu) * k3)
    return dx, dw, db
