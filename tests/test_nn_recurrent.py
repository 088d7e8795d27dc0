"""Recurrent layers: parity with torch.nn (values, final states, gradients), gradchecks, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn
import autograd_nn.nn.recurrent as rec
from autograd_nn.errors import ShapeError

RNG = np.random.default_rng(7)


def _pair(torch, name: str, *args, dtype=np.float64, **kwargs):
    """(mine, theirs) built alike, with torch's weights copied into mine by state_dict key."""
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    mine = getattr(nn, name)(*args, **kwargs).to(dtype)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return mine, theirs


def _tensors(torch, arrays):
    mine = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return mine, theirs


def _flat(out):
    """A module's output structure as a flat list of tensors."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _check(torch, mine, theirs, my_out, their_out, my_in, their_in, rtol, atol):
    """Outputs equal; then gradients of a random projection wrt inputs and all parameters."""
    mo, to = _flat(my_out), _flat(their_out)
    assert len(mo) == len(to)
    loss_m, loss_t = 0.0, 0.0
    for a, b in zip(mo, to):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
        g = RNG.standard_normal(a.shape).astype(a.dtype)
        loss_m = loss_m + (a * ag.tensor(g)).sum()
        loss_t = loss_t + (b * torch.tensor(g)).sum()
    loss_m.backward()
    loss_t.backward()
    for a, b in zip(my_in, their_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    theirs_p = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_p[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )


# ---- cells ------------------------------------------------------------------------------------
CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("name,kwargs", CELLS)
@pytest.mark.parametrize("with_state", [False, True])
def test_cell_parity_float64(torch, name, kwargs, with_state):
    mine, theirs = _pair(torch, name, 3, 5, **kwargs)
    arrays = [RNG.standard_normal((4, 3))]
    if with_state:
        arrays += [RNG.standard_normal((4, 5)) for _ in range(2 if name == "LSTMCell" else 1)]
    my_in, their_in = _tensors(torch, arrays)
    hx_m = hx_t = None
    if with_state:
        hx_m = tuple(my_in[1:]) if name == "LSTMCell" else my_in[1]
        hx_t = tuple(their_in[1:]) if name == "LSTMCell" else their_in[1]
    _check(
        torch, mine, theirs, mine(my_in[0], hx_m), theirs(their_in[0], hx_t), my_in, their_in, 1e-10, 1e-12
    )


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_unbatched_and_float32(torch, name):
    mine, theirs = _pair(torch, name, 3, 4, dtype=np.float32)
    x = RNG.standard_normal(3).astype(np.float32)
    out = mine(ag.tensor(x))
    ref = theirs(torch.tensor(x))
    for a, b in zip(_flat(out), _flat(ref)):
        assert a.dtype == np.float32 and a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_gradcheck(cls):
    cell = cls(2, 3).double()
    x = ag.tensor(RNG.standard_normal((2, 2)), requires_grad=True)
    h = ag.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    params = list(cell.parameters())
    if cls is nn.LSTMCell:
        c = ag.tensor(RNG.standard_normal((2, 3)), requires_grad=True)

        def f(x, h, c, *ps):
            hn, cn = cell(x, (h, c))
            return hn * 2.0 + cn

        assert ag.gradcheck(f, (x, h, c, *params))
        assert ag.gradgradcheck(f, (x, h, c))
    else:
        assert ag.gradcheck(lambda x, h, *ps: cell(x, h), (x, h, *params))
        assert ag.gradgradcheck(lambda x, h: cell(x, h), (x, h))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_plain_tensor_op_path_for_large_states(torch, monkeypatch, name):
    """With FUSED_CELLS off the cells run as plain Tensor ops: the same results."""
    monkeypatch.setattr(rec, "FUSED_CELLS", False)
    mine, theirs = _pair(torch, name, 3, 4, num_layers=2, bidirectional=True)
    my_in, their_in = _tensors(torch, [RNG.standard_normal((5, 2, 3))])
    _check(torch, mine, theirs, mine(my_in[0]), theirs(their_in[0]), my_in, their_in, 1e-9, 1e-11)
    cell = getattr(nn, name + "Cell")(2, 3).double()
    x = ag.tensor(RNG.standard_normal((2, 2)), requires_grad=True)
    h = ag.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    f = (lambda x, h: cell(x, (h, h * 0.5))[1]) if name == "LSTM" else (lambda x, h: cell(x, h))
    assert ag.gradcheck(f, (x, h)) and ag.gradgradcheck(f, (x, h))


def test_cell_init_bounds_and_names():
    cell = nn.LSTMCell(6, 16)
    bound = 1 / math.sqrt(16)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert cell.weight_ih.shape == (64, 6) and cell.weight_hh.shape == (64, 16)
    for p in cell.parameters():
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > bound / 2


# ---- multi-layer modules ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_stacked_bidirectional_parity_float64(torch, name, batch_first, with_state):
    mine, theirs = _pair(torch, name, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    T, B = 5, 2
    arrays = [RNG.standard_normal((B, T, 3) if batch_first else (T, B, 3))]
    if with_state:
        arrays += [RNG.standard_normal((4, B, 4)) for _ in range(2 if name == "LSTM" else 1)]
    my_in, their_in = _tensors(torch, arrays)
    hx_m = hx_t = None
    if with_state:
        hx_m = tuple(my_in[1:]) if name == "LSTM" else my_in[1]
        hx_t = tuple(their_in[1:]) if name == "LSTM" else their_in[1]
    my_out, their_out = mine(my_in[0], hx_m), theirs(their_in[0], hx_t)
    assert my_out[0].shape == (B, T, 8) if batch_first else (T, B, 8)
    _check(torch, mine, theirs, my_out, their_out, my_in, their_in, 1e-9, 1e-11)


@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("RNN", {"nonlinearity": "relu", "num_layers": 3}),
        ("LSTM", {"bias": False}),
        ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True}),
        ("GRU", {"num_layers": 2, "batch_first": True}),
    ],
)
def test_variants_float32(torch, name, kwargs):
    mine, theirs = _pair(torch, name, 3, 6, dtype=np.float32, **kwargs)
    x = RNG.standard_normal((7, 3, 3)).astype(np.float32)
    my_in, their_in = _tensors(torch, [x])
    my_out = mine(my_in[0])
    assert all(t.dtype == np.float32 for t in _flat(my_out))
    _check(torch, mine, theirs, my_out, theirs(their_in[0]), my_in, their_in, 2e-4, 2e-5)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(torch, name):
    mine, theirs = _pair(torch, name, 3, 4, num_layers=2, bidirectional=True)
    x = RNG.standard_normal((5, 3))
    for a, b in zip(_flat(mine(ag.tensor(x))), _flat(theirs(torch.tensor(x)))):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_only_between_layers(torch):
    """With p=1 every layer but the first sees zeros; the last layer's output is not dropped."""
    mine, theirs = _pair(torch, "GRU", 3, 4, num_layers=2, dropout=1.0)
    x = RNG.standard_normal((5, 2, 3))
    out, h = mine(ag.tensor(x))
    ref_out, ref_h = theirs(torch.tensor(x))
    assert np.abs(out.numpy()).min() > 0
    np.testing.assert_allclose(out.numpy(), ref_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), ref_h.detach().numpy(), rtol=1e-10, atol=1e-12)
    mine.eval()
    theirs.eval()
    np.testing.assert_allclose(
        mine(ag.tensor(x))[0].numpy(), theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-10, atol=1e-12
    )


def test_state_dict_loads_into_torch(torch):
    mine = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    x = RNG.standard_normal((4, 2, 3)).astype(np.float32)
    out, (h, c) = mine(ag.tensor(x))
    ref, (rh, rc) = theirs(torch.tensor(x))
    for a, b in ((out, ref), (h, rh), (c, rc)):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_stacked_gradcheck_float64(name, monkeypatch):
    model = getattr(nn, name)(2, 3, num_layers=2, bidirectional=True).double()
    x = ag.tensor(RNG.standard_normal((3, 1, 2)), requires_grad=True)
    assert ag.gradcheck(lambda x, w: model(x)[0], (x, model.weight_hh_l0_reverse))
    monkeypatch.setattr(rec, "FUSED_CELLS", False)  # second order through plain Tensor ops
    assert ag.gradgradcheck(lambda x: model(x)[0], (x,))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_stacked_gradgradcheck_through_fused_cells(name):
    model = getattr(nn, name)(2, 3).double()
    x = ag.tensor(RNG.standard_normal((2, 1, 2)), requires_grad=True)
    assert ag.gradgradcheck(lambda x: model(x)[0], (x,))


def test_long_sequence_backward_reaches_first_step():
    rnn = nn.GRU(2, 3)
    x = ag.tensor(RNG.standard_normal((300, 1, 2)).astype(np.float32), requires_grad=True)
    out, h = rnn(x)
    h.sum().backward()
    assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()


def test_errors_name_the_layer_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ShapeError, match=r"LSTM\(3, 4\).*input_size=3"):
        lstm(ag.randn(5, 2, 7))
    with pytest.raises(ShapeError, match=r"LSTM\(3, 4\).*\(2, 2, 4\)"):
        lstm(ag.randn(5, 2, 3), (ag.zeros(1, 2, 4), ag.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match="GRUCell"):
        nn.GRUCell(3, 4)(ag.randn(2, 3), ag.zeros(3, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
