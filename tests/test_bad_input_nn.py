"""Bad input to every layer, loss, optimizer and scheduler (groups of bad_input_catalogue.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn
from tests.bad_input_catalogue import (
    ANY_SHAPE_LAYERS,
    LAYERS,
    LOSSES,
    OPTIMIZERS,
    SCHEDULER_BAD,
    SCHEDULERS,
    assert_clear,
)

X = np.array([[0.3, -0.7, 0.2], [0.9, -0.1, 0.5]], np.float32)


def _inputs(shape):
    if shape == "idx":
        return (ag.tensor([[0, 4], [1, 2]]),)
    shapes = shape if isinstance(shape, list) else [shape]
    return tuple(ag.randn(*s) for s in shapes)


def _first(out):
    """The main output of a layer that may also return a state (RNNs) or weights (attention)."""
    return out[0] if isinstance(out, tuple) else out


def _layer_name(name):
    return name.split(".")[-1]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_wrong_feature_count_names_layer_and_shape(name):
    build, good, bad, *fragments = LAYERS[name]
    layer = build()
    if isinstance(layer, nn.Module):
        layer.eval()
    layer(*_inputs(good))
    with pytest.raises(Exception) as err:
        layer(*_inputs(bad))
    assert_clear(err.value, name)
    bad_shape = bad[0] if isinstance(bad, list) and bad[0] != good[0] else bad
    bad_shape = bad[1] if isinstance(bad, list) and bad[0] == good[0] else bad_shape
    msg = str(err.value)
    for frag in fragments[0] if fragments else [str(tuple(bad_shape))]:
        assert frag in msg, f"{name}: {frag!r} not in {msg!r}"
    names = {_layer_name(name).lower(), type(layer).__name__.lower()}
    names |= {type(m).__name__.lower() for m in layer.modules()}
    assert any(n in msg.lower() for n in names) or isinstance(err.value, ag.AutogradError), (
        f"{name}: message does not name the layer: {msg!r}"
    )


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_takes_non_contiguous_input(name):
    build, good = LAYERS[name][:2]
    layer = build()
    if isinstance(layer, nn.Module):
        layer.eval()
    if good == "idx":
        return
    shapes = good if isinstance(good, list) else [good]
    ins = [
        ag.as_tensor(np.ascontiguousarray(np.random.randn(*s[::-1]).astype(np.float32).T)) for s in shapes
    ]  # transposed (Fortran-ordered) views
    ref = layer(*[ag.tensor(np.ascontiguousarray(t.numpy())) for t in ins])
    out = layer(*ins)
    ref, out = (ref[0], out[0]) if isinstance(ref, tuple) else (ref, out)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_empty_readonly_and_nonfinite_input(name):
    build, good = LAYERS[name][:2]
    layer = build()
    if isinstance(layer, nn.Module):
        layer.eval()
    shapes = good if isinstance(good, list) else [good]
    want = _first(layer(*_inputs(good))).shape
    for fill in (0.0, np.nan, np.inf):  # read-only arrays full of 0 / NaN / Inf: values, no error
        arrays = [np.full(s, fill, np.float32) for s in shapes]
        for a in arrays:
            a.flags.writeable = False
        with np.errstate(all="ignore"):
            assert _first(layer(*[ag.as_tensor(a) for a in arrays])).shape == want
    try:  # an empty leading dim: a result or a clear error, never a crash
        layer(*[ag.zeros(0, *s[1:]) for s in shapes])
    except Exception as err:
        assert_clear(err, name)


@pytest.mark.parametrize("name", sorted(ANY_SHAPE_LAYERS))
def test_any_shape_layer(name):
    layer = ANY_SHAPE_LAYERS[name]().eval()
    with np.errstate(all="ignore"):
        ref = layer(ag.tensor(X))
        if isinstance(layer, nn.Identity):  # passes anything through, as PyTorch's
            assert layer(X.tolist()) == X.tolist()
        else:  # a list where PyTorch requires a Tensor: TypeError
            with pytest.raises(TypeError, match="must be Tensor, not list"):
                layer(X.tolist())
        ro = X.copy()
        ro.flags.writeable = False
        np.testing.assert_allclose(layer(ag.as_tensor(ro)).numpy(), ref.numpy())
        assert layer(ag.zeros(0, 3)).shape == (0, 3)
        assert layer(ag.tensor([np.nan, np.inf, -np.inf])).shape == (3,)
    try:
        out = layer("abc")
    except Exception as err:
        assert_clear(err, name)
    else:
        assert out == "abc", f"{name} turned a string into {out!r}"  # Identity passes it through


# ---- losses ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_mismatched_target_names_shapes(name):
    loss, x, t, bad_t = LOSSES[name]
    assert loss(ag.tensor(x), ag.tensor(t)).shape == ()
    with pytest.raises(Exception) as err, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's "target shape differs" warning comes first
        loss(ag.tensor(x), ag.tensor(bad_t))
    assert_clear(err.value, name, str(bad_t.shape))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_bad_reduction(name):
    loss, x, t, _ = LOSSES[name]
    assert loss(ag.tensor(x), ag.tensor(t), reduction="none").ndim >= 1
    with pytest.raises(ValueError) as err:
        loss(ag.tensor(x), ag.tensor(t), reduction="average")
    assert_clear(err.value, name, "average")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_takes_lists_and_empty_batches(name):
    loss, x, t, _ = LOSSES[name]
    try:
        out = loss(x.tolist(), t.tolist())
    except Exception as err:
        assert_clear(err, name)
    else:
        np.testing.assert_allclose(out.numpy(), loss(ag.tensor(x), ag.tensor(t)).numpy(), rtol=1e-6)
    with np.errstate(all="ignore"):
        try:
            out = loss(ag.tensor(x[:0]), ag.tensor(t[:0]), reduction="sum")
        except Exception as err:
            assert_clear(err, name)
        else:
            assert float(out.item()) == 0.0


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_int_input_with_grad_fails_clearly(name):
    loss, x, t, _ = LOSSES[name]
    with pytest.raises(ag.DTypeError):
        loss(ag.tensor(x.astype(np.int64), requires_grad=True), ag.tensor(t))


# ---- optimizers ------------------------------------------------------------------------------
def _params():
    p = nn.Parameter(ag.ones(2))
    p.grad = ag.ones(2)
    return [p]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize(
    "params, exc, fragment",
    [
        (5, TypeError, "int"),
        (None, TypeError, "NoneType"),
        ([], ValueError, "empty"),
        (["w"], TypeError, "str"),
        ([ag.ones(2, dtype=ag.int64)], TypeError, "int64"),
        (ag.ones(2), TypeError, "Tensor"),
        ({"params": []}, TypeError, ""),
    ],
)
def test_optimizer_bad_params(name, params, exc, fragment):
    with pytest.raises(exc) as err:
        OPTIMIZERS[name](params)
    assert_clear(err.value, name, fragment)


@pytest.mark.parametrize("name", sorted(set(OPTIMIZERS) - {"optim.Optimizer"}))
@pytest.mark.parametrize("lr", [-0.1, "0.1", float("nan")])
def test_optimizer_bad_lr(name, lr):
    with pytest.raises((ValueError, TypeError)) as err:
        OPTIMIZERS[name](_params(), lr=lr)
    assert_clear(err.value, name, "learning rate")


@pytest.mark.parametrize("name", sorted(set(OPTIMIZERS) - {"optim.Optimizer"}))
def test_optimizer_step_with_nonfinite_or_mismatched_grad(name):
    opt = OPTIMIZERS[name](_params())
    p = opt.param_groups[0]["params"][0]
    p.grad = ag.full((2,), float("nan"))
    with np.errstate(all="ignore"):
        opt.step()  # NaN gradients give NaN weights, as in PyTorch: no error
    p.grad = ag.ones(3)
    with pytest.raises(ValueError) as err:
        opt.step()
    assert_clear(err.value, name, "(3,)")


# ---- schedulers ------------------------------------------------------------------------------
def _opt():
    return ag.optim.SGD(_params(), lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_needs_an_optimizer(name):
    SCHEDULERS[name](_opt())
    with pytest.raises(TypeError) as err:
        SCHEDULERS[name]("sgd")
    assert_clear(err.value, name, "str")


@pytest.mark.parametrize(
    "name, what, build", [(n, w, b) for n, cases in SCHEDULER_BAD.items() for w, b in cases]
)
def test_scheduler_bad_arguments(name, what, build):
    with pytest.raises((ValueError, TypeError)) as err:
        build(_opt())
    assert_clear(err.value, name)
