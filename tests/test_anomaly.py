"""Anomaly mode: the first op making NaN/Inf is named, with the line of user code that created it."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from autograd_nn.errors import AutogradError
from autograd_nn.grad_mode import _state
from autograd_nn.profiler import profile
from autograd_nn.scopes import scope


def here() -> int:
    """The line number of the caller's next line."""
    return inspect.currentframe().f_back.f_lineno + 1


def test_log_of_zero_is_caught_in_forward_with_the_source_line():
    x = ag.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        y = x * 2.0
        line = here()
        z = y.log()  # noqa: F841
    err = info.value
    assert isinstance(err, RuntimeError) and isinstance(err, AutogradError)
    assert err.op == "Log" and err.phase == "forward"
    assert err.location.lineno == line and err.location.filename == __file__
    message = str(err)
    assert "Log produced non-finite values in its forward output (1 -inf of 3 elements)" in message
    assert f"test_anomaly.py:{line} in test_log_of_zero" in message
    assert "z = y.log()" in message
    assert _state.instrument is None


def test_sqrt_at_zero_is_caught_in_backward():
    x = ag.tensor([0.0, 1.0, 4.0], requires_grad=True)
    with detect_anomaly():
        line = here()
        y = x.sqrt() if hasattr(x, "sqrt") else x**0.5
        loss = y.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    err = info.value
    assert err.op == y.grad_fn.name and err.phase == "backward"
    message = str(err)
    assert f"{y.grad_fn.name} produced non-finite values in backward" in message
    assert "gradient for its input 0 (1 inf of 3 elements)" in message
    assert "the incoming gradient was finite" in message
    assert f"test_anomaly.py:{line}" in message


def test_backward_with_create_graph_is_checked_too():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        line = here()
        loss = (x**0.5).sum()
        with pytest.raises(AnomalyError, match="PowScalar produced non-finite values in backward") as info:
            ag.grad(loss, x, create_graph=True)
    assert info.value.phase == "backward" and info.value.location.lineno == line


def test_nan_already_in_the_inputs_is_not_blamed_on_later_ops():
    x = ag.tensor([np.nan, 1.0], requires_grad=True)
    with detect_anomaly():
        y = (x * 2.0 + 1.0).exp()
    assert np.isnan(y.numpy()[0])


def test_nothing_is_checked_outside_anomaly_mode():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = x.log()
    assert np.isneginf(y.numpy()[0]) and not is_anomaly_enabled()


def test_check_nan_false_and_decorator():
    x = ag.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert not is_anomaly_enabled()
        assert np.isneginf(x.log().numpy()[0])

    @detect_anomaly()
    def bad(t):
        assert is_anomaly_enabled()
        return t.log()

    with pytest.raises(AnomalyError, match="Log"):
        bad(x)
    assert not is_anomaly_enabled()


def test_the_module_scope_is_named():
    x = ag.tensor([0.0], requires_grad=True)
    expected = r"inside module encoder\.layers\.3 \(EncoderLayer\)"
    with (
        detect_anomaly(),
        scope("encoder.layers.3", "EncoderLayer"),
        pytest.raises(AnomalyError, match=expected),
    ):
        x.log()


def test_nested_with_the_profiler():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with profile() as prof, detect_anomaly():
        assert is_anomaly_enabled()
        y = (x + 1.0).exp()
        with pytest.raises(AnomalyError, match="Log"):
            (x * 0.0).log()
    assert "Exp" in {s.name for s in prof.key_averages()} and len(prof.key_averages()) >= 3
    assert prof.node_time(y.grad_fn) is not None
    assert _state.instrument is None


def test_instruments_exited_out_of_order_leave_a_consistent_chain():
    x = ag.tensor([1.0], requires_grad=True)
    prof, anomaly = profile(), detect_anomaly()
    prof.__enter__()
    anomaly.__enter__()
    prof.__exit__(None, None, None)  # out of order: anomaly stays installed, without prof
    x.exp()
    assert is_anomaly_enabled() and prof.key_averages() == []
    anomaly.__exit__(None, None, None)
    assert _state.instrument is None
