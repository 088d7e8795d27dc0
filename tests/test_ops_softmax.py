"""F.softmax, F.log_softmax, F.softmin, logsumexp: stability, edge cases, gradients, torch parity."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn.errors import DTypeError, OpIndexError
from tests.helpers import assert_close, check_torch_parity, rand

FNS = {
    "softmax": (F.softmax, "softmax"),
    "log_softmax": (F.log_softmax, "log_softmax"),
    "softmin": (F.softmin, "softmin"),
}
DIMS = [((), 0), ((6,), 0), ((6,), -1), ((3, 1), 1), ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 1, 3, 2), 0)]
BIG = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4 + 2.0, -1e4, -1e4]])


def _torch_fn(torch, name):
    return getattr(torch.nn.functional, name)


@pytest.mark.parametrize("name", list(FNS))
@pytest.mark.parametrize("shape,dim", DIMS)
def test_gradcheck_and_gradgradcheck(name, shape, dim):
    fn = FNS[name][0]
    x = rand(shape)
    assert ag.gradcheck(lambda t: fn(t, dim), [x])
    assert ag.gradgradcheck(lambda t: fn(t, dim), [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(FNS))
@pytest.mark.parametrize("shape,dim", DIMS)
def test_torch_parity(name, shape, dim, dtype, torch):
    fn, tname = FNS[name]
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {}
    check_torch_parity(
        lambda t: fn(t, dim),
        lambda t: _torch_fn(torch, tname)(t, dim),
        [rand(shape, dtype, -3.0, 3.0)],
        torch,
        **tol,
    )


def test_forward_matches_numpy_and_rows_sum_to_one():
    x = rand((3, 5), requires_grad=False)
    e = np.exp(x.numpy() - x.numpy().max(1, keepdims=True))
    expected = e / e.sum(1, keepdims=True)
    assert_close(F.softmax(x, dim=1), expected)
    assert_close(F.log_softmax(x, dim=1), np.log(expected))
    assert_close(x.softmax(0).sum(0), np.ones(5))
    assert_close(F.softmin(x, 1), np.exp(-x.numpy()) / np.exp(-x.numpy()).sum(1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_logits_are_finite_and_match_torch(dtype, torch):
    x = ag.tensor(BIG.astype(dtype), requires_grad=True)
    for fn, tfn in [
        (lambda t: F.softmax(t, 1), lambda t: torch.softmax(t, 1)),
        (lambda t: F.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1)),
        (lambda t: t.logsumexp(1), lambda t: t.logsumexp(1)),
        (lambda t: F.softmin(t, 0), lambda t: torch.nn.functional.softmin(t, 0)),
    ]:
        out = fn(x)
        assert np.isfinite(out.numpy()).all()
        assert out.dtype == dtype
        check_torch_parity(fn, tfn, [x], torch, rtol=1e-5, atol=1e-5)
        (g,) = ag.grad(out.sum(), x)
        assert np.isfinite(g.numpy()).all() and g.dtype == dtype


def test_logsumexp_of_large_values_matches_the_exact_formula():
    x = ag.tensor([1e4, 1e4], dtype=np.float64)
    assert_close(x.logsumexp(0), 1e4 + np.log(2.0))
    assert_close(ag.logsumexp(ag.tensor([-1e4, -1e4], dtype=np.float64), 0), -1e4 + np.log(2.0))


def test_minus_inf_entries_and_rows(torch):
    ninf = -np.inf
    x = ag.tensor([[ninf, 0.0, 1.0], [ninf, ninf, ninf]], dtype=np.float64, requires_grad=True)
    t = torch.tensor(x.numpy(), requires_grad=True)
    with np.errstate(all="raise"):  # no floating-point warnings escape
        lse, sm, lsm = x.logsumexp(1), F.softmax(x, 1), F.log_softmax(x, 1)
    assert_close(lse, t.logsumexp(1))
    assert_close(sm, torch.softmax(t, 1))
    assert_close(lsm, torch.log_softmax(t, 1))
    assert lse.numpy()[1] == ninf and np.isnan(sm.numpy()[1]).all()
    # rows with some -inf entries have finite gradients, equal to torch's
    for fn, tfn in [
        (lambda a: a.logsumexp(1)[0], lambda a: a.logsumexp(1)[0]),
        (lambda a: F.softmax(a, 1)[0], lambda a: torch.softmax(a, 1)[0]),
        (lambda a: F.log_softmax(a, 1)[0, 1:], lambda a: torch.log_softmax(a, 1)[0, 1:]),
    ]:
        out = fn(x)
        w = np.arange(1.0, out.numel() + 1).reshape(out.shape)
        (g,) = ag.grad((out * ag.tensor(w)).sum(), x)
        (tg,) = torch.autograd.grad((tfn(t) * torch.tensor(w)).sum(), t)
        assert np.isfinite(g.numpy()[0]).all()
        assert_close(g.numpy()[0], tg[0])


def test_implicit_dim_warns_and_follows_pytorch():
    x3 = rand((2, 3, 4), requires_grad=False)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(x3)
    assert_close(out.sum(0), np.ones((3, 4)))  # 3-d: dim 0, as PyTorch picks
    with pytest.warns(UserWarning, match="log_softmax"):
        out = F.log_softmax(rand((2, 3), requires_grad=False))
    assert_close(out.exp().sum(1), np.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(x3.softmax().sum(-1), np.ones((2, 3)))  # the method defaults to dim=-1


def test_dtypes_and_errors():
    i = ag.tensor([[1, 2, 3]])
    with pytest.raises(DTypeError, match="softmax: input dtype must be floating point"):
        F.softmax(i, 1)
    out = F.softmax(i, 1, dtype=np.float64)
    assert out.dtype == np.float64
    assert F.log_softmax(rand((2, 3), np.float32), 1, dtype=np.float64).dtype == np.float64
    assert ag.logsumexp(i, 1).dtype == np.float32  # integers promote to the default float
    with pytest.raises(OpIndexError, match="^log_softmax: dim 2 is out of range"):
        F.log_softmax(rand((2, 3)), 2)
    assert ag.softmax(ag.tensor(3.0), 0).item() == 1.0


def test_hessian_vector_product_matches_torch(torch):
    x = rand((2, 5))
    v = rand((2, 5), requires_grad=False)
    cases = [
        (lambda a: (F.softmax(a, 1) ** 2).sum(), lambda a: (torch.softmax(a, 1) ** 2).sum()),
        (lambda a: (F.log_softmax(a, 0) * a).sum(), lambda a: (torch.log_softmax(a, 0) * a).sum()),
        (lambda a: a.logsumexp(1).sum(), lambda a: a.logsumexp(1).sum()),
    ]
    for fn, tfn in cases:
        (g,) = ag.grad(fn(x), x, create_graph=True)
        (hv,) = ag.grad((g * v).sum(), x)
        t = torch.tensor(x.numpy(), requires_grad=True)
        (tg,) = torch.autograd.grad(tfn(t), t, create_graph=True)
        (thv,) = torch.autograd.grad((tg * torch.tensor(v.numpy())).sum(), t)
        assert_close(hv, thv)
