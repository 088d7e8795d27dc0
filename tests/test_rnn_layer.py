"""The fused recurrent layers (ops/fused/rnn_layer.py, kernels/rnn_layer.py): one op per layer and
direction against the per-step path and PyTorch, finite-difference gradients, second order through
the composite, the thread split, and the kernels against NumPy."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn
import autograd_nn.nn.recurrent as rec
from autograd_nn.errors import DTypeError, ShapeError
from autograd_nn.kernels import rnn_layer as k
from autograd_nn.ops.fused.rnn_layer import GRULayer, LSTMLayer, RNNLayer, gru_layer, lstm_layer, rnn_layer

RNG = np.random.default_rng(11)


def rand(*shape, dtype=np.float64, scale=1.0, grad=True):
    return ag.tensor((RNG.standard_normal(shape) * scale).astype(dtype), requires_grad=grad)


@pytest.fixture
def threads():
    """Run a test with a given thread count, then restore the previous one."""
    before = ag.get_num_threads()
    yield ag.set_num_threads
    ag.set_num_threads(before)


# ---- the ops, float64 finite differences ----------------------------------------------------------
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("proj", [False, True])
def test_lstm_layer_gradcheck_and_second_order(reverse, proj):
    t, b, hid, p = 3, 2, 3, (2 if proj else 3)
    args = [rand(t, b, 4 * hid), rand(b, p), rand(b, hid), rand(4 * hid, p, scale=0.5)]
    if proj:
        args.append(rand(p, hid, scale=0.5))
    f = lambda *a: LSTMLayer.apply(*a, reverse=reverse)
    assert ag.gradcheck(f, args)
    assert ag.gradgradcheck(lambda *a: f(*a, *args[3:]), args[:3])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_gru_layer_gradcheck_and_second_order(reverse, bias):
    t, b, hid = 3, 2, 3
    args = [rand(t, b, 3 * hid), rand(b, hid), rand(3 * hid, hid, scale=0.5)]
    if bias:
        args.append(rand(3 * hid))
    f = lambda *a: GRULayer.apply(*a, reverse=reverse)
    assert ag.gradcheck(f, args)
    assert ag.gradgradcheck(lambda *a: f(*a, *args[2:]), args[:2])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("relu", [False, True])
def test_rnn_layer_gradcheck_and_second_order(reverse, relu):
    t, b, hid = 4, 2, 3
    args = [rand(t, b, hid), rand(b, hid), rand(hid, hid, scale=0.5)]
    f = lambda *a: RNNLayer.apply(*a, relu=relu, reverse=reverse)
    assert ag.gradcheck(f, args)
    assert ag.gradgradcheck(lambda *a: f(*a, *args[2:]), args[:2])


def test_layer_outputs_and_final_states_are_views_of_one_result():
    gi, h0, c0, w = rand(4, 2, 12), rand(2, 3), rand(2, 3), rand(12, 3)
    out, h_n, c_n = lstm_layer(gi, h0, c0, w)
    np.testing.assert_array_equal(h_n.numpy(), out.numpy()[-1])
    out_r, h_r, _ = lstm_layer(gi, h0, c0, w, reverse=True)
    np.testing.assert_array_equal(h_r.numpy(), out_r.numpy()[0])
    assert c_n.shape == (2, 3)
    (out_g, h_g), (out_n, h_n2) = gru_layer(gi[..., :9], h0, w[:9]), rnn_layer(gi[..., :3], h0, w[:3])
    np.testing.assert_array_equal(h_g.numpy(), out_g.numpy()[-1])
    np.testing.assert_array_equal(h_n2.numpy(), out_n.numpy()[-1])


# ---- the modules: fused against the per-step path -------------------------------------------------
MODULES = [
    ("LSTM", {}),
    ("LSTM", {"proj_size": 2}),
    ("GRU", {}),
    ("GRU", {"bias": False}),
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
]


def _run(model, x, hx):
    out = model(x, hx)
    flat = [out[0]] + (list(out[1]) if isinstance(out[1], tuple) else [out[1]])
    loss = sum(
        ((o * ag.tensor(np.cos(np.arange(o.numel())).reshape(o.shape))).sum() for o in flat), ag.tensor(0.0)
    )
    loss.backward()
    return [o.numpy() for o in flat] + [p.grad.numpy() for p in model.parameters()] + [x.grad.numpy()]


@pytest.mark.parametrize("name,kwargs", MODULES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_fused_matches_per_step_path(monkeypatch, name, kwargs, batch_first):
    """Two layers, both directions, initial states, dropout between layers (same seed both runs)."""
    model = getattr(nn, name)(
        3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, dropout=0.3, **kwargs
    ).double()
    xs = RNG.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    p = kwargs.get("proj_size", 0) or 4
    states = [RNG.standard_normal((4, 2, p))] + ([RNG.standard_normal((4, 2, 4))] if name == "LSTM" else [])
    results = []
    for fused in (True, False):
        monkeypatch.setattr(rec, "FUSED_LAYERS", fused)
        model.zero_grad()
        ag.manual_seed(5)
        hx = tuple(ag.tensor(s) for s in states) if name == "LSTM" else ag.tensor(states[0])
        results.append(_run(model, ag.tensor(xs, requires_grad=True), hx))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize("name,kwargs", MODULES)
def test_float32_torch_parity(torch, name, kwargs):
    theirs = getattr(torch.nn, name)(5, 6, num_layers=2, bidirectional=True, **kwargs)
    mine = getattr(nn, name)(5, 6, num_layers=2, bidirectional=True, **kwargs)
    mine.load_state_dict({key: v.detach().numpy() for key, v in theirs.state_dict().items()})
    x = RNG.standard_normal((7, 4, 5)).astype(np.float32)
    xm, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    om, hm = mine(xm)
    ot, ht = theirs(xt)
    g = RNG.standard_normal(om.shape).astype(np.float32)
    np.testing.assert_allclose(om.numpy(), ot.detach().numpy(), rtol=1e-5, atol=2e-6)
    for a, b in zip(hm if isinstance(hm, tuple) else [hm], ht if isinstance(ht, tuple) else [ht]):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=2e-6)
    (om * ag.tensor(g)).sum().backward()
    (ot * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    theirs_p = dict(theirs.named_parameters())
    for pname, prm in mine.named_parameters():
        np.testing.assert_allclose(
            prm.grad.numpy(), theirs_p[pname].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=pname
        )


def test_module_second_order_through_the_composite():
    model = nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = ag.tensor(RNG.standard_normal((3, 2, 2)), requires_grad=True)
    assert ag.gradgradcheck(lambda x: model(x)[0], (x,))


def test_one_graph_node_per_layer_and_direction():
    model = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    out, _ = model(ag.randn(6, 2, 3))
    names, stack, seen = [], [out], set()
    while stack:
        t = stack.pop()
        if t._ctx is None or id(t) in seen:
            continue
        seen.add(id(t))
        names.append(t._ctx.name)
        stack.extend(t._ctx.parents)
    assert names.count("GRULayer") == 4 and "GRUCellFused" not in names and len(names) < 40


# ---- threads ---------------------------------------------------------------------------------------
def test_thread_split_is_deterministic_and_matches_one_thread(threads):
    model = nn.LSTM(8, 32, batch_first=True)
    x = RNG.standard_normal((32, 20, 8)).astype(np.float32)

    def run():
        model.zero_grad()
        xt = ag.tensor(x, requires_grad=True)
        out, (h, c) = model(xt)
        (out.sum() + c.sum()).backward()
        return [out.numpy(), xt.grad.numpy(), model.weight_hh_l0.grad.numpy()]

    threads(1)
    one = run()
    threads(2)
    first, second = run(), run()
    for a, b, c in zip(one, first, second):
        np.testing.assert_array_equal(b, c)  # bit for bit at a fixed thread count
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ---- kernels against NumPy ------------------------------------------------------------------------
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_kernels_against_numpy(dtype):
    b, hid = 5, 7
    z, gi = (RNG.standard_normal((b, 4 * hid)).astype(dtype) for _ in range(2))
    c_prev = RNG.standard_normal((b, hid)).astype(dtype)
    acts, c, h = np.empty((b, 5 * hid), dtype), np.empty((b, hid), dtype), np.empty((b, hid), dtype)
    k.lstm_forward_step(z, gi, *k.lstm_gate_scales(hid, dtype), c_prev, acts, c, h)
    pre = z.astype(np.float64) + gi
    i, f, o = _sig(pre[:, :hid]), _sig(pre[:, hid : 2 * hid]), _sig(pre[:, 3 * hid :])
    g = np.tanh(pre[:, 2 * hid : 3 * hid])
    c_ref = f * c_prev + i * g
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    np.testing.assert_allclose(c, c_ref, **tol)
    np.testing.assert_allclose(h, o * np.tanh(c_ref), **tol)
    dh, dc_out = RNG.standard_normal((b, hid)), RNG.standard_normal((b, hid))
    dc = RNG.standard_normal((b, hid))
    dz = np.empty((b, 4 * hid), dtype)
    dc_work = dc.astype(dtype)
    k.lstm_backward_step(
        dh.astype(dtype), np.zeros((b, hid), dtype), dc_out.astype(dtype), acts, c_prev, dz, dc_work
    )
    tc = np.tanh(c_ref)
    dcv = dc + dc_out + dh * o * (1 - tc * tc)
    ref = np.concatenate(
        [dcv * g * i * (1 - i), dcv * c_prev * f * (1 - f), dcv * i * (1 - g * g), dh * tc * o * (1 - o)],
        axis=1,
    )
    np.testing.assert_allclose(dz, ref, **tol)
    np.testing.assert_allclose(dc_work, dcv * f, **tol)


def test_float32_tanh_is_accurate_everywhere():
    x = np.concatenate([np.linspace(-20, 20, 200_001), [0.0, 1e-30, -1e-8, 7.9, 8.0, 1e4, -1e4]])
    x = x.astype(np.float32)
    out = np.empty_like(x)
    k.rnn_forward_step(np.zeros((1, x.size), np.float32), x.reshape(1, -1), False, out.reshape(1, -1))
    np.testing.assert_allclose(out, np.tanh(x.astype(np.float64)), rtol=1e-6, atol=5e-7)
    assert np.abs(out).max() <= 1.0


# ---- bad input --------------------------------------------------------------------------------------
def test_errors_name_the_op_and_shapes():
    with pytest.raises(ShapeError, match=r"LSTMLayer: h0 must be \(2, 3\)"):
        LSTMLayer.apply(rand(4, 2, 12), rand(3, 3), rand(2, 3), rand(12, 3))
    with pytest.raises(ShapeError, match="GRULayer: gi must be"):
        GRULayer.apply(rand(4, 2, 10), rand(2, 3), rand(9, 3))
    with pytest.raises(DTypeError, match="RNNLayer"):
        RNNLayer.apply(rand(4, 2, 3, dtype=np.float32), rand(2, 3), rand(3, 3))


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already the pure-Python run")
def test_kernels_as_plain_python():
    """The kernel tests with the JIT disabled: the kernel source is also correct Python."""
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
        "kernels_against or tanh_is_accurate",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout or "3 passed" in result.stdout
