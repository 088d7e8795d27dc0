"""`pow`'s gradient where its formulas break down (base 0, exponent 0, negative bases), against
PyTorch for every class of exponent: 0, positive integers, positive fractions, negatives, tensor
exponents and a scalar base (`c ** x`). NaN and infinity must match too, sign included."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag

# Negative bases to fractional powers, 0 to negative powers: the forward values are NaN / inf with
# NumPy's warning (as `ag.sqrt(-1)` is); the gradients are what this file compares.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

BASES = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0])
EXPONENTS = [0, 0.0, 1, 2, 3, 2.0, 0.5, 1.5, 2.5, -1, -2, -0.5, -1.5]


def _grad(fn, *values):
    leaves = [ag.tensor(v, dtype=ag.float64, requires_grad=True) for v in values]
    fn(*leaves).sum().backward()
    return [t.grad.numpy() for t in leaves]


def _torch_grad(torch, fn, *values):
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    fn(*leaves).sum().backward()
    return [t.grad.numpy() for t in leaves]


def _same(mine, theirs):
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(mine[np.isinf(mine)]), np.signbit(theirs[np.isinf(theirs)]))


@pytest.mark.parametrize("p", EXPONENTS, ids=repr)
def test_scalar_exponent_gradient_matches_torch(torch, p):
    _same(_grad(lambda x: x**p, BASES)[0], _torch_grad(torch, lambda x: x**p, BASES)[0])


def test_zeroth_power_has_gradient_zero_at_zero():
    """x ** 0 is the constant 1: its gradient is 0 everywhere, at x = 0 too (not 0 * 0 ** -1)."""
    for p in (0, 0.0):
        np.testing.assert_array_equal(_grad(lambda x: x**p, BASES)[0], np.zeros(len(BASES)))
        x = ag.zeros(3, requires_grad=True)  # float32 as well
        ag.pow(x, p).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3, np.float32))


def test_tensor_exponent_gradients_match_torch(torch):
    """Every (base, exponent) pair of the grids, both gradients."""
    a, b = (g.ravel() for g in np.meshgrid(BASES, [0.0, 1.0, 2.0, 0.5, -1.0, -0.5, 3.0]))
    mine = _grad(lambda x, y: x**y, a, b)
    theirs = _torch_grad(torch, lambda x, y: x**y, a, b)
    for m, t in zip(mine, theirs):
        _same(m, t)


@pytest.mark.parametrize("base", [2.0, 0.5, 1.0, 0.0, -2.0])
def test_scalar_base_gradient_matches_torch(torch, base):
    """c ** x (rpow): log(c) c ** x; for c = 0, 0 where x >= 0 and -inf where x < 0."""
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 0.5])
    _same(_grad(lambda t: base**t, x)[0], _torch_grad(torch, lambda t: base**t, x)[0])
    _same(_grad(lambda t: ag.pow(base, t), x)[0], _torch_grad(torch, lambda t: torch.pow(base, t), x)[0])


@pytest.mark.parametrize("p", [0, 2, 3, 0.5, -1.5])
def test_scalar_exponent_gradcheck_away_from_zero(p):
    x = ag.tensor(np.array([0.3, 1.2, 2.5]), dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda t: t**p, (x,))
    assert ag.gradgradcheck(lambda t: t**p, (x,))


def test_tensor_exponent_gradcheck_away_from_zero():
    a = ag.tensor(np.array([0.3, 1.2, 2.5]), dtype=ag.float64, requires_grad=True)
    b = ag.tensor(np.array([0.7, -1.5, 2.0]), dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda x, y: x**y, (a, b))
    assert ag.gradgradcheck(lambda x, y: x**y, (a, b))
