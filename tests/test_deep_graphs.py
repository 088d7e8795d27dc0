"""Very deep graphs: 100,000-op chains of mixed ops and a 10,000-step unrolled RNN.

The graph walk must be iterative (no recursion limit), linear in the number of ops, and exact. Each
long gradient is compared with an independent reference computed step by step in NumPy (forward-mode
Jacobians for the chain, hand-written backpropagation through time for the RNN); short versions are
checked with finite differences and, when torch is installed, with PyTorch.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import autograd_nn as ag

N_OPS = 100_000
T_RNN = 10_000


# ---- a chain of mixed ops ---------------------------------------------------------------------
# step k applies KINDS[k % len(KINDS)]; each kind has an autograd_nn form and a NumPy forward-mode
# form that updates y and the Jacobians dy/dx and dy/dw (8 x 8 each).
def _ag_step(kind: str, y, w):
    if kind == "mul_w":
        return y * w  # binary, broadcast-free; w is read 20,000 times
    if kind == "tanh":
        return y.tanh()
    if kind == "affine":
        return y * 1.5 + 0.1
    if kind == "flip":
        return y.flip(0)  # a movement op: the gradient is permuted
    if kind == "diamond":
        return y * 0.5 + y.sin() * 0.5  # y is used twice: both paths must add up
    raise KeyError(kind)


def _np_step(kind: str, y, w, jx, jw):
    if kind == "mul_w":
        return y * w, w[:, None] * jx, w[:, None] * jw + np.diag(y)
    if kind == "tanh":
        t = np.tanh(y)
        d = (1 - t * t)[:, None]
        return t, d * jx, d * jw
    if kind == "affine":
        return y * 1.5 + 0.1, 1.5 * jx, 1.5 * jw
    if kind == "flip":
        return y[::-1], jx[::-1], jw[::-1]
    if kind == "diamond":
        d = (0.5 + 0.5 * np.cos(y))[:, None]
        return 0.5 * y + 0.5 * np.sin(y), d * jx, d * jw
    raise KeyError(kind)


KINDS = ["mul_w", "tanh", "affine", "flip", "diamond"]
OPS_PER_CYCLE = 1 + 1 + 2 + 1 + 4  # recorded ops per pass through KINDS
N_CHAIN = len(KINDS) * -(-N_OPS // OPS_PER_CYCLE)  # steps making at least N_OPS ops


def _chain_inputs():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 8)
    w = 1.0 + 0.05 * rng.standard_normal(8)
    return x, w


def _ag_chain(x, w, n):
    y = x
    for k in range(n):
        y = _ag_step(KINDS[k % len(KINDS)], y, w)
    return y


def test_mixed_chain_of_100k_ops_matches_forward_mode_reference():
    """100,000 ops of five kinds (binary, unary, scalar, movement, a diamond) in one chain."""
    assert N_CHAIN // len(KINDS) * OPS_PER_CYCLE >= N_OPS
    x0, w0 = _chain_inputs()
    x = ag.tensor(x0, requires_grad=True)
    w = ag.tensor(w0, requires_grad=True)
    limit = sys.getrecursionlimit()
    y = _ag_chain(x, w, N_CHAIN)
    (y * ag.tensor(np.arange(1.0, 9.0))).sum().backward()
    assert sys.getrecursionlimit() == limit  # the walk did not need a higher limit

    yr, jx, jw = x0.copy(), np.eye(8), np.zeros((8, 8))
    for k in range(N_CHAIN):
        yr, jx, jw = _np_step(KINDS[k % len(KINDS)], yr, w0, jx, jw)
    np.testing.assert_allclose(y.numpy(), yr, rtol=1e-10, atol=1e-12)
    v = np.arange(1.0, 9.0)
    np.testing.assert_allclose(x.grad.numpy(), v @ jx, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), v @ jw, rtol=1e-8, atol=1e-12)
    assert np.abs(w.grad.numpy()).max() > 1e-3  # the test is not vacuous


def test_short_mixed_chain_gradcheck_and_torch(torch):
    x0, w0 = _chain_inputs()
    x = ag.tensor(x0, requires_grad=True)
    w = ag.tensor(w0, requires_grad=True)
    assert ag.gradcheck(lambda a, b: _ag_chain(a, b, 25), [x, w])
    tx = torch.tensor(x0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    ty = tx
    for k in range(25):
        kind = KINDS[k % len(KINDS)]
        ty = {
            "mul_w": lambda y: y * tw,
            "tanh": torch.tanh,
            "affine": lambda y: y * 1.5 + 0.1,
            "flip": lambda y: y.flip(0),
            "diamond": lambda y: y * 0.5 + y.sin() * 0.5,
        }[kind](ty)
    ty.sum().backward()
    _ag_chain(x, w, 25).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


def test_100k_additions_of_one_leaf_accumulate_exactly():
    """A leaf read 50,000 times, summed in a 100,000-op chain (fan-in and depth together)."""
    x = ag.tensor(np.array([0.5, -2.0]), requires_grad=True)
    total = x * 0.0
    for k in range(N_OPS // 2):
        total = total + x * float(k % 3)
    total.sum().backward()
    expected = sum(k % 3 for k in range(N_OPS // 2))
    np.testing.assert_allclose(x.grad.numpy(), [expected, expected], rtol=1e-12)


def test_chain_of_20k_reshapes_and_transposes():
    """Movement ops only: the gradient is the output weight permuted back, exactly."""
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y.transpose(0, 1).reshape(2, 3)  # a fixed permutation of the six elements
    (y * ag.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    # the gradient is the weight permuted back: grad[x[i]] = weight at the place x[i] ended up
    perm = np.arange(6)
    for _ in range(10_000):
        perm = perm.reshape(2, 3).T.reshape(-1)
    expected = np.empty(6)
    expected[perm] = np.arange(6.0)
    np.testing.assert_array_equal(y.numpy().reshape(-1), perm.astype(float))
    np.testing.assert_allclose(x.grad.numpy().reshape(-1), expected)


# ---- a 10,000-step unrolled RNN --------------------------------------------------------------
def _rnn_params(t_steps, seed=0, batch=2, inp=3, hidden=5):
    rng = np.random.default_rng(seed)
    w = 0.4 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    u = rng.standard_normal((inp, hidden)) / np.sqrt(inp)
    xs = rng.standard_normal((t_steps, batch, inp))
    h0 = 0.1 * rng.standard_normal((batch, hidden))
    return w, u, xs, h0


def _ag_rnn(w, u, xs, h0):
    """h_t = tanh(h_{t-1} @ W + x_t @ U); returns every h (the loss reads several of them)."""
    h, hs = h0, []
    for t in range(xs.shape[0]):
        h = (h @ w + xs[t] @ u).tanh()
        hs.append(h)
    return hs


def _rnn_loss(hs):
    return hs[-1].sum() + (hs[len(hs) // 2] * hs[len(hs) // 2]).sum()


def _np_bptt(w, u, xs, h0):
    """Values and gradients of the same loss by hand-written backpropagation through time."""
    t_steps = xs.shape[0]
    hs = [h0]
    for t in range(t_steps):
        hs.append(np.tanh(hs[-1] @ w + xs[t] @ u))
    gw, gu, gx = np.zeros_like(w), np.zeros_like(u), np.zeros_like(xs)
    dh = np.ones_like(h0)
    for t in range(t_steps, 0, -1):
        if t == t_steps // 2 + 1:  # hs[t] here is hs[t - 1] of _ag_rnn (h0 comes first)
            dh = dh + 2 * hs[t]
        dz = dh * (1 - hs[t] ** 2)
        gw += hs[t - 1].T @ dz
        gu += xs[t - 1].T @ dz
        gx[t - 1] = dz @ u.T
        dh = dz @ w.T
    return hs[1:], gw, gu, gx, dh


def test_unrolled_rnn_of_10k_steps_matches_manual_bptt():
    """tanh(h @ W + x_t @ U) for 10,000 steps; x_t = X[t] read from one leaf (indexed gradients)."""
    w0, u0, xs0, h00 = _rnn_params(T_RNN)
    w = ag.tensor(w0, requires_grad=True)
    u = ag.tensor(u0, requires_grad=True)
    xs = ag.tensor(xs0, requires_grad=True)
    h0 = ag.tensor(h00, requires_grad=True)
    hs = _ag_rnn(w, u, xs, h0)
    _rnn_loss(hs).backward()
    ref_hs, gw, gu, gx, gh0 = _np_bptt(w0, u0, xs0, h00)
    np.testing.assert_allclose(hs[-1].numpy(), ref_hs[-1], rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(u.grad.numpy(), gu, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), gx, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(h0.grad.numpy(), gh0, rtol=1e-8, atol=1e-15)
    assert np.abs(xs.grad.numpy()[T_RNN // 2 - 1]).max() > 1e-3  # gradient reaches the middle


def test_short_rnn_gradcheck():
    w0, u0, xs0, h00 = _rnn_params(6)
    leaves = [ag.tensor(a, requires_grad=True) for a in (w0, u0, xs0, h00)]
    assert ag.gradcheck(lambda w, u, xs, h0: _rnn_loss(_ag_rnn(w, u, xs, h0)), leaves)


def test_short_rnn_matches_torch(torch):
    w0, u0, xs0, h00 = _rnn_params(50, seed=1)
    leaves = [ag.tensor(a, requires_grad=True) for a in (w0, u0, xs0, h00)]
    tleaves = [torch.tensor(a, requires_grad=True) for a in (w0, u0, xs0, h00)]
    _rnn_loss(_ag_rnn(*leaves)).backward()
    tw, tu, txs, th = tleaves
    h, ths = th, []
    for t in range(txs.shape[0]):
        h = torch.tanh(h @ tw + txs[t] @ tu)
        ths.append(h)
    _rnn_loss(ths).backward()
    for mine, theirs in zip(leaves, tleaves):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_recurrent_module_over_1000_steps_backpropagates(cell):
    """The library's own recurrent layers over a long sequence give finite, non-zero gradients."""
    import autograd_nn.nn as nn

    ag.manual_seed(0)
    layer = getattr(nn, cell)(3, 4)
    x = ag.randn(1000, 1, 3, requires_grad=True)
    out, _ = layer(x)
    out[-1].sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert np.abs(x.grad.numpy()[-1]).max() > 0
    grads = [p.grad.numpy() for p in layer.parameters()]
    assert all(np.isfinite(g).all() for g in grads)
