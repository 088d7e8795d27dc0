"""Log-sum-exp, softmax probabilities and cross-entropy over the last axis of a 2-D (rows, classes) array.

Plain array code for `autograd_nn/ops/fused/softmax_ce.py`. Every kernel takes C-contiguous float32 or
float64 arrays and returns arrays of the input's dtype; sums are accumulated in float64, so float32
results keep float32 accuracy even for thousands of classes. Rows are shifted by their maximum before
`exp`, so logits of +-1e4 neither overflow nor lose the answer (JAX's `logsumexp` recipe).

Cross-entropy is split so that no kernel both picks targets and calls `exp`: `logsumexp_rows` and
`softmax_from_lse` are the exp-heavy passes (the op may do those two with NumPy's SIMD `exp` on large
inputs, which is several times faster than a Numba loop calling libm's scalar `exp`), and
`cross_entropy_forward` / `cross_entropy_backward` do the target bookkeeping: `ignore_index`, class
weights and label smoothing. A target equal to `ignore_index` gives zero loss and zero gradient; any
other target outside [0, classes) is reported back (`first_bad`), never read, so the caller raises and
the kernel never indexes out of bounds.

All kernels are serial: on two shared cores `parallel=True` measured slower at every benchmark size
(thread start-up and contention cost more than the halved loop).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FM = {"reassoc", "contract"}  # lets float64 sums vectorise; keeps inf/NaN semantics


@njit(cache=True, fastmath=_FM)
def logsumexp_rows(x):
    """Each row's log-sum-exp of `x` (rows, classes) as a pair (m, ls): lse = m + ls.

    m (rows,) is the row maximum in x's dtype and ls = log(sum(exp(x - m))) (rows,) float64. Kept
    apart because x - m is exact in float32 where x - lse is not: float32 logits of 1e4 would
    otherwise lose three digits of every log-probability.
    """
    n, c = x.shape
    mx = np.zeros(n, x.dtype)
    ls = np.full(n, -np.inf)
    if c == 0:
        return mx, ls
    for i in range(n):
        m = x[i, 0]
        for j in range(1, c):
            if x[i, j] > m:
                m = x[i, j]
        s = np.float64(0.0)
        for j in range(c):
            s += np.exp(x[i, j] - m)
        mx[i] = m
        ls[i] = np.log(s)
    return mx, ls


@njit(cache=True, fastmath=_FM)
def softmax_from_lse(x, mx, ls):
    """exp((x - m) - ls): the probabilities, given each row's `logsumexp_rows` pair."""
    n, c = x.shape
    out = np.empty_like(x)
    for i in range(n):
        m = mx[i]
        lse = ls[i]
        for j in range(c):
            out[i, j] = np.exp((x[i, j] - m) - lse)
    return out


@njit(cache=True, fastmath=_FM)
def cross_entropy_forward(x, target, weight, mx, ls, ignore_index, smoothing):
    """Per-row cross-entropy of logits `x` (N, C) with class indices `target` (N,) int64.

    loss_i = (1 - eps) * w[t_i] * (lse_i - x[i, t_i]) + eps / C * sum_c w[c] * (lse_i - x[i, c]),
    PyTorch's `cross_entropy(label_smoothing=eps)`; `weight` (C,) holds the class weights (ones when
    the caller has none) and (mx, ls) each row's log-sum-exp from `logsumexp_rows`. Returns (loss
    (N,), the total weight w[t_i] of the counted rows, the first bad row or -1). Ignored and bad rows
    get loss 0.
    """
    n, c = x.shape
    loss = np.empty(n, x.dtype)
    keep = 1.0 - smoothing
    share = smoothing / c if c > 0 else 0.0
    total = np.float64(0.0)
    first_bad = -1
    for i in range(n):
        t = target[i]
        if t == ignore_index or t < 0 or t >= c:
            loss[i] = 0.0
            if t != ignore_index and first_bad < 0:
                first_bad = i
            continue
        m = mx[i]
        lse = ls[i]
        wt = weight[t]
        li = keep * wt * ((m - x[i, t]) + lse)
        if smoothing != 0.0:
            acc = np.float64(0.0)
            for j in range(c):
                acc += weight[j] * ((m - x[i, j]) + lse)
            li += share * acc
        loss[i] = li
        total += wt
    return loss, total, first_bad


@njit(cache=True, fastmath=_FM)
def cross_entropy_backward(p, target, weight, ignore_index, smoothing, grow):
    """Turn the probabilities `p` (N, C) into dlogits of `cross_entropy_forward`, in place.

    dx[i, c] = grow_i * ((keep * w[t] + eps / C * sum(w)) * p[i, c] - eps / C * w[c]
                         - keep * w[t] * [c == t])
    with `grow` (N,) the gradient of each row's loss; ignored (and bad) rows become zeros.
    """
    n, c = p.shape
    keep = 1.0 - smoothing
    share = smoothing / c if c > 0 else 0.0
    wsum = np.float64(0.0)
    for j in range(c):
        wsum += weight[j]
    for i in range(n):
        t = target[i]
        if t == ignore_index or t < 0 or t >= c:
            for j in range(c):
                p[i, j] = 0.0
            continue
        gi = np.float64(grow[i])
        wt = weight[t]
        coef = gi * (keep * wt + share * wsum)
        if smoothing != 0.0:
            gs = gi * share
            for j in range(c):
                p[i, j] = coef * p[i, j] - gs * weight[j]
        else:
            for j in range(c):
                p[i, j] = coef * p[i, j]
        p[i, t] -= gi * keep * wt
    return p
