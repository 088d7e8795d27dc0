"""Property tests of the pointwise ops over random shapes, broadcast pairs and values (hypothesis).

Gradients are compared with closed-form derivatives evaluated in NumPy and summed over broadcast
axes, an independent route from the engine's `sum_to`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_nn as ag
import autograd_nn.functional as F

SETTINGS = settings(max_examples=25, deadline=None)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
TRIPLES = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)


def _sig(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# name: (function, derivative in NumPy, low, high)
UNARY = {
    "exp": (ag.exp, np.exp, -3.0, 3.0),
    "log": (ag.log, lambda x: 1.0 / x, 0.2, 3.0),
    "sqrt": (ag.sqrt, lambda x: 0.5 / np.sqrt(x), 0.2, 3.0),
    "sin": (ag.sin, np.cos, -3.0, 3.0),
    "tanh": (ag.tanh, lambda x: 1.0 - np.tanh(x) ** 2, -3.0, 3.0),
    "atan": (ag.atan, lambda x: 1.0 / (1.0 + x * x), -3.0, 3.0),
    "erf": (ag.erf, lambda x: 2.0 / math.sqrt(math.pi) * np.exp(-x * x), -3.0, 3.0),
    "sigmoid": (ag.sigmoid, lambda x: _sig(x) * (1.0 - _sig(x)), -8.0, 8.0),
    "softplus": (F.softplus, _sig, -8.0, 8.0),
    "silu": (F.silu, lambda x: _sig(x) * (1.0 + x * (1.0 - _sig(x))), -8.0, 8.0),
    "logsigmoid": (F.logsigmoid, lambda x: _sig(-x), -8.0, 8.0),
    "abs": (ag.abs, np.sign, -3.0, 3.0),
    "relu": (F.relu, lambda x: (x > 0).astype(x.dtype), -3.0, 3.0),
}
# name: (function, value in NumPy, d/da, d/db)
BINARY = {
    "add": (ag.add, np.add, lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "mul": (ag.mul, np.multiply, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (ag.div, np.divide, lambda a, b: 1.0 / b + 0 * a, lambda a, b: -a / (b * b)),
    "atan2": (ag.atan2, np.arctan2, lambda a, b: b / (a * a + b * b), lambda a, b: -a / (a * a + b * b)),
    "maximum": (ag.maximum, np.maximum, lambda a, b: (a > b) + 0.0 * b, lambda a, b: (b > a) + 0.0 * a),
    "pow": (ag.pow, np.power, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a)),
}


def _reduce_to(g, shape):
    """Sum a broadcast array down to `shape` (the test's own version of the engine's sum_to)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _array(draw, shape, low, high, dtype=np.float64):
    # no subnormals: identities like floor(a/b)*b + a % b == a break when a/b underflows
    return draw(
        hnp.arrays(
            dtype,
            shape,
            elements=st.floats(low, high, width=64 if dtype == np.float64 else 32, allow_subnormal=False),
        )
    )


@SETTINGS
@given(data=st.data(), name=st.sampled_from(sorted(UNARY)), shape=SHAPES)
def test_unary_gradient_matches_closed_form(data, name, shape):
    fn, deriv, low, high = UNARY[name]
    x = ag.tensor(_array(data.draw, shape, low, high), requires_grad=True)
    (g,) = ag.grad(fn(x).sum(), [x])
    assert g.shape == shape
    np.testing.assert_allclose(g.numpy(), deriv(x.numpy()), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(data=st.data(), name=st.sampled_from(sorted(BINARY)), shapes=PAIRS)
def test_binary_broadcast_gradients_match_closed_form(data, name, shapes):
    fn, ref, da, db = BINARY[name]
    sa, sb = shapes.input_shapes
    low = 0.3 if name == "pow" else -2.0
    a = ag.tensor(_array(data.draw, sa, low, 2.0), requires_grad=True)
    b = ag.tensor(
        _array(data.draw, sb, 0.3, 2.0) * data.draw(st.sampled_from([1.0, -1.0]))
        if name == "div"
        else _array(data.draw, sb, -2.0, 2.0),
        requires_grad=True,
    )
    wide_a, wide_b = np.broadcast_arrays(a.numpy(), b.numpy())
    if name == "maximum" and np.any(wide_a == wide_b):
        return  # ties split the gradient; covered by a unit test
    if name == "atan2" and np.any(wide_a**2 + wide_b**2 < 1e-250):
        return  # the gradient is 0 where 1 / (a^2 + b^2) overflows; covered by a unit test
    out = fn(a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.numpy(), ref(a.numpy(), b.numpy()), rtol=1e-12)
    ga, gb = ag.grad(out.sum(), [a, b])
    assert ga.shape == sa and gb.shape == sb
    np.testing.assert_allclose(ga.numpy(), _reduce_to(da(a.numpy(), b.numpy()), sa), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), _reduce_to(db(a.numpy(), b.numpy()), sb), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(data=st.data(), shapes=TRIPLES)
def test_where_and_lerp_broadcast_three_ways(data, shapes):
    sc, sa, sb = shapes.input_shapes
    cond = data.draw(hnp.arrays(np.bool_, sc))
    a = ag.tensor(_array(data.draw, sa, -2.0, 2.0), requires_grad=True)
    b = ag.tensor(_array(data.draw, sb, -2.0, 2.0), requires_grad=True)
    ga, gb = ag.grad(ag.where(ag.tensor(cond), a, b).sum(), [a, b])
    full = np.ones(shapes.result_shape)
    np.testing.assert_array_equal(ga.numpy(), _reduce_to(np.where(cond, full, 0.0), sa))
    np.testing.assert_array_equal(gb.numpy(), _reduce_to(np.where(cond, 0.0, full), sb))
    w = ag.tensor(_array(data.draw, sc, 0.0, 1.0), requires_grad=True)
    out = ag.lerp(a, b, w)
    np.testing.assert_allclose(
        out.numpy(), a.numpy() + w.numpy() * (b.numpy() - a.numpy()), rtol=1e-12, atol=1e-12
    )
    gw = ag.grad(out.sum(), [w])[0]
    np.testing.assert_allclose(gw.numpy(), _reduce_to(b.numpy() - a.numpy() + 0 * w.numpy(), sc), atol=1e-12)


@SETTINGS
@given(
    data=st.data(),
    name=st.sampled_from(["sigmoid", "softplus", "logsigmoid", "silu", "tanh", "elu", "mish", "gelu"]),
    shape=SHAPES,
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_activations_bounded_and_finite_over_a_wide_range(data, name, shape, dtype):
    x = ag.tensor(_array(data.draw, shape, -1e4, 1e4, dtype), requires_grad=True)
    out = getattr(F, name)(x)
    (g,) = ag.grad(out.sum(), [x])
    assert out.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(g.numpy()))
    if name == "sigmoid":
        assert np.all((out.numpy() >= 0) & (out.numpy() <= 1)) and np.all(
            (g.numpy() >= 0) & (g.numpy() <= 0.25)
        )
    if name == "softplus":
        assert np.all(out.numpy() >= np.maximum(x.numpy(), 0) - 1e-6 * np.abs(x.numpy()))
    if name == "logsigmoid":
        assert np.all(out.numpy() <= 0) and np.all((g.numpy() >= 0) & (g.numpy() <= 1))


@SETTINGS
@given(x=hnp.arrays(np.float64, SHAPES, elements=st.floats(-30, 30)))
def test_erf_is_odd_bounded_and_matches_math(x):
    out = ag.erf(ag.tensor(x)).numpy()
    assert np.all(np.abs(out) <= 1.0)
    np.testing.assert_array_equal(ag.erf(ag.tensor(-x)).numpy(), -out)
    expected = np.vectorize(math.erf, otypes=[np.float64])(x)
    np.testing.assert_allclose(out, expected, rtol=2e-15, atol=1e-300)


@SETTINGS
@given(
    a=hnp.arrays(np.int64, SHAPES, elements=st.integers(-1000, 1000)),
    b=st.integers(-50, 50).filter(lambda v: v != 0),
)
def test_integer_remainder_and_floor_divide_match_python(a, b):
    t = ag.tensor(a)
    flat = a.reshape(-1).tolist()
    assert (t % b).numpy().reshape(-1).tolist() == [v % b for v in flat]
    assert (t // b).numpy().reshape(-1).tolist() == [v // b for v in flat]
    assert ag.fmod(t, b).numpy().reshape(-1).tolist() == [int(math.fmod(v, b)) for v in flat]


@SETTINGS
@given(data=st.data(), shape=SHAPES)
def test_float_remainder_has_the_sign_of_the_divisor(data, shape):
    a = _array(data.draw, shape, -100.0, 100.0)
    b = data.draw(st.floats(0.5, 10.0)) * data.draw(st.sampled_from([1.0, -1.0]))
    r = (ag.tensor(a) % b).numpy()
    # |r| <= |b|, not <: a tiny negative a rounds a - b*floor(a/b) up to b itself (as Python's %)
    assert np.all((r == 0) | (np.sign(r) == np.sign(b))) and np.all(np.abs(r) <= abs(b))
    np.testing.assert_array_equal(r, np.vectorize(lambda v: v % b, otypes=[np.float64])(a))
    np.testing.assert_allclose(np.floor(a / b) * b + r, a, atol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_empty_tensors(name):
    x = ag.tensor(np.zeros((0, 3)), requires_grad=True)
    out = UNARY[name][0](x)
    (g,) = ag.grad(out.sum(), [x])
    assert out.shape == (0, 3) and g.shape == (0, 3)
