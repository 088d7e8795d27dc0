"""Pointwise maths: forward vs NumPy, float64 gradcheck over shared shape tables, gradgradcheck, and
PyTorch parity (float32 and float64) for every unary, binary and ternary op; plus the error function,
rounding, remainders, clamp/where/lerp semantics and the non-differentiable logical/bitwise ops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.errors import DTypeError, ShapeError
from autograd_nn.ops.special import erf_array, erfc_array, erfinv_array
from tests.helpers import assert_close, check_torch_parity, rand

UNARY_SHAPES = [(), (1,), (4,), (2, 3), (2, 1, 3)]
BINARY_SHAPES = [
    ((), ()),
    ((3,), ()),
    ((), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((1,), (2, 3)),
    ((2, 3), (2, 3)),
]
TERNARY_SHAPES = [((), (), ()), ((2, 3), (3,), ()), ((2, 1), (1, 3), (2, 3)), ((3,), (2, 3), (1,))]
DOMAINS = {
    "real": (-2.0, 2.0),
    "pos": (0.5, 2.0),
    "unit": (-0.9, 0.9),
    "gt1": (1.2, 3.0),
    "nonzero": (0.3, 2.0),
}

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _signed(x):
    """Values in the domain 'nonzero' given a random sign (stay away from 0 and the kinks)."""
    return x * np.where(np.arange(x.size).reshape(x.shape) % 2, 1.0, -1.0) if x.ndim else x


# name: (autograd_nn function, torch function name, NumPy reference, domain)
UNARY = {
    "neg": (ag.neg, "neg", np.negative, "real"),
    "abs": (ag.abs, "abs", np.abs, "real"),
    "square": (ag.square, "square", np.square, "real"),
    "reciprocal": (ag.reciprocal, "reciprocal", np.reciprocal, "pos"),
    "sqrt": (ag.sqrt, "sqrt", np.sqrt, "pos"),
    "rsqrt": (ag.rsqrt, "rsqrt", lambda a: 1.0 / np.sqrt(a), "pos"),
    "exp": (ag.exp, "exp", np.exp, "real"),
    "exp2": (ag.exp2, "exp2", np.exp2, "real"),
    "expm1": (ag.expm1, "expm1", np.expm1, "real"),
    "log": (ag.log, "log", np.log, "pos"),
    "log2": (ag.log2, "log2", np.log2, "pos"),
    "log10": (ag.log10, "log10", np.log10, "pos"),
    "log1p": (ag.log1p, "log1p", np.log1p, "pos"),
    "sin": (ag.sin, "sin", np.sin, "real"),
    "cos": (ag.cos, "cos", np.cos, "real"),
    "tan": (ag.tan, "tan", np.tan, "unit"),
    "asin": (ag.asin, "asin", np.arcsin, "unit"),
    "acos": (ag.acos, "acos", np.arccos, "unit"),
    "atan": (ag.atan, "atan", np.arctan, "real"),
    "sinh": (ag.sinh, "sinh", np.sinh, "real"),
    "cosh": (ag.cosh, "cosh", np.cosh, "real"),
    "tanh": (ag.tanh, "tanh", np.tanh, "real"),
    "asinh": (ag.asinh, "asinh", np.arcsinh, "real"),
    "acosh": (ag.acosh, "acosh", np.arccosh, "gt1"),
    "atanh": (ag.atanh, "atanh", np.arctanh, "unit"),
    "erf": (ag.erf, "erf", _erf, "real"),
    "erfc": (ag.erfc, "erfc", _erfc, "real"),
    "erfinv": (ag.erfinv, "erfinv", None, "unit"),
    "floor": (ag.floor, "floor", np.floor, "real"),
    "ceil": (ag.ceil, "ceil", np.ceil, "real"),
    "round": (ag.round, "round", np.round, "real"),
    "trunc": (ag.trunc, "trunc", np.trunc, "real"),
    "frac": (ag.frac, "frac", lambda a: a - np.trunc(a), "real"),
    "sign": (ag.sign, "sign", np.sign, "real"),
    "nan_to_num": (ag.nan_to_num, "nan_to_num", np.nan_to_num, "real"),
}
# name: (autograd_nn function, torch function name, NumPy reference, domain of a, domain of b)
BINARY = {
    "add": (ag.add, "add", np.add, "real", "real"),
    "sub": (ag.sub, "sub", np.subtract, "real", "real"),
    "mul": (ag.mul, "mul", np.multiply, "real", "real"),
    "div": (ag.div, "div", np.divide, "real", "nonzero"),
    "pow": (ag.pow, "pow", np.power, "pos", "real"),
    "atan2": (ag.atan2, "atan2", np.arctan2, "real", "real"),
    "maximum": (ag.maximum, "maximum", np.maximum, "real", "real"),
    "minimum": (ag.minimum, "minimum", np.minimum, "real", "real"),
    "remainder": (ag.remainder, "remainder", np.remainder, "real", "nonzero"),
    "fmod": (ag.fmod, "fmod", np.fmod, "real", "nonzero"),
    "floor_divide": (ag.floor_divide, "floor_divide", np.floor_divide, "real", "nonzero"),
}
ZERO_GRAD = {"floor", "ceil", "round", "trunc", "sign", "floor_divide"}


def _input(shape, domain, dtype=np.float64, requires_grad=True):
    low, high = DOMAINS[domain]
    x = rand(shape, dtype, low, high, requires_grad=False)
    data = _signed(x.numpy()) if domain == "nonzero" else x.numpy()
    return ag.tensor(data.astype(dtype), requires_grad=requires_grad)


def _torch_fn(torch, name):
    return getattr(torch, name)


# ---- unary --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_and_gradcheck(name, shape):
    fn, _, ref, domain = UNARY[name]
    x = _input(shape, domain)
    out = fn(x)
    assert out.shape == shape and out.dtype == np.float64
    if ref is not None:
        assert_close(out, ref(x.numpy()), rtol=1e-12, atol=1e-14)
    assert ag.gradcheck(fn, [x])


@pytest.mark.parametrize("shape", [(), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradgradcheck(name, shape):
    fn, _, _, domain = UNARY[name]
    assert ag.gradgradcheck(fn, [_input(shape, domain)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_torch_parity(name, dtype, torch):
    fn, tname, _, domain = UNARY[name]
    x = _input((2, 3), domain, dtype)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    check_torch_parity(fn, _torch_fn(torch, tname), [x], torch, **tol)


def test_zero_gradient_ops_give_zeros_not_none():
    x = rand((3,))
    for name in sorted(ZERO_GRAD - {"floor_divide"}):
        (g,) = ag.grad(UNARY[name][0](x).sum(), [x])
        assert g is not None and np.all(g.numpy() == 0), name


# ---- binary -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_forward_and_gradcheck(name, shapes):
    fn, _, ref, da, db = BINARY[name]
    a, b = _input(shapes[0], da), _input(shapes[1], db)
    out = fn(a, b)
    assert out.shape == np.broadcast_shapes(*shapes)
    assert_close(out, ref(a.numpy(), b.numpy()), rtol=1e-12, atol=1e-14)
    assert ag.gradcheck(fn, [a, b])


@pytest.mark.parametrize("shapes", [((), ()), ((2, 1), (1, 3))], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradgradcheck(name, shapes):
    fn, _, _, da, db = BINARY[name]
    assert ag.gradgradcheck(fn, [_input(shapes[0], da), _input(shapes[1], db)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_torch_parity(name, dtype, torch):
    fn, tname, _, da, db = BINARY[name]
    a, b = _input((2, 3), da, dtype), _input((3,), db, dtype)
    if name == "floor_divide":  # PyTorch has no derivative for it: compare values only
        a, b = a.detach(), b.detach()
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    check_torch_parity(fn, _torch_fn(torch, tname), [a, b], torch, **tol)


@pytest.mark.parametrize("name", ["add", "mul", "maximum", "atan2", "remainder", "pow"])
def test_binary_scalars_on_either_side(name):
    fn, _, ref, _, _ = BINARY[name]
    x = _input((3,), "pos")
    assert_close(fn(x, 1.5), ref(x.numpy(), 1.5))
    assert_close(fn(1.5, x), ref(1.5, x.numpy()))
    assert_close(fn(np.array([0.5, 1.0, 2.0]), x), ref(np.array([0.5, 1.0, 2.0]), x.numpy()))


# ---- ternary: lerp, where, clamp with tensor bounds ----------------------------------------------
def _lerp(s, e, w):
    return ag.lerp(s, e, w)


def _where(a, b, c):
    return ag.where(c.detach() > 0, a, b) + 0.0 * c


def _clamp(x, lo, hi):
    return ag.clamp(x, lo, hi)


TERNARY = {
    "lerp": (_lerp, lambda torch: torch.lerp, lambda s, e, w: s + w * (e - s), ("real", "real", "real")),
    "where": (
        _where,
        lambda torch: lambda a, b, c: torch.where(c.detach() > 0, a, b) + 0.0 * c,
        lambda a, b, c: np.where(c > 0, a, b),
        ("real", "real", "real"),
    ),
    "clamp": (
        _clamp,
        lambda torch: torch.clamp,
        lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
        ("real", "real", "real"),
    ),
}


def _ternary_inputs(name, shapes, dtype=np.float64):
    xs = [_input(s, d, dtype) for s, d in zip(shapes, TERNARY[name][3])]
    if name == "clamp":  # lo in [-1, -0.25], hi in [0.25, 1]: no crossed bounds, no ties
        lo, hi = (np.abs(t.numpy()) * 0.375 + 0.25 for t in xs[1:])
        xs[1], xs[2] = (ag.tensor(v.astype(dtype), requires_grad=True) for v in (-lo, hi))
    return xs


@pytest.mark.parametrize("shapes", TERNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(TERNARY))
def test_ternary_forward_and_gradcheck(name, shapes):
    fn, _, ref, _ = TERNARY[name]
    xs = _ternary_inputs(name, shapes)
    assert_close(fn(*xs), ref(*(x.numpy() for x in xs)), rtol=1e-12, atol=1e-14)
    assert ag.gradcheck(fn, xs)


@pytest.mark.parametrize("name", sorted(TERNARY))
def test_ternary_gradgradcheck(name):
    assert ag.gradgradcheck(TERNARY[name][0], _ternary_inputs(name, ((2, 1), (1, 3), (3,))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(TERNARY))
def test_ternary_torch_parity(name, dtype, torch):
    fn, tfn, _, _ = TERNARY[name]
    xs = _ternary_inputs(name, ((2, 3), (3,), (2, 1)), dtype)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    check_torch_parity(fn, tfn(torch), xs, torch, **tol)


def test_lerp_scalar_weight_and_where_scalars(torch):
    s, e = rand((2, 3)), rand((3,))
    check_torch_parity(lambda s, e: ag.lerp(s, e, 0.3), lambda s, e: torch.lerp(s, e, 0.3), [s, e], torch)
    assert ag.gradgradcheck(lambda s, e: ag.lerp(s, e, 0.3), [s, e])
    cond = ag.tensor([True, False, True])
    assert_close(ag.where(cond, 1.0, 0.0), [1.0, 0.0, 1.0])
    assert ag.where(cond, 1.0, 0).dtype == np.float32
    x = rand((3,))
    assert_close(x.where(cond, -1.0), np.where(cond.numpy(), x.numpy(), -1.0))
    assert ag.gradcheck(lambda x: ag.where(cond, 2.0, x), [x])
    (rows,) = ag.where(ag.tensor([0, 3, 0, 1]))
    assert rows.tolist() == [1, 3] and rows.dtype == np.int64


# ---- clamp semantics ----------------------------------------------------------------------------
@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.2), (-0.2, None), (1, 2)])
def test_clamp_scalar_bounds_gradcheck(lo, hi, torch):
    x = rand((2, 3))
    assert ag.gradcheck(lambda x: x.clamp(lo, hi), [x])
    assert ag.gradgradcheck(lambda x: x.clamp(lo, hi) ** 2, [x])
    check_torch_parity(lambda x: x.clamp(lo, hi), lambda x: x.clamp(lo, hi), [x], torch)


def test_clamp_passes_gradient_at_the_bounds_inclusive():
    x = ag.tensor([-1.0, 1.0, 2.0, 0.0], requires_grad=True)
    (g,) = ag.grad(x.clamp(-1, 1).sum(), [x])
    assert g.tolist() == [1.0, 1.0, 0.0, 1.0]
    (g,) = ag.grad(ag.clip(x, max=0.0).sum() + x.clamp_min(2.0).sum(), [x])
    assert g.tolist() == [1.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "xv, lo, hi, expected",
    [
        (0.0, 0.0, 1.0, (1.0, 0.0, 0.0)),
        (2.0, 0.0, 1.0, (0.0, 0.0, 1.0)),
        (-1.0, 0.0, 1.0, (0.0, 1.0, 0.0)),
        (0.5, 1.0, 0.0, (0.0, 0.0, 1.0)),
        (-1.0, 0.0, 0.0, (0.0, 0.0, 0.0)),
        (0.0, 0.0, 0.0, (1.0, 0.0, 0.0)),
    ],
)
def test_clamp_tensor_bounds_gradients_follow_pytorch(xv, lo, hi, expected):
    ts = [ag.tensor(v, dtype=np.float64, requires_grad=True) for v in (xv, lo, hi)]
    grads = ag.grad(ag.clamp(*ts), ts, allow_unused=True)
    assert [float(g.item()) for g in grads] == list(expected)


def test_clamp_one_tensor_bound_and_mixed():
    x, b = rand((2, 3)), rand((3,))
    assert ag.gradcheck(lambda x, b: x.clamp(min=b), [x, b])
    assert ag.gradcheck(lambda x, b: x.clamp(max=b), [x, b])
    assert ag.gradcheck(lambda x, b: x.clamp(b - 2.0, 0.1), [x, b])
    assert_close(x.clamp(min=b), np.maximum(x.numpy(), b.numpy()))


def test_clamp_errors():
    with pytest.raises(ValueError, match="clamp"):
        rand((2,)).clamp()
    with pytest.raises(ShapeError):
        rand((2, 3)).clamp(rand((4,)), None)


# ---- error function -----------------------------------------------------------------------------
def test_erf_matches_math_erf_to_double_precision():
    x = np.concatenate([np.linspace(-8, 8, 4001), [0.0, 1e-300, 0.46875, 4.0, 26.0, 30.0]])
    np.testing.assert_allclose(erf_array(x), _erf(x), rtol=2e-15, atol=1e-300)
    np.testing.assert_allclose(erfc_array(x), _erfc(x), rtol=1e-14, atol=1e-300)
    assert erf_array(np.float32(0.5)).dtype == np.float32
    special = erf_array(np.array([np.inf, -np.inf, np.nan]))
    assert special[0] == 1.0 and special[1] == -1.0 and np.isnan(special[2])


def test_erfinv_inverts_erf_and_its_edges():
    p = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 1e-12, -1 + 1e-15, 1e-10]])
    np.testing.assert_allclose(erf_array(erfinv_array(p)), p, rtol=1e-13)
    edges = erfinv_array(np.array([1.0, -1.0, 1.5, 0.0]))
    assert edges[0] == np.inf and edges[1] == -np.inf and np.isnan(edges[2]) and edges[3] == 0.0


# ---- rounding and remainders ----------------------------------------------------------------------
def test_round_decimals_and_half_to_even():
    assert ag.tensor([0.5, 1.5, 2.5, -0.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0]
    assert_close(ag.tensor([1.2345, -2.5551], dtype=np.float64).round(decimals=2), [1.23, -2.56])


def test_remainder_and_floor_divide_follow_python_signs():
    a, b = [7, -7, 7, -7], [3, 3, -3, -3]
    ta, tb = ag.tensor(a), ag.tensor(b)
    assert (ta % tb).tolist() == [x % y for x, y in zip(a, b)]
    assert (ta // tb).tolist() == [x // y for x, y in zip(a, b)]
    assert ta.fmod(tb).tolist() == [int(math.fmod(x, y)) for x, y in zip(a, b)]
    assert ta.div(tb, rounding_mode="trunc").tolist() == [int(x / y) for x, y in zip(a, b)]
    assert (7 % ag.tensor([3, -3])).tolist() == [1, -2] and (7 // ag.tensor([2])).tolist() == [3]
    x = ag.tensor([5.5, -5.5], dtype=np.float64, requires_grad=True)
    d = ag.tensor([2.0, 2.0], dtype=np.float64, requires_grad=True)
    gx, gd = ag.grad((x % d).sum(), [x, d])
    assert gx.tolist() == [1.0, 1.0] and gd.tolist() == [-2.0, 3.0]
    gx, gd = ag.grad((x // d).sum() + x.div(d, rounding_mode="trunc").sum(), [x, d])
    assert gx.tolist() == [0.0, 0.0] and gd.tolist() == [0.0, 0.0]
    with pytest.raises(ZeroDivisionError, match="remainder"):
        ta % 0
    with pytest.raises(ValueError, match="rounding_mode"):
        ta.div(tb, rounding_mode="ceil")


def test_integer_rounding_is_identity_and_frac_needs_floats():
    t = ag.tensor([3, -2])
    for name in ("floor", "ceil", "round", "trunc"):
        out = getattr(t, name)()
        assert out.dtype == np.int64 and out.tolist() == [3, -2]
    with pytest.raises(DTypeError, match="frac"):
        t.frac()


# ---- classification, nan_to_num, logical and bitwise ---------------------------------------------
def test_atan2_gradient_is_zero_where_the_radius_squared_underflows(torch):
    a = ag.tensor([0.0, 0.0, 1e-200, 0.5], dtype=np.float64, requires_grad=True)
    b = ag.tensor([0.0, 1e-180, 0.0, 1.0], dtype=np.float64, requires_grad=True)
    ga, gb = ag.grad(ag.atan2(a, b).sum(), [a, b])
    assert ga.tolist()[:3] == [0.0, 0.0, 0.0] and gb.tolist()[:3] == [0.0, 0.0, 0.0]
    check_torch_parity(ag.atan2, torch.atan2, [a, b], torch)


def test_isnan_isinf_isfinite_and_nan_to_num():
    x = ag.tensor([np.nan, np.inf, -np.inf, 1.0], requires_grad=True)
    assert x.isnan().tolist() == [True, False, False, False] and not x.isnan().requires_grad
    assert x.isinf().tolist() == [False, True, True, False]
    assert ag.isfinite(x).tolist() == [False, False, False, True]
    assert ag.tensor([1, 2]).isnan().tolist() == [False, False]
    y = x.nan_to_num(nan=0.5, posinf=2.0)
    assert y.tolist() == [0.5, 2.0, float(np.finfo(np.float32).min), 1.0]
    (g,) = ag.grad(y.sum(), [x])
    assert g.tolist() == [0.0, 0.0, 0.0, 1.0] and g.dtype == np.float32


def test_logical_ops():
    a, b = ag.tensor([True, True, False, False]), ag.tensor([1.0, 0.0, 2.0, 0.0])
    assert a.logical_and(b).tolist() == [True, False, False, False]
    assert ag.logical_or(a, b).tolist() == [True, True, True, False]
    assert ag.logical_xor(a, b).tolist() == [False, True, True, False]
    assert ag.logical_not(b).tolist() == [False, True, False, True]
    assert a.logical_and(b).dtype == np.bool_


@pytest.mark.parametrize(
    "op, ref",
    [
        ("__and__", np.bitwise_and),
        ("__or__", np.bitwise_or),
        ("__xor__", np.bitwise_xor),
        ("__lshift__", np.left_shift),
        ("__rshift__", np.right_shift),
    ],
)
def test_bitwise_operators_on_integers(op, ref):
    a, b = np.array([12, 5, 0, 7]), np.array([10, 1, 3, 2])
    out = getattr(ag.tensor(a), op)(ag.tensor(b))
    assert out.tolist() == ref(a, b).tolist() and out.dtype == np.int64
    assert getattr(ag.tensor(a), op)(2).tolist() == ref(a, 2).tolist()
    rop = "__r" + op[2:]
    assert getattr(ag.tensor(b), rop)(3).tolist() == ref(3, b).tolist()


def test_bitwise_on_bools_and_invert():
    m, n = ag.tensor([True, False, True]), ag.tensor([True, True, False])
    assert (m & n).tolist() == [True, False, False] and (m & n).dtype == np.bool_
    assert (m | n).tolist() == [True, True, True] and (m ^ n).tolist() == [False, True, True]
    assert (~m).tolist() == [False, True, False] and (~ag.tensor([5])).tolist() == [-6]
    assert (True & m).tolist() == [True, False, True]


@pytest.mark.parametrize(
    "call", [lambda x: x & 1, lambda x: x | x, lambda x: ~x, lambda x: x << 1, lambda x: ag.bitwise_xor(1, x)]
)
def test_bitwise_on_floats_raises_clear_error(call):
    with pytest.raises(DTypeError, match=r"bitwise_\w+: only integer.*float32"):
        call(ag.tensor([1.0, 2.0]))


def test_shift_on_bool_and_shape_errors():
    with pytest.raises(DTypeError, match="bitwise_left_shift"):
        ag.tensor([True]) << ag.tensor([True])
    assert (ag.tensor([True]) << 1).tolist() == [2]  # a Python int promotes bool to int64
    with pytest.raises(ShapeError, match="bitwise_and"):
        ag.tensor([1, 2]) & ag.tensor([1, 2, 3])
    with pytest.raises(DTypeError, match="neg"):
        ag.tensor([True]).neg()
