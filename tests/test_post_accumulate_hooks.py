"""Post-accumulate-grad hooks and `queue_callback`: what DistributedDataParallel builds on.

A leaf's post-accumulate hook must see its *complete* gradient, run once per backward pass, and run
as soon as the last op using the leaf has run (not at the end of the pass), so work started in it
overlaps the rest of the backward.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import autograd, nn
from autograd_nn.errors import GraphError


def test_hook_sees_the_complete_gradient_once_per_backward() -> None:
    w = ag.randn(3, requires_grad=True, dtype=ag.float64)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    x = ag.randn(4, 3, dtype=ag.float64)
    h = x
    for _ in range(5):  # w is used by five ops, at different depths of the graph
        h = (h * w).tanh()
    loss = h.sum() + (w * w).sum()
    loss.backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], w.grad.numpy())
    ref = ag.autograd.grad(_rebuild(x, w), w)[0]
    np.testing.assert_allclose(seen[0], ref.numpy(), rtol=1e-12)


def _rebuild(x: ag.Tensor, w: ag.Tensor) -> ag.Tensor:
    h = x
    for _ in range(5):
        h = (h * w).tanh()
    return h.sum() + (w * w).sum()


def test_hook_runs_before_ops_further_down_the_graph() -> None:
    """The last layer's weight is finished while the first layer's backward has not yet run."""
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    events: list[str] = []
    model[2].weight.register_post_accumulate_grad_hook(lambda t: events.append("last layer ready"))
    model[0].weight.register_post_accumulate_grad_hook(lambda t: events.append("first layer ready"))
    x = ag.randn(5, 4)
    hidden = model[1](model[0](x))
    hidden.register_hook(lambda g: events.append("backward reached the hidden layer"))
    model[2](hidden).sum().backward()
    assert events == ["last layer ready", "backward reached the hidden layer", "first layer ready"]


def test_accumulation_across_backward_calls_and_removal() -> None:
    w = ag.ones(2, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 3).sum().backward()
    (w * 4).sum().backward()
    np.testing.assert_allclose(seen, [[3, 3], [7, 7]])
    live = autograd._live_post_hooks[0]
    handle.remove()
    handle.remove()  # a second remove is harmless
    assert autograd._live_post_hooks[0] == live - 1
    (w * 1).sum().backward()
    assert len(seen) == 2


def test_not_run_by_autograd_grad_and_run_under_create_graph() -> None:
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t))
    ag.autograd.grad((w**3).sum(), w)  # returns gradients, writes no .grad: no hook
    assert seen == []
    (w**3).sum().backward(create_graph=True)
    assert len(seen) == 1 and seen[0] is w
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 12.0])


def test_unused_leaf_gets_no_call_and_tensor_hooks_run_first() -> None:
    a = ag.tensor([1.0], requires_grad=True)
    unused = ag.tensor([1.0], requires_grad=True)
    calls = []
    a.register_hook(lambda g: g * 10)  # a gradient hook replaces the gradient before it is stored
    a.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.numpy().copy()))
    unused.register_post_accumulate_grad_hook(lambda t: calls.append("unused"))
    (a * 2).sum().backward()
    np.testing.assert_allclose(calls, [[20.0]])


def test_registration_errors() -> None:
    with pytest.raises(ValueError, match="not requiring grad"):
        ag.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    w = ag.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="not a leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_queue_callback_runs_after_every_grad_is_written() -> None:
    w1, w2 = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    seen = []

    def hook(t: ag.Tensor) -> None:
        if not seen:
            autograd.queue_callback(lambda: seen.append((w1.grad is not None, w2.grad is not None)))
        seen.append("hook")

    w2.register_post_accumulate_grad_hook(hook)
    (w1 * (w2 * 2).exp()).sum().backward()
    assert seen == ["hook", (True, True)]
    with pytest.raises(GraphError, match="no backward pass is running"):
        autograd.queue_callback(lambda: None)


def test_a_failing_pass_drops_its_callbacks() -> None:
    w = ag.ones(2, requires_grad=True)
    ran = []

    def hook(t: ag.Tensor) -> None:
        autograd.queue_callback(lambda: ran.append(True))
        raise RuntimeError("boom")

    w.register_post_accumulate_grad_hook(hook)
    with pytest.raises(RuntimeError, match="boom"):
        (w * 2).sum().backward()
    assert ran == []
    with pytest.raises(GraphError):  # the stack of running passes was unwound
        autograd.queue_callback(lambda: None)
