"""The fused ops (autograd_nn/ops/fused/): gradcheck, gradgradcheck (through `composite`),
PyTorch parity of values and gradients, float32 in -> float32 out, and clear errors."""

import numpy as np
import pytest
from helpers import check_torch_parity, rand

import autograd_nn as ag
from autograd_nn.errors import DTypeError, OpIndexError, ShapeError
from autograd_nn.ops import fused
from autograd_nn.ops.fused import softmax_ce as fused_softmax

F32 = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(params=["numba", "numpy"])
def exp_path(request, monkeypatch):
    """Run the softmax-family ops through both exp paths (Numba loop / NumPy SIMD exp), and
    cross-entropy's per-row work through its kernels / its NumPy form."""
    monkeypatch.setattr(fused_softmax, "NUMPY_EXP_MIN", 1 << 62 if request.param == "numba" else 0)
    monkeypatch.setattr(fused_softmax, "CE_KERNEL_MIN", 0 if request.param == "numba" else 1 << 62)
    return request.param


def targets(shape, n_cls, ignore=-100, seed=0):
    t = np.random.default_rng(seed).integers(0, n_cls, shape)
    t.reshape(-1)[::4] = ignore
    return t


# ---- cross-entropy ------------------------------------------------------------------------------
CE_CASES = [  # (logits shape, weight?, ignore_index, label_smoothing, reduction)
    ((7, 5), False, -100, 0.0, "mean"),
    ((7, 5), True, -100, 0.2, "mean"),
    ((7, 5), True, 2, 0.0, "sum"),
    ((7, 5), False, -100, 0.1, "none"),
    ((3, 4, 2, 3), True, -100, 0.3, "mean"),
    ((4,), False, -100, 0.0, "mean"),
]


@pytest.mark.parametrize("shape, weighted, ignore, eps, reduction", CE_CASES)
def test_cross_entropy_grads_and_torch_parity(torch, shape, weighted, ignore, eps, reduction, exp_path):
    n_cls = shape[0] if len(shape) == 1 else shape[1]
    t = np.array(2) if len(shape) == 1 else targets(shape[:1] + shape[2:], n_cls, ignore)
    w = np.random.default_rng(1).uniform(0.3, 2.0, n_cls) if weighted else None
    kw = {"ignore_index": ignore, "label_smoothing": eps, "reduction": reduction}

    def mine(a):
        return fused.cross_entropy_indices(a, t, weight=w, **kw)

    def theirs(a):
        tw = None if w is None else torch.from_numpy(w).to(a.dtype)
        return torch.nn.functional.cross_entropy(a, torch.from_numpy(np.asarray(t)), weight=tw, **kw)

    x = rand(shape, low=-3, high=3)
    assert ag.gradcheck(mine, [x])
    assert ag.gradgradcheck(mine, [x])
    check_torch_parity(mine, theirs, [x], torch)
    x32 = rand(shape, np.float32, -3, 3)
    assert mine(x32).dtype == np.float32
    check_torch_parity(mine, theirs, [x32], torch, **F32)


def test_cross_entropy_huge_logits_torch_parity(torch, exp_path):
    x = ag.tensor(np.array([[1e4, -1e4, 3.0], [-1e4, 1e4, 1e4 - 2.0]], np.float32), requires_grad=True)
    t = np.array([2, 1])
    check_torch_parity(
        lambda a: fused.cross_entropy_indices(a, t, label_smoothing=0.1),
        lambda a: torch.nn.functional.cross_entropy(a, torch.from_numpy(t), label_smoothing=0.1),
        [x],
        torch,
        **F32,
    )


def test_cross_entropy_all_ignored_is_nan_with_zero_grad(exp_path):
    x = rand((3, 4))
    loss = fused.cross_entropy_indices(x, np.full(3, -100), label_smoothing=0.2)
    assert np.isnan(loss.item())
    loss.backward()
    assert np.all(x.grad.numpy() == 0.0)


def test_cross_entropy_double_backward_torch_parity(torch):
    x = rand((5, 4))
    t = targets((5,), 4)
    (g,) = ag.grad(fused.cross_entropy_indices(x, t, label_smoothing=0.1), [x], create_graph=True)
    penalty = (g * g).sum()
    penalty.backward()
    xt = torch.from_numpy(x.numpy().copy()).requires_grad_()
    lt = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t), label_smoothing=0.1)
    (gt,) = torch.autograd.grad(lt, xt, create_graph=True)
    (gt * gt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-10)


def test_cross_entropy_errors():
    x = rand((3, 4))
    with pytest.raises(OpIndexError, match="CrossEntropyIndices: target 4 \\(row 1\\)"):
        fused.cross_entropy_indices(x, np.array([0, 4, -100]))
    with pytest.raises(DTypeError, match="integer class indices"):
        fused.cross_entropy_indices(x, np.zeros(3))
    with pytest.raises(ShapeError, match="do not match"):
        fused.cross_entropy_indices(x, np.zeros(4, np.int64))
    with pytest.raises(ShapeError, match="weight"):
        fused.cross_entropy_indices(x, np.zeros(3, np.int64), weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        fused.cross_entropy_indices(x, np.zeros(3, np.int64), reduction="avg")


# ---- norms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("affine", ["wb", "w", "b", ""])
def test_layer_norm_grads_and_torch_parity(torch, affine):
    x = rand((4, 3, 5))
    w = rand((3, 5)) if "w" in affine else None
    b = rand((3, 5)) if "b" in affine else None
    ins = [x] + [t for t in (w, b) if t is not None]

    def split(rest):
        it = iter(rest)
        return (next(it) if w is not None else None), (next(it) if b is not None else None)

    def mine(a, *rest):
        return fused.layer_norm(a, (3, 5), *split(rest), eps=1e-5)

    def theirs(a, *rest):
        return torch.nn.functional.layer_norm(a, (3, 5), *split(rest), eps=1e-5)

    assert ag.gradcheck(mine, ins)
    assert ag.gradgradcheck(mine, ins)
    check_torch_parity(mine, theirs, ins, torch)
    ins32 = [ag.tensor(t.numpy().astype(np.float32) + 100.0, requires_grad=True) for t in ins]
    assert mine(*ins32).dtype == np.float32
    check_torch_parity(mine, theirs, ins32, torch, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 3)])
def test_batch_norm_grads_and_torch_parity(torch, shape):
    c = shape[1]
    x, w, b = rand(shape), rand((c,)), rand((c,))

    def mine(a, ww, bb):
        return fused.batch_norm_train(a, ww, bb, eps=1e-5)

    def theirs(a, ww, bb):
        return torch.nn.functional.batch_norm(a, None, None, ww, bb, training=True, eps=1e-5)

    assert ag.gradcheck(mine, [x, w, b])
    assert ag.gradgradcheck(mine, [x, w, b])
    check_torch_parity(mine, theirs, [x, w, b], torch)
    assert ag.gradcheck(lambda a: fused.batch_norm_train(a), [x])
    x32 = ag.tensor(x.numpy().astype(np.float32), requires_grad=True)
    assert fused.batch_norm_train(x32).dtype == np.float32


def test_batch_norm_running_stats_torch_parity(torch):
    x = rand((8, 3, 4), np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    trm, trv = torch.zeros(3), torch.ones(3)
    for _ in range(2):
        fused.batch_norm_train(x, running_mean=rm, running_var=rv, momentum=0.3)
        torch.nn.functional.batch_norm(torch.from_numpy(x.numpy()), trm, trv, training=True, momentum=0.3)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-5, atol=1e-6)


def test_norm_errors():
    with pytest.raises(ShapeError, match="LayerNormFused: normalized_shape"):
        fused.layer_norm(rand((2, 3)), (4,))
    with pytest.raises(ShapeError, match="LayerNormFused: weight"):
        fused.layer_norm(rand((2, 3)), 3, weight=rand((4,)))
    with pytest.raises(DTypeError, match="LayerNormFused"):
        fused.layer_norm(rand((2, 3)), 3, weight=rand((3,), np.float32))
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        fused.batch_norm_train(rand((1, 3)))


# ---- recurrent cells ----------------------------------------------------------------------------
def test_lstm_cell_grads_and_torch_parity(torch):
    gates, c_prev = rand((3, 8), low=-2, high=2), rand((3, 2))
    op = fused.LSTMCellFused.apply
    assert ag.gradcheck(op, [gates, c_prev])
    assert ag.gradgradcheck(op, [gates, c_prev])

    def theirs(g, c):
        i, f, gg, o = g.chunk(4, 1)
        c2 = f.sigmoid() * c + i.sigmoid() * gg.tanh()
        return torch.cat([o.sigmoid() * c2.tanh(), c2], 1)

    check_torch_parity(op, theirs, [gates, c_prev], torch)
    g32, c32 = (ag.tensor(t.numpy().astype(np.float32), requires_grad=True) for t in (gates, c_prev))
    check_torch_parity(op, theirs, [g32, c32], torch, **F32)


def test_gru_cell_grads_and_torch_parity(torch):
    gi, gh, h = rand((3, 6), low=-2, high=2), rand((3, 6), low=-2, high=2), rand((3, 2))
    assert ag.gradcheck(fused.gru_cell, [gi, gh, h])
    assert ag.gradgradcheck(fused.gru_cell, [gi, gh, h])

    def theirs(a, b, hp):
        ir, iz, inn = a.chunk(3, 1)
        hr, hz, hn = b.chunk(3, 1)
        r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
        return (1 - z) * (inn + r * hn).tanh() + z * hp

    check_torch_parity(fused.gru_cell, theirs, [gi, gh, h], torch)


def test_cells_match_torch_modules(torch):
    """The fused pointwise steps, fed with matmuls, give torch.nn.LSTMCell and GRUCell."""
    x, h, c = rand((4, 3)), rand((4, 5)), rand((4, 5))
    tl, tg = torch.nn.LSTMCell(3, 5).double(), torch.nn.GRUCell(3, 5).double()
    p = {k: ag.tensor(v.detach().numpy().copy()) for k, v in tl.named_parameters()}
    h1, c1 = fused.lstm_cell(x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"], c)
    th1, tc1 = tl(torch.from_numpy(x.numpy()), (torch.from_numpy(h.numpy()), torch.from_numpy(c.numpy())))
    np.testing.assert_allclose(h1.numpy(), th1.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(c1.numpy(), tc1.detach().numpy(), rtol=1e-10)
    p = {k: ag.tensor(v.detach().numpy().copy()) for k, v in tg.named_parameters()}
    hg = fused.gru_cell(x @ p["weight_ih"].T + p["bias_ih"], h @ p["weight_hh"].T + p["bias_hh"], h)
    thg = tg(torch.from_numpy(x.numpy()), torch.from_numpy(h.numpy()))
    np.testing.assert_allclose(hg.numpy(), thg.detach().numpy(), rtol=1e-10)


def test_cell_errors():
    with pytest.raises(ShapeError, match="LSTMCellFused: expected gates"):
        fused.lstm_cell(rand((3, 7)), rand((3, 2)))
    with pytest.raises(DTypeError, match="GRUCellFused"):
        fused.gru_cell(rand((3, 6)), rand((3, 6), np.float32), rand((3, 2)))
    with pytest.raises(ShapeError, match="GRUCellFused"):
        fused.gru_cell(rand((3, 6)), rand((3, 3)), rand((3, 2)))


@pytest.mark.parametrize("numpy_min", [0, 1 << 30], ids=["vectorised", "kernel"])
def test_lstm_and_gru_cells_both_paths_gradcheck(numpy_min, monkeypatch):
    from autograd_nn.ops.fused import recurrent as fr

    monkeypatch.setattr(fr, "NUMPY_MIN", numpy_min)
    rng = np.random.default_rng(3)
    gates = ag.tensor(rng.standard_normal((3, 8)), requires_grad=True)
    c = ag.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert ag.gradcheck(lambda a, b: fr.LSTMCellFused.apply(a, b), [gates, c])
    gi, gh = (ag.tensor(rng.standard_normal((3, 6)), requires_grad=True) for _ in range(2))
    h = ag.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert ag.gradcheck(lambda a, b, d: fr.GRUCellFused.apply(a, b, d), [gi, gh, h])
