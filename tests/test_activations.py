"""Activations (F.* and the Tensor methods): forward vs NumPy, float64 gradcheck and gradgradcheck,
PyTorch parity in float32 and float64, PyTorch's subgradients at kinks, and numerical stability
(finite values and gradients, no RuntimeWarning) at +-1e4.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn.errors import ShapeError
from tests.helpers import assert_close, check_torch_parity, rand

SHAPES = [(), (1,), (5,), (2, 3), (2, 1, 3)]
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


# name: (autograd_nn function, torch function (given torch.nn.functional), NumPy reference)
ACTIVATIONS = {
    "relu": (F.relu, lambda tF: tF.relu, lambda x: np.maximum(x, 0.0)),
    "relu6": (F.relu6, lambda tF: tF.relu6, lambda x: np.clip(x, 0.0, 6.0)),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.1),
        lambda tF: lambda x: tF.leaky_relu(x, 0.1),
        lambda x: np.where(x > 0, x, 0.1 * x),
    ),
    "elu": (
        lambda x: F.elu(x, 1.3),
        lambda tF: lambda x: tF.elu(x, 1.3),
        lambda x: np.where(x > 0, x, 1.3 * np.expm1(x)),
    ),
    "selu": (F.selu, lambda tF: tF.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    "celu": (
        lambda x: F.celu(x, 0.7),
        lambda tF: lambda x: tF.celu(x, 0.7),
        lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7)),
    ),
    "gelu": (F.gelu, lambda tF: tF.gelu, lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda tF: lambda x: tF.gelu(x, approximate="tanh"),
        _gelu_tanh,
    ),
    "silu": (F.silu, lambda tF: tF.silu, lambda x: x * _sigmoid(x)),
    "mish": (F.mish, lambda tF: tF.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "softplus": (F.softplus, lambda tF: tF.softplus, _softplus),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda tF: lambda x: tF.softplus(x, beta=2.0, threshold=3.0),
        lambda x: _softplus(x, 2.0, 3.0),
    ),
    "sigmoid": (F.sigmoid, lambda tF: tF.sigmoid, _sigmoid),
    "tanh": (F.tanh, lambda tF: tF.tanh, np.tanh),
    "logsigmoid": (F.logsigmoid, lambda tF: tF.logsigmoid, lambda x: -np.log1p(np.exp(-x))),
    "hardtanh": (
        lambda x: F.hardtanh(x, -0.5, 0.8),
        lambda tF: lambda x: tF.hardtanh(x, -0.5, 0.8),
        lambda x: np.clip(x, -0.5, 0.8),
    ),
    "hardsigmoid": (F.hardsigmoid, lambda tF: tF.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "hardswish": (F.hardswish, lambda tF: tF.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "softsign": (F.softsign, lambda tF: tF.softsign, lambda x: x / (1 + np.abs(x))),
    "threshold": (
        lambda x: F.threshold(x, 0.1, -2.0),
        lambda tF: lambda x: tF.threshold(x, 0.1, -2.0),
        lambda x: np.where(x > 0.1, x, -2.0),
    ),
    "tanhshrink": (F.tanhshrink, lambda tF: tF.tanhshrink, lambda x: x - np.tanh(x)),
    "softshrink": (
        lambda x: F.softshrink(x, 0.3),
        lambda tF: lambda x: tF.softshrink(x, 0.3),
        lambda x: np.where(x > 0.3, x - 0.3, np.where(x < -0.3, x + 0.3, 0.0)),
    ),
    "hardshrink": (
        lambda x: F.hardshrink(x, 0.3),
        lambda tF: lambda x: tF.hardshrink(x, 0.3),
        lambda x: np.where(np.abs(x) > 0.3, x, 0.0),
    ),
}
# PyTorch evaluates these float64 gradients with float32 constants (1/6, 1/alpha): compare at 1e-7
LOOSE_F64 = {"hardsigmoid", "celu"}
STABLE = [
    "sigmoid",
    "tanh",
    "softplus",
    "softplus_beta",
    "logsigmoid",
    "elu",
    "selu",
    "celu",
    "silu",
    "mish",
    "gelu",
    "gelu_tanh",
    "softsign",
    "hardswish",
]


def _x(shape, dtype=np.float64):
    return rand(shape, dtype, -4.0, 4.0)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_and_gradcheck(name, shape):
    fn, _, ref = ACTIVATIONS[name]
    x = _x(shape)
    out = fn(x)
    assert out.shape == shape and out.dtype == np.float64
    assert_close(out, ref(x.numpy()), rtol=1e-12, atol=1e-14)
    assert ag.gradcheck(fn, [x])


@pytest.mark.parametrize("shape", [(), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_gradgradcheck(name, shape):
    assert ag.gradgradcheck(ACTIVATIONS[name][0], [_x(shape)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_torch_parity(name, dtype, torch):
    fn, tfn, _ = ACTIVATIONS[name]
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    if dtype == np.float64 and name in LOOSE_F64:
        tol = dict(rtol=1e-7, atol=1e-9)
    check_torch_parity(fn, tfn(torch.nn.functional), [_x((3, 4), dtype)], torch, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float_dtype_is_kept_for_values_and_gradients(name, dtype):
    x = _x((4,), dtype)
    out = ACTIVATIONS[name][0](x)
    (g,) = ag.grad(out.sum(), [x])
    assert out.dtype == dtype and g.dtype == dtype


# ---- stability at extremes -------------------------------------------------------------------------
EXTREMES = [-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", STABLE)
def test_finite_values_and_gradients_at_extremes(name, dtype):
    fn = ACTIVATIONS[name][0]
    x = ag.tensor(np.array(EXTREMES, dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(x)
        (g,) = ag.grad(out.sum(), [x], create_graph=True)
        (gg,) = ag.grad(g.sum(), [x])
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(g.numpy())), (out, g)
    assert np.all(np.isfinite(gg.numpy())) and out.dtype == g.dtype == gg.dtype == dtype


def test_asymptotic_values_at_extremes():
    x = ag.tensor([-1e4, 1e4], dtype=np.float64)
    assert ag.sigmoid(x).tolist() == [0.0, 1.0]
    assert F.softplus(x).tolist() == [0.0, 1e4]
    assert F.logsigmoid(x).tolist() == [-1e4, 0.0]
    assert F.silu(x).tolist() == [0.0, 1e4] and F.mish(x).tolist() == [0.0, 1e4]
    assert_close(F.elu(x), [-1.0, 1e4])
    tiny = ag.sigmoid(ag.tensor([-40.0], dtype=np.float64)).item()  # full relative precision
    assert tiny == pytest.approx(4.248354255291589e-18, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", STABLE)
def test_torch_parity_at_extremes(name, dtype, torch):
    fn, tfn, _ = ACTIVATIONS[name]
    x = ag.tensor(np.array(EXTREMES, dtype=dtype), requires_grad=True)
    check_torch_parity(fn, tfn(torch.nn.functional), [x], torch, rtol=1e-5, atol=1e-6)


# ---- subgradients at kinks (values from PyTorch 2.x) ---------------------------------------------
KINKS = [
    ("relu", F.relu, [0.0], [0.0]),
    ("abs", ag.abs, [0.0], [0.0]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), [0.0], [0.1]),
    ("elu", lambda x: F.elu(x, 2.0), [0.0], [2.0]),
    ("selu", F.selu, [0.0], [SELU_SCALE * SELU_ALPHA]),
    ("celu", lambda x: F.celu(x, 0.5), [0.0], [1.0]),
    ("relu6", F.relu6, [0.0, 6.0, 3.0], [0.0, 0.0, 1.0]),
    ("hardtanh", F.hardtanh, [-1.0, 1.0, 0.0], [0.0, 0.0, 1.0]),
    ("hardsigmoid", F.hardsigmoid, [-3.0, 3.0, 0.0], [0.0, 0.0, 1.0 / 6.0]),
    ("hardswish", F.hardswish, [-3.0, 3.0, 0.0], [0.0, 1.0, 0.5]),
    ("threshold", lambda x: F.threshold(x, 1.0, 5.0), [1.0, 1.5], [0.0, 1.0]),
    ("softplus", lambda x: F.softplus(x, 2.0, 3.0), [1.5, 1.6], [0.9525741268224333, 1.0]),
    ("softshrink", lambda x: F.softshrink(x, 0.5), [-0.5, 0.5], [0.0, 0.0]),
    ("hardshrink", lambda x: F.hardshrink(x, 0.5), [-0.5, 0.5], [0.0, 0.0]),
    ("clamp", lambda x: x.clamp(-1.0, 1.0), [-1.0, 1.0], [1.0, 1.0]),
    ("maximum", lambda x: ag.maximum(x, ag.zeros_like(x)), [0.0], [0.5]),
]


@pytest.mark.parametrize("name, fn, points, expected", KINKS, ids=[k[0] for k in KINKS])
def test_subgradients_at_kinks(name, fn, points, expected):
    x = ag.tensor(points, dtype=np.float64, requires_grad=True)
    (g,) = ag.grad(fn(x).sum(), [x])
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-7)


# ---- signatures and composites ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "relu",
        "relu6",
        "elu",
        "selu",
        "silu",
        "mish",
        "hardtanh",
        "hardswish",
        "hardsigmoid",
        "leaky_relu",
        "celu",
    ],
)
def test_inplace_overwrites_the_input_as_pytorch(name, torch):
    values = [-1.5, -0.25, 0.0, 0.5, 7.0]
    x, tx = ag.tensor(values), torch.tensor(values)
    out, tout = getattr(F, name)(x, inplace=True), getattr(torch.nn.functional, name)(tx, inplace=True)
    assert out is x and (tout is tx or tout.data_ptr() == tx.data_ptr())
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-6, atol=1e-7)


def test_methods_match_functional():
    x = _x((2, 3))
    assert_close(x.relu(), F.relu(x))
    assert_close(x.gelu(approximate="tanh"), F.gelu(x, approximate="tanh"))
    assert_close(ag.softplus(x, 2.0, 5.0), F.softplus(x, beta=2.0, threshold=5.0))
    assert_close(ag.leaky_relu(x, 0.2), F.leaky_relu(x, negative_slope=0.2))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")


def test_integer_inputs():
    t = ag.tensor([-2, 0, 3])
    assert F.relu(t).dtype == np.int64 and F.relu(t).tolist() == [0, 0, 3]
    assert F.sigmoid(t).dtype == np.float32 and F.gelu(t).dtype == np.float32


@pytest.mark.parametrize("wshape", [(1,), (3,)])
def test_prelu(wshape, torch):
    x, w = _x((2, 3, 4)), rand(wshape, low=0.1, high=0.5)
    assert ag.gradcheck(F.prelu, [x, w])
    assert ag.gradgradcheck(F.prelu, [x, w])
    check_torch_parity(F.prelu, torch.nn.functional.prelu, [x, w], torch)
    with pytest.raises(ShapeError, match="prelu"):
        F.prelu(_x((2, 5)), rand((3,)))


def test_glu(torch):
    x = _x((2, 6))
    assert ag.gradcheck(F.glu, [x]) and ag.gradgradcheck(lambda x: F.glu(x, 0), [_x((4, 3))])
    check_torch_parity(lambda x: F.glu(x, -1), lambda x: torch.nn.functional.glu(x, -1), [x], torch)
    with pytest.raises(ShapeError, match="glu"):
        F.glu(_x((2, 5)))
