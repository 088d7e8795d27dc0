"""dtype rules of the pointwise ops, following PyTorch: Python scalars never widen a float tensor, an
int tensor meets a float scalar as the default float, tensor pairs promote, comparisons give bool,
integer tensors stay integer where PyTorch keeps them, and every gradient has its input's dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.errors import DTypeError

f32, f64 = np.dtype(np.float32), np.dtype(np.float64)

FLOAT_UNARY = [
    "exp",
    "exp2",
    "expm1",
    "log1p",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "sin",
    "cos",
    "tan",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "erf",
    "erfc",
    "sigmoid",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "logsigmoid",
    "hardtanh",
    "relu6",
    "hardsigmoid",
    "hardswish",
    "abs",
    "neg",
    "square",
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
    "frac",
    "nan_to_num",
    "clamp_min",
]
BINARY = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "atan2",
    "maximum",
    "minimum",
    "remainder",
    "fmod",
    "floor_divide",
]
INT_KEPT = ["abs", "neg", "sign", "relu", "square", "floor", "ceil", "round", "trunc", "nan_to_num"]
INT_TO_FLOAT = [
    "exp",
    "log1p",
    "sqrt",
    "sin",
    "tanh",
    "erf",
    "sigmoid",
    "gelu",
    "silu",
    "softplus",
    "reciprocal",
    "hardswish",
]


def _call(name, x):
    return getattr(ag, name)(x, 0.1) if name == "clamp_min" else getattr(ag, name)(x)


def _positive(shape, dtype):
    return ag.tensor(
        np.linspace(0.3, 1.7, int(np.prod(shape))).reshape(shape).astype(dtype), requires_grad=True
    )


@pytest.mark.parametrize("dtype", [f32, f64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", FLOAT_UNARY)
def test_unary_keeps_float_dtype_in_value_and_gradient(name, dtype):
    x = _positive((2, 3), dtype)
    out = _call(name, x)
    (g,) = ag.grad(out.sum(), [x])
    assert out.dtype == dtype and g.dtype == dtype


@pytest.mark.parametrize("name", BINARY)
def test_binary_mixed_float_tensors_promote_and_grads_keep_input_dtypes(name):
    a, b = _positive((2, 3), f32), _positive((3,), f64)
    out = getattr(ag, name)(a, b)
    assert out.dtype == f64
    if name == "floor_divide":
        return
    ga, gb = ag.grad(out.sum(), [a, b])
    assert ga.dtype == f32 and gb.dtype == f64


@pytest.mark.parametrize("name", BINARY)
def test_binary_with_python_scalars_keeps_float32(name):
    x = _positive((3,), f32)
    for scalar in (2, 2.5):
        assert getattr(ag, name)(x, scalar).dtype == f32
        assert getattr(ag, name)(scalar, x).dtype == f32


def test_arithmetic_operator_rules():
    x = ag.tensor([1.0, 2.0])
    i = ag.tensor([1, 2])
    assert (x * 2).dtype == f32 and (x + 2.5).dtype == f32 and (2.5 * x).dtype == f32
    assert (i * 2.5).dtype == f32 and (2.5 - i).dtype == f32
    assert (i * 2).dtype == np.int64 and (i % 2).dtype == np.int64 and (i // 2).dtype == np.int64
    assert (i + x).dtype == f32 and (x + i).dtype == f32
    assert (x + ag.tensor([1.0], dtype=f64)).dtype == f64
    assert (ag.tensor([1], dtype=np.int32) + ag.tensor([1], dtype=np.int64)).dtype == np.int64
    assert (i / 2).dtype == f32
    assert (x % 1.5).dtype == f32 and (x // 2).dtype == f32


def test_comparisons_and_classification_give_bool():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for out in (x > 1, x <= 1.5, x == x, x != 2, x.isnan(), x.isfinite(), ag.logical_and(x, x)):
        assert out.dtype == np.bool_ and not out.requires_grad


@pytest.mark.parametrize("name", INT_KEPT)
def test_integer_tensors_stay_integer(name):
    for dtype in (np.int32, np.int64):
        out = getattr(ag, name)(ag.tensor([-3, 0, 4], dtype=dtype))
        assert out.dtype == dtype, (name, dtype)


def test_integer_clamp_maximum_where_and_remainders_stay_integer():
    i = ag.tensor([-3, 0, 4], dtype=np.int32)
    assert i.clamp(-1, 2).dtype == np.int32 and i.clamp(-1, 2).tolist() == [-1, 0, 2]
    assert i.clamp(0.5).dtype == f32  # a float bound makes it float, as in PyTorch
    assert ag.maximum(i, 1).dtype == np.int32 and ag.minimum(2, i).dtype == np.int32
    assert ag.where(i > 0, i, 0).dtype == np.int32
    assert ag.where(i > 0, i, 0.5).dtype == f32
    assert ag.remainder(i, 3).dtype == np.int32 and ag.fmod(i, 3).dtype == np.int32


@pytest.mark.parametrize("name", INT_TO_FLOAT)
def test_float_only_functions_turn_integers_into_the_default_float(name):
    assert getattr(ag, name)(ag.tensor([1, 2, 3])).dtype == f32
    ag.set_default_dtype(np.float64)
    try:
        assert getattr(ag, name)(ag.tensor([1, 2, 3])).dtype == f64
    finally:
        ag.set_default_dtype(np.float32)


def test_ternary_gradients_keep_each_input_dtype():
    a, b, w = _positive((3,), f32), _positive((3,), f64), _positive((3,), f32)
    ga, gb, gw = ag.grad(ag.lerp(a, b, w).sum(), [a, b, w])
    assert (ga.dtype, gb.dtype, gw.dtype) == (f32, f64, f32)
    ga, gb = ag.grad(ag.where(a > 1.0, a, b).sum(), [a, b])
    assert (ga.dtype, gb.dtype) == (f32, f64)
    lo = ag.tensor([0.5, 0.5, 0.5], dtype=f64, requires_grad=True)
    gx, glo = ag.grad(a.clamp(min=lo).sum(), [a, lo])
    assert (gx.dtype, glo.dtype) == (f32, f64)


def test_float16_stays_float16():
    h = ag.tensor([0.5, 1.0], dtype=np.float16)
    for name in ("exp", "sigmoid", "tanh", "gelu", "erf", "softplus", "silu"):
        assert getattr(ag, name)(h).dtype == np.float16, name


@pytest.mark.parametrize("dtype", [f32, f64, np.float16], ids=str)
def test_bitwise_on_floats_raises_a_clear_error(dtype):
    x = ag.tensor([1.0, 2.0], dtype=dtype)
    for call, op in (
        (lambda: x & x, "bitwise_and"),
        (lambda: x | 1, "bitwise_or"),
        (lambda: ~x, "bitwise_not"),
        (lambda: x >> 1, "bitwise_right_shift"),
        (lambda: ag.tensor([1, 2]) ^ x, "bitwise_xor"),
    ):
        with pytest.raises(DTypeError, match=f"{op}: only integer.*{np.dtype(dtype)}"):
            call()


def test_bitwise_keeps_integer_and_bool_dtypes():
    assert (ag.tensor([1, 2], dtype=np.int32) & 3).dtype == np.int32
    assert (ag.tensor([1], dtype=np.uint8) >> 1).dtype == np.uint8
    assert (ag.tensor([True]) | ag.tensor([False])).dtype == np.bool_
    assert (ag.tensor([True]) & 1).dtype == np.int64
