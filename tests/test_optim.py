"""Optimizers: PyTorch parity over 10 steps, param groups, zero_grad, state_dict round trips."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import optim
from autograd_nn.errors import ShapeError
from autograd_nn.serialization import load, save

SHAPES = [(3, 4), (5,), ()]
STEPS = 10


def _grads(dtype, steps=STEPS, seed=0):
    """A fixed sequence of gradients per step (some params get no gradient on some steps)."""
    rng = np.random.default_rng(seed)
    return [
        [
            None if (s == 3 and i == 1) else rng.standard_normal(shape).astype(dtype)
            for i, shape in enumerate(SHAPES)
        ]
        for s in range(steps)
    ]


def _init(dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def _run_ours(cls, kwargs, dtype, grads, params=None):
    params = params or [ag.tensor(a.copy(), requires_grad=True) for a in _init(dtype)]
    opt = cls(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else ag.as_tensor(g.copy())
        opt.step()
    return params, opt


def _run_torch(torch, name, kwargs, dtype, grads):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in _init(dtype)]
    opt = getattr(torch.optim, name)(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
    return params


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.05, eps=1e-6)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),  # beta1 < 0.5: lerp's other branch
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, maximize=True, eps=1e-4)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True, eps=1e-6)),
]


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_matches_torch(torch, name, kwargs, dtype, rtol):
    grads = _grads(dtype)
    ours, _ = _run_ours(getattr(optim, name), kwargs, dtype, grads)
    theirs = _run_torch(torch, name, kwargs, dtype, grads)
    for p, t in zip(ours, theirs):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_state_stays_in_param_dtype(name, kwargs):
    params, opt = _run_ours(getattr(optim, name), kwargs, np.float32, _grads(np.float32, 2))
    for p in params:
        assert p.dtype == np.float32
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32 and value.shape == p.shape, key


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] != "SGD" or "momentum" in c[1]])
def test_state_dict_round_trip_is_bit_identical(name, kwargs, tmp_path):
    """save -> fresh optimizer -> load -> continue equals an uninterrupted run, exactly."""
    cls = getattr(optim, name)
    grads = _grads(np.float32)
    straight, _ = _run_ours(cls, kwargs, np.float32, grads)

    first, opt = _run_ours(cls, kwargs, np.float32, grads[:4])
    path = tmp_path / "opt.ckpt"
    save({"params": [p.detach() for p in first], "optim": opt.state_dict(), "epoch": 4}, path)
    del first, opt
    ckpt = load(path)
    assert ckpt["epoch"] == 4
    resumed = [ag.tensor(p.numpy(), requires_grad=True) for p in ckpt["params"]]
    opt2 = cls(resumed, **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    for step in grads[4:]:
        for p, g in zip(resumed, step):
            p.grad = None if g is None else ag.as_tensor(g.copy())
        opt2.step()
    for a, b in zip(straight, resumed):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_layout_uses_indices_not_ids():
    a = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    b = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    c = ag.tensor(np.ones(1, np.float32), requires_grad=True)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    a.grad = ag.as_tensor(np.ones(3, np.float32))
    c.grad = ag.as_tensor(np.ones(1, np.float32))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sorted(sd["state"]) == [0, 2]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    assert isinstance(sd["state"][0]["exp_avg"], ag.Tensor)
    before = sd["state"][0]["exp_avg"].numpy().copy()
    opt.step()  # a snapshot: later steps do not change it
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), before)


def test_load_state_dict_errors_and_torch_state(torch):
    p = ag.tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})
    bad = {"state": {0: {"momentum_buffer": np.zeros(4)}}, "param_groups": [{"lr": 0.1, "params": [0]}]}
    with pytest.raises(ShapeError, match="momentum_buffer"):
        opt.load_state_dict(bad)
    # a torch optimizer's state dict loads too (tensors are converted, steps become ints)
    tp = torch.zeros(3, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1)
    tp.grad = torch.ones(3)
    topt.step()
    q = ag.tensor(np.zeros(3, np.float32), requires_grad=True)
    ours = optim.Adam([q], lr=0.1)
    ours.load_state_dict(topt.state_dict())
    assert ours.state[q]["step"] == 1 and ours.state[q]["exp_avg"].dtype == np.float32


def test_param_groups_with_different_lrs(torch):
    grads = _grads(np.float64)
    init = _init(np.float64)
    ours = [ag.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.SGD(
        [{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5, "momentum": 0.9}], lr=0.01, momentum=0.1
    )
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    topt = torch.optim.SGD(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5, "momentum": 0.9}], lr=0.01, momentum=0.1
    )
    for step in grads:
        for p, t, g in zip(ours, theirs, step):
            p.grad = None if g is None else ag.as_tensor(g.copy())
            t.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.1, 0.9]
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12)


def test_add_param_group_and_validation():
    a = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    b = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({a, b}, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="duplicate"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([a], betas=(0.9, 1.0))
    assert "Parameter Group 1" in repr(opt)


def test_named_parameters_are_accepted():
    a = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([("w", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]


def test_zero_grad_semantics():
    a = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    b = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    (a * 2.0).sum().backward()
    kept = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is kept and kept.dtype == np.float32
    np.testing.assert_array_equal(kept.numpy(), 0.0)
    assert b.grad is None
    (a * 3.0).sum().backward()  # accumulates into the zeroed buffer
    np.testing.assert_allclose(a.grad.numpy(), 3.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_params_without_grad_are_skipped_and_closure_runs_with_grad():
    a = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    b = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        assert ag.is_grad_enabled()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert float(loss) == pytest.approx(3.0)
    np.testing.assert_array_equal(b.numpy(), 1.0)
    assert b not in opt.state and opt.state[a]["step"] == 1
    assert np.all(a.numpy() < 1.0)


def test_step_outside_no_grad_does_not_record_and_rejects_bad_grad_shape():
    a = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([a], lr=0.5)
    a.grad = ag.as_tensor(np.ones(3, np.float32))
    opt.step()
    assert a.is_leaf and a.grad_fn is None
    np.testing.assert_allclose(a.numpy(), 0.5)
    a.grad = ag.as_tensor(np.ones(4, np.float32))
    with pytest.raises(ShapeError, match="gradient of shape"):
        opt.step()


def test_optimizer_follows_replaced_param_data():
    """Module.load_state_dict replaces p.numpy(); the optimizer must update the new array."""
    a = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([a], lr=1.0, momentum=0.9)
    a.grad = ag.as_tensor(np.ones(3, np.float32))
    opt.step()
    a.data = np.full(3, 10.0, np.float32)
    opt.step()
    np.testing.assert_allclose(a.numpy(), 10.0 - 1.9)


def test_trains_a_small_model():
    rng = np.random.default_rng(0)
    x = ag.as_tensor(rng.standard_normal((64, 3)).astype(np.float32))
    y = x @ ag.as_tensor(np.array([[1.0], [-2.0], [0.5]], np.float32)) + 0.3
    w = ag.tensor(np.zeros((3, 1), np.float32), requires_grad=True)
    b = ag.tensor(np.zeros(1, np.float32), requires_grad=True)
    opt = optim.AdamW([w, b], lr=0.05, weight_decay=0.0)
    for _ in range(300):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert float(loss) < 1e-3
    assert w.dtype == np.float32
