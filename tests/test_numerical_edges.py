"""Numerical edge cases: huge logits, saturated activations, kinks, one-element statistics, float32.

Subgradients at kinks follow PyTorch (each case below lists the value it expects, so the tests run
without torch; with torch they are also compared directly):

- abs'(0) = 0 (sign(0)); relu'(0) = 0; leaky_relu'(0) = negative_slope; clamp' at a bound = 1 (the
  bound counts as inside) but hardtanh' at +-1 = 0 (PyTorch tests min < x < max strictly there).
- sqrt'(0) = +inf (the true one-sided limit), never NaN.
- norm at the zero vector: gradient 0 (the subgradient of smallest norm); p = 1 norm: sign(x).
- max() / amax() with ties: the gradient is shared evenly among the tied elements; max(dim) /
  min(dim) with ties: it all goes to the index returned. maximum(a, b) with a == b: half each.
- var / std of one element: nan with the default correction 1 (as in PyTorch, no exception); 0 with
  correction=0, and a gradient of 0 (std's gradient is 0 where the std is 0).
- softmax / log_softmax / logsumexp / cross-entropy at logits of +-1e4, and sigmoid, tanh, softplus,
  logsigmoid, BCE-with-logits at +-1e4: finite values and gradients (the saturated side gives exact
  zeros, the loss grows linearly), in float32 and float64, with no overflow warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F

DTYPES = [np.float32, np.float64]
BIG = [1e4, -1e4, 0.0]
EXTREMES = [1e4, -1e4, 100.0, -100.0, 30.0, -30.0, 0.0]


def _value_and_grad(fn, x, dtype=np.float64, weights=True):
    """fn(x) and d sum(w * fn(x)) / dx (w = 1, 2, 3, ... to tell elements apart), with any
    RuntimeWarning (overflow, divide by zero, invalid) raised as an error."""
    t = ag.tensor(np.array(x, dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y = fn(t)
        w = np.arange(1.0, y.numel() + 1).reshape(y.shape) if weights else np.ones(y.shape)
        (g,) = ag.grad((y * ag.tensor(w.astype(dtype))).sum(), t)
    assert y.dtype == dtype and g.dtype == dtype
    return y.numpy(), g.numpy()


def _torch_value_and_grad(torch, fn, x, dtype=np.float64, weights=True):
    t = torch.tensor(np.array(x, dtype=dtype), requires_grad=True)
    y = fn(t)
    w = np.arange(1.0, y.numel() + 1).reshape(tuple(y.shape)) if weights else np.ones(tuple(y.shape))
    (g,) = torch.autograd.grad((y * torch.from_numpy(w.astype(dtype))).sum(), t)
    return y.detach().numpy(), g.numpy()


# ---- large logits ------------------------------------------------------------------------------
def _ce(L):
    if L is ag:
        return lambda x: F.cross_entropy(x.reshape(1, 3), ag.tensor([1]))
    return lambda x: L.nn.functional.cross_entropy(x.reshape(1, 3), L.tensor([1]))


SOFTMAX_CASES = {
    # name: (function for either library, input, expected value, expected gradient)
    "softmax": (lambda L: lambda x: x.softmax(0), BIG, [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    "log_softmax": (lambda L: lambda x: x.log_softmax(0), BIG, [0.0, -2e4, -1e4], [-5.0, 2.0, 3.0]),
    "logsumexp": (lambda L: lambda x: x.logsumexp(0), BIG, 1e4, [1.0, 0.0, 0.0]),
    "logsumexp_all_very_negative": (
        lambda L: lambda x: x.logsumexp(0),
        [-1e4, -1e4],
        -1e4 + np.log(2.0),
        [0.5, 0.5],
    ),
    "cross_entropy_wrong_class": (_ce, BIG, 2e4, [1.0, -1.0, 0.0]),
    "cross_entropy_right_class": (_ce, [-1e4, 1e4, 0.0], 0.0, [0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SOFTMAX_CASES))
def test_softmax_family_at_huge_logits(name, dtype):
    make, x, value, grad = SOFTMAX_CASES[name]
    y, g = _value_and_grad(make(ag), x, dtype)
    assert np.isfinite(y).all() and np.isfinite(g).all()
    # float32 spacing at 1e4 is 1e-3: exp(x - logsumexp) inherits that much relative error
    tol = 1e-6 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(y, value, rtol=1e-6, atol=tol)
    np.testing.assert_allclose(g, grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SOFTMAX_CASES))
def test_softmax_family_at_huge_logits_matches_torch(name, dtype, torch):
    make, x, _, _ = SOFTMAX_CASES[name]
    y, g = _value_and_grad(make(ag), x, dtype)
    ty, tg = _torch_value_and_grad(torch, make(torch), x, dtype)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-6)


# ---- saturating activations ----------------------------------------------------------------------
def _bce(target):
    def make(L):
        mod = F if L is ag else L.nn.functional

        def fn(x):
            t = L.tensor(np.array(target, dtype=x.numpy().dtype if L is ag else np.float64))
            t = t.to(x.dtype)
            return mod.binary_cross_entropy_with_logits(x, t, reduction="none")

        return fn

    return make


SATURATING = {
    "sigmoid": lambda L: lambda x: x.sigmoid(),
    "tanh": lambda L: lambda x: x.tanh(),
    "softplus": lambda L: lambda x: (F if L is ag else L.nn.functional).softplus(x),
    "logsigmoid": lambda L: lambda x: (F if L is ag else L.nn.functional).logsigmoid(x),
    "bce_with_logits_right": _bce([1, 0, 1, 0, 1, 0, 1]),
    "bce_with_logits_wrong": _bce([0, 1, 0, 1, 0, 1, 0.5]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SATURATING))
def test_saturating_functions_at_extremes(name, dtype):
    y, g = _value_and_grad(SATURATING[name](ag), EXTREMES, dtype)
    assert np.isfinite(y).all() and np.isfinite(g).all(), (y, g)
    if name == "bce_with_logits_wrong":  # the loss grows linearly and its slope is +-1
        np.testing.assert_allclose(y[:4], [1e4, 1e4, 100.0, 100.0], rtol=1e-6)
        np.testing.assert_allclose(g[:4], [1.0, -2.0, 3.0, -4.0], rtol=1e-6)
    if name == "sigmoid":
        np.testing.assert_allclose(y[:2], [1.0, 0.0])
        np.testing.assert_allclose(g[:2], [0.0, 0.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SATURATING))
def test_saturating_functions_at_extremes_match_torch(name, dtype, torch):
    y, g = _value_and_grad(SATURATING[name](ag), EXTREMES, dtype)
    ty, tg = _torch_value_and_grad(torch, SATURATING[name](torch), EXTREMES, dtype)
    # atol: the relative accuracy of tiny tails is tested separately (tested below)
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-5, atol=1e-12)


def test_bce_with_logits_keeps_relative_precision_of_small_losses():
    """Right answers with positive logits: log1p(exp(-x)) to full precision, as PyTorch gives.
    (Negative logits with target 0 cancel in (1 - t) x + softplus(-x), in PyTorch too.)"""
    x = ag.tensor(np.array([30.0, 100.0, 5.0]), requires_grad=True)
    t = ag.tensor(np.array([1.0, 1.0, 1.0]))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    expected = np.log1p(np.exp(-np.array([30.0, 100.0, 5.0])))
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)


# ---- kinks ----------------------------------------------------------------------------------------
def _f(L):
    return F if L is ag else L.nn.functional


def _other(L, values):
    return L.tensor(np.array(values, dtype=np.float64))


KINKS = {
    # name: (function for either library, input, expected gradient of sum(w * f(x)), w = 1, 2, ...)
    "abs": (lambda L: lambda x: x.abs(), [0.0, -1.0, 2.0], [0.0, -2.0, 3.0]),
    "relu": (lambda L: lambda x: _f(L).relu(x), [0.0, -1.0, 2.0], [0.0, 0.0, 3.0]),
    "leaky_relu": (lambda L: lambda x: _f(L).leaky_relu(x, 0.1), [0.0, -1.0], [0.1, 0.2]),
    "hardtanh": (lambda L: lambda x: _f(L).hardtanh(x), [1.0, -1.0, 0.0], [0.0, 0.0, 3.0]),
    "clamp": (lambda L: lambda x: x.clamp(0.0, 1.0), [0.0, 1.0, 2.0], [1.0, 2.0, 0.0]),
    "norm_at_zero": (lambda L: lambda x: x.norm(), [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    "norm_dim_one_zero_row": (
        lambda L: lambda x: x.norm(dim=1),
        [[0.0, 0.0], [3.0, 4.0]],
        [[0.0, 0.0], [1.2, 1.6]],
    ),
    "norm_p1": (lambda L: lambda x: x.norm(p=1), [0.0, 1.0, -2.0], [0.0, 1.0, -1.0]),
    "max_ties": (lambda L: lambda x: x.max(), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    "amax_ties": (lambda L: lambda x: x.amax(0), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    "max_dim_ties": (lambda L: lambda x: x.max(0).values, [1.0, 3.0, 3.0], [0.0, 1.0, 0.0]),
    "min_dim_ties": (lambda L: lambda x: x.min(0).values, [1.0, 1.0, 3.0], [1.0, 0.0, 0.0]),
    "maximum_equal": (
        lambda L: lambda x: L.maximum(x, _other(L, [1.0, 0.0, 5.0])),
        [1.0, 3.0, 3.0],
        [0.5, 2.0, 0.0],
    ),
    "std_constant": (lambda L: lambda x: x.std(), [2.0, 2.0, 2.0], [0.0, 0.0, 0.0]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_subgradient_at_kink(name):
    make, x, grad = KINKS[name]
    _, g = _value_and_grad(make(ag), x)
    assert not np.isnan(g).any()
    np.testing.assert_allclose(g, grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(KINKS))
def test_subgradient_at_kink_matches_torch(name, torch):
    make, x, _ = KINKS[name]
    y, g = _value_and_grad(make(ag), x)
    ty, tg = _torch_value_and_grad(torch, make(torch), x)
    np.testing.assert_allclose(y, ty, rtol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12)


def test_sqrt_at_zero_has_infinite_gradient_not_nan():
    x = ag.tensor([0.0, 4.0], dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert x.grad.numpy()[0] == np.inf
    assert x.grad.numpy()[1] == pytest.approx(0.25)


def test_sqrt_at_zero_backward_emits_no_warning():
    x = ag.tensor([0.0, 4.0], dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        x.sqrt().sum().backward()
    assert x.grad.numpy()[0] == np.inf


# ---- one-element statistics ----------------------------------------------------------------------
@pytest.mark.parametrize("op", ["var", "std"])
def test_one_element_with_correction_1_is_nan_not_an_error(op):
    x = ag.tensor([2.0], dtype=np.float64, requires_grad=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = getattr(x, op)()
    assert np.isnan(y.item())


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_one_element_with_correction_0_is_zero_with_zero_gradient(op, dtype):
    y, g = _value_and_grad(lambda x: getattr(x, op)(correction=0), [2.0], dtype)
    assert y == 0.0
    np.testing.assert_array_equal(g, [0.0])
    y, g = _value_and_grad(lambda x: getattr(x, op)(dim=1, keepdim=True, correction=0), [[1.0], [5.0]], dtype)
    np.testing.assert_array_equal(y, [[0.0], [0.0]])
    np.testing.assert_array_equal(g, [[0.0], [0.0]])


# ---- float32 against float64 -------------------------------------------------------------------
def _small_net_loss(dtype, params, x, y):
    w1, b1, w2, b2, gamma = (ag.tensor(p.astype(dtype), requires_grad=True) for p in params)
    h = (ag.tensor(x.astype(dtype)) @ w1 + b1).tanh()
    h = F.layer_norm(h, (h.shape[-1],)) * gamma
    logits = F.gelu(h) @ w2 + b2
    loss = F.cross_entropy(logits, ag.tensor(y)) + (logits.softmax(-1) ** 2).mean()
    leaves = [w1, b1, w2, b2, gamma]
    return loss, ag.grad(loss, leaves)


def test_float32_and_float64_agree_on_a_small_network():
    rng = np.random.default_rng(0)
    params = [
        rng.standard_normal((6, 16)) / np.sqrt(6),
        0.1 * rng.standard_normal(16),
        rng.standard_normal((16, 4)) / 4.0,
        0.1 * rng.standard_normal(4),
        1.0 + 0.1 * rng.standard_normal(16),
    ]
    x = rng.standard_normal((32, 6))
    y = rng.integers(0, 4, 32)
    loss32, grads32 = _small_net_loss(np.float32, params, x, y)
    loss64, grads64 = _small_net_loss(np.float64, params, x, y)
    assert loss32.dtype == np.float32 and loss64.dtype == np.float64
    assert all(g.dtype == np.float32 for g in grads32)
    np.testing.assert_allclose(loss32.item(), loss64.item(), rtol=1e-5)
    for g32, g64 in zip(grads32, grads64):
        scale = np.abs(g64.numpy()).max()
        np.testing.assert_allclose(g32.numpy(), g64.numpy(), rtol=1e-3, atol=1e-5 * scale)
