"""Where PyTorch requires a Tensor, a list (or array, or number) is a TypeError naming the function
and the argument; a float64 input to a float32 layer is a DTypeError (a RuntimeError, as PyTorch's
"mat1 and mat2 must have the same dtype") naming both dtypes; a wrong input shape is a ShapeError
from every layer. Checked for every F function and every layer of the bad-input catalogue."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn
import autograd_nn.nn.functional as F
from autograd_nn.functional.arguments import require_same_dtype, require_tensor
from tests.bad_input_catalogue import ANY_SHAPE_LAYERS, LAYERS, LOSSES

F_FUNCTIONS = sorted(n for n in dir(F) if not n.startswith("_") and inspect.isfunction(getattr(F, n)))


def _inputs(shape, dtype=None):
    if shape == "idx":
        return (ag.tensor([[0, 4], [1, 2]]),)
    shapes = shape if isinstance(shape, list) else [shape]
    return tuple(ag.randn(*s, dtype=dtype) for s in shapes)


def _build(name):
    layer = LAYERS[name][0]()
    if isinstance(layer, nn.Module):
        layer.eval()
    return layer


# ---- F.*: every Tensor argument refuses anything else --------------------------------------------
@pytest.mark.parametrize("name", F_FUNCTIONS)
def test_every_f_function_declares_its_tensor_arguments(name):
    assert getattr(getattr(F, name), "__tensor_args__", ()), (
        f"F.{name} is not decorated with @tensor_args: lists and arrays would slip through"
    )


@pytest.mark.parametrize("name", F_FUNCTIONS)
@pytest.mark.parametrize("bad", [[1.0, 2.0], np.ones(2, np.float32), 2.0], ids=["list", "ndarray", "float"])
def test_f_function_refuses_a_non_tensor_in_each_tensor_argument(name, bad):
    fn = getattr(F, name)
    params = list(inspect.signature(fn).parameters)
    for k, arg in enumerate(fn.__tensor_args__):
        index = params.index(arg)
        args = [ag.ones(2) if p in fn.__tensor_args__[:k] else 0 for p in params[:index]]
        with pytest.raises(TypeError) as err:
            fn(*args, bad)
        msg = str(err.value)
        kind = "numpy.ndarray" if isinstance(bad, np.ndarray) else type(bad).__name__
        assert f"{name}(): argument '{arg}' (position {index + 1}) must be Tensor, not {kind}" in msg, msg


def test_the_issue_examples_raise_type_error_like_pytorch():
    with pytest.raises(
        TypeError,
        match=r"Linear\(\): argument 'input' \(position 1\) must be "
        r"Tensor, not list",
    ):
        nn.Linear(4, 2)([[1.0, 2, 3, 4]])
    with pytest.raises(TypeError, match=r"relu\(\): argument 'input'"):
        F.relu([1.0, -1.0])
    with pytest.raises(TypeError, match=r"cross_entropy\(\): argument 'target' \(position 2\)"):
        F.cross_entropy(ag.randn(2, 3), [0, 1])
    with pytest.raises(TypeError, match=r"mse_loss\(\): argument 'target'"):
        nn.MSELoss()(ag.randn(2), [0.0, 1.0])


def test_optional_tensor_arguments_may_be_none():
    x, w = ag.randn(2, 3), ag.randn(4, 3)
    assert F.linear(x, w, None).shape == (2, 4)
    assert F.batch_norm(x, None, None, training=True).shape == (2, 3)
    with pytest.raises(TypeError, match="'bias'"):
        F.linear(x, w, [0.0] * 4)


def test_tensor_arguments_by_keyword_are_checked_too():
    with pytest.raises(TypeError, match=r"linear\(\): argument 'weight' \(position 2\)"):
        F.linear(ag.randn(2, 3), weight=[[1.0, 2.0, 3.0]])


# ---- layers: a list input is a TypeError ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_refuses_a_list_input(name):
    good = LAYERS[name][1]
    layer = _build(name)
    lists = [x.numpy().tolist() for x in _inputs(good)]
    with pytest.raises(TypeError) as err:
        layer(*lists)
    assert "must be Tensor, not list" in str(err.value), str(err.value)


@pytest.mark.parametrize("name", sorted(set(ANY_SHAPE_LAYERS) - {"nn.Identity"}))
def test_pointwise_layer_refuses_a_list_input(name):
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        ANY_SHAPE_LAYERS[name]()([1.0, -2.0])


def test_identity_passes_anything_through_as_pytorch():
    assert nn.Identity()([1.0, -2.0]) == [1.0, -2.0]


@pytest.mark.parametrize("name", sorted(n for n in LOSSES if n.startswith("nn.")))
def test_loss_module_refuses_list_targets(name):
    loss, x, t, _ = LOSSES[name]
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        loss(ag.tensor(x), t.tolist())


# ---- layers with parameters: one dtype -----------------------------------------------------------
def _float_layers():
    names = []
    for name in sorted(LAYERS):
        layer = LAYERS[name][0]()
        if isinstance(layer, nn.Module) and any(p.dtype == np.float32 for p in layer.parameters()):
            names.append(name)
    return names


@pytest.mark.parametrize("name", _float_layers())
@pytest.mark.parametrize("dtype", [ag.float64, ag.int64], ids=["float64", "int64"])
def test_layer_with_float32_parameters_refuses_another_input_dtype(name, dtype):
    good = LAYERS[name][1]
    layer = _build(name)
    inputs = tuple(x.to(dtype) for x in _inputs(good))
    with pytest.raises(RuntimeError) as err:
        layer(*inputs)
    assert isinstance(err.value, ag.DTypeError), type(err.value)
    msg = str(err.value)
    assert str(np.dtype(dtype)) in msg and "float32" in msg, msg


@pytest.mark.parametrize(
    "name", ["nn.Linear", "nn.Conv2d", "nn.LayerNorm", "nn.LSTM", "nn.BatchNorm2d", "nn.MultiheadAttention"]
)
def test_layer_converted_to_float64_takes_float64(name):
    good = LAYERS[name][1]
    layer = _build(name).double()
    out = layer(*_inputs(good, ag.float64))
    out = out[0] if isinstance(out, tuple) else out
    assert out.dtype == np.float64


def test_linear_mixed_dtypes_message_names_both(torch):
    """PyTorch: RuntimeError 'mat1 and mat2 must have the same dtype, but got Double and Float'."""
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.Linear(4, 2)(torch.ones(1, 4, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=r"linear\(\).*input float64, weight float32"):
        nn.Linear(4, 2)(ag.ones(1, 4, dtype=ag.float64))


def test_helpers_directly():
    t = ag.ones(2)
    assert require_tensor("op", "x", t) is t
    with pytest.raises(TypeError, match=r"op\(\): argument 'x' must be Tensor, not tuple"):
        require_tensor("op", "x", (1, 2))
    require_same_dtype("op", a=t, b=ag.zeros(3), c=None)
    with pytest.raises(ag.DTypeError, match="a float32, b float64"):
        require_same_dtype("op", a=t, b=ag.zeros(3, dtype=ag.float64))


# ---- one error type per kind of mistake: wrong input shape --------------------------------------
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_wrong_input_shape_is_a_shape_error(name):
    """Every layer raises ShapeError (a ValueError and a RuntimeError, as PyTorch's) for an input
    of the wrong shape: never a bare ValueError from one layer and ShapeError from another."""
    _, good, bad, *fragments = LAYERS[name]
    layer = _build(name)
    layer(*_inputs(good))
    if fragments and any(f.startswith("dim ") for f in fragments[0]):  # a dim out of range
        with pytest.raises(ag.OpIndexError):  # an IndexError, as PyTorch's
            layer(*_inputs(bad))
        return
    with pytest.raises(ag.ShapeError) as err:
        layer(*_inputs(bad))
    assert isinstance(err.value, ValueError) and isinstance(err.value, RuntimeError)
