"""Adadelta, Adamax, NAdam, RAdam and LBFGS against PyTorch (several steps, float64 tight and float32),
param groups, the closure form of step() for every optimizer, and state_dict round trips (our own
checkpoints, and PyTorch's state dicts loaded into ours)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import optim
from autograd_nn.serialization import load, save

SHAPES = [(3, 4), (5,), ()]
STEPS = 10


def _grads(dtype, steps=STEPS, seed=0):
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


def _groups(params, kwargs, grouped):
    if not grouped:
        return params
    return [
        {"params": params[:1]},
        {"params": params[1:], "lr": kwargs.get("lr", 1e-3) * 3, "weight_decay": 0.05},
    ]


def _run(lib, name, kwargs, dtype, grads, grouped=False):
    make = (
        (lambda a: ag.tensor(a.copy(), requires_grad=True))
        if lib is ag
        else (lambda a: lib.tensor(a.copy(), requires_grad=True))
    )
    wrap = ag.as_tensor if lib is ag else lib.from_numpy
    params = [make(a) for a in _init(dtype)]
    opt = getattr(lib.optim, name)(_groups(params, kwargs, grouped), **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else wrap(g.copy())
        opt.step()
    return params, opt


CASES = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True, weight_decay=0.05)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),  # rectified from step 4 on
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_new_optimizers_match_torch(torch, name, kwargs, dtype, rtol, grouped):
    grads = _grads(dtype)
    ours, opt = _run(ag, name, kwargs, dtype, grads, grouped)
    theirs, topt = _run(torch, name, kwargs, dtype, grads, grouped)
    for p, t in zip(ours, theirs):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=rtol, atol=rtol)
    for group, tgroup in zip(opt.param_groups, topt.param_groups):  # PyTorch's option names
        for key, value in group.items():
            if key != "params":
                assert tgroup[key] == value, key


@pytest.mark.parametrize("name,kwargs", CASES)
def test_state_dict_round_trip_is_bit_identical(name, kwargs, tmp_path):
    grads = _grads(np.float32)
    straight, _ = _run(ag, name, kwargs, np.float32, grads)
    first, opt = _run(ag, name, kwargs, np.float32, grads[:4])
    path = tmp_path / "opt.ckpt"
    save({"params": [p.detach() for p in first], "optim": opt.state_dict()}, path)
    ckpt = load(path)
    resumed = [ag.tensor(p.numpy(), requires_grad=True) for p in ckpt["params"]]
    opt2 = getattr(optim, name)(resumed, **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    for step in grads[4:]:
        for p, g in zip(resumed, step):
            p.grad = None if g is None else ag.tensor(g)
        opt2.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name,kwargs", CASES)
def test_torch_state_dict_loads_and_continues_like_torch(torch, name, kwargs):
    """PyTorch's own state dict (0-d step and mu_product tensors included) resumes our optimizer."""
    grads = _grads(np.float64)
    theirs, topt = _run(torch, name, kwargs, np.float64, grads[:5])
    ours = [ag.tensor(t.detach().numpy(), requires_grad=True) for t in theirs]
    opt = getattr(optim, name)(ours, **kwargs)
    opt.load_state_dict(topt.state_dict())
    for step in grads[5:]:
        for p, t, g in zip(ours, theirs, step):
            p.grad = None if g is None else ag.tensor(g)
            t.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)


# ---- the closure form, for every optimizer ---------------------------------------------------
ALL = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict()),
    ("Adamax", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05)),
    ("LBFGS", dict(lr=0.5, max_iter=4)),
]


@pytest.mark.parametrize("name,kwargs", ALL)
def test_step_with_closure_returns_its_loss_like_torch(torch, name, kwargs):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    w0 = rng.standard_normal((3, 1)) * 0.1
    results = {}
    for lib in (ag, torch):
        w = (ag.tensor if lib is ag else torch.tensor)(w0.copy(), requires_grad=True)
        xs, ys = (ag.tensor if lib is ag else torch.tensor)(x), (ag.tensor if lib is ag else torch.tensor)(y)
        opt = getattr(lib.optim, name)([w], **kwargs)
        calls = []

        def closure():
            opt.zero_grad()
            loss = ((xs @ w - ys) ** 2).mean()
            loss.backward()
            calls.append(1)
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(3)]
        results[lib.__name__] = (losses, w.detach().numpy().copy(), len(calls))
    ours, theirs = results["autograd_nn"], results["torch"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)
    assert ours[2] == theirs[2]


def test_closure_runs_with_grad_enabled_inside_no_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.NAdam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        assert ag.is_grad_enabled()
        loss = (w**2).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        assert float(opt.step(closure)) == pytest.approx(5.0)
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([w]).step()


# ---- L-BFGS --------------------------------------------------------------------------------
def _rosenbrock_run(lib, dtype, kwargs, steps):
    x0 = np.linspace(-1.2, 1.0, 4).astype(dtype)
    x = (ag.tensor if lib is ag else lib.tensor)(x0, requires_grad=True)
    opt = lib.optim.LBFGS([x], **kwargs)

    def closure():
        opt.zero_grad()
        f = ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()
        f.backward()
        return f

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        losses = [float(opt.step(closure)) for _ in range(steps)]
    state = opt.state[x]
    return x.detach().numpy().copy(), losses, state["func_evals"], state["n_iter"], opt


LBFGS_CASES = [
    (dict(max_iter=10), 1, 1e-12),
    (dict(line_search_fn="strong_wolfe", max_iter=10), 3, 1e-9),
    (dict(history_size=3, max_iter=10, line_search_fn="strong_wolfe"), 3, 1e-9),
    (dict(lr=0.1, max_iter=7, history_size=2), 3, 1e-12),
    (dict(line_search_fn="strong_wolfe"), 1, 1e-9),  # converges: tolerance_change / grad stops
    (dict(max_iter=30, max_eval=20, line_search_fn="strong_wolfe", tolerance_grad=1e-3), 2, 1e-9),
    (dict(tolerance_change=1e-2, max_iter=50), 1, 1e-9),
]


@pytest.mark.parametrize("kwargs,steps,atol", LBFGS_CASES)
def test_lbfgs_matches_torch_step_by_step(torch, kwargs, steps, atol):
    """Same iterations and closure calls, same iterate (to the rounding that BLAS dot products
    of a different library amplify on Rosenbrock's valley), same losses."""
    ours = _rosenbrock_run(ag, np.float64, kwargs, steps)
    theirs = _rosenbrock_run(torch, np.float64, kwargs, steps)
    assert ours[2:4] == theirs[2:4]
    np.testing.assert_allclose(ours[0], theirs[0], atol=atol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=max(atol, 1e-12))


@pytest.mark.parametrize("kwargs", [dict(max_iter=5), dict(max_iter=5, line_search_fn="strong_wolfe")])
def test_lbfgs_float32_matches_torch(torch, kwargs):
    ours = _rosenbrock_run(ag, np.float32, kwargs, 1)
    theirs = _rosenbrock_run(torch, np.float32, kwargs, 1)
    assert ours[0].dtype == np.float32
    assert ours[2:4] == theirs[2:4]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)


def test_lbfgs_state_dict_round_trip_and_torch_state(torch, tmp_path):
    kwargs = dict(history_size=3, max_iter=4, line_search_fn="strong_wolfe")
    straight = _rosenbrock_run(ag, np.float64, kwargs, 4)
    first = _rosenbrock_run(ag, np.float64, kwargs, 2)
    path = tmp_path / "lbfgs.ckpt"
    save({"x": ag.tensor(first[0]), "optim": first[4].state_dict()}, path)
    ckpt = load(path)
    x = ag.tensor(ckpt["x"].numpy(), requires_grad=True)
    opt = optim.LBFGS([x], **kwargs)
    opt.load_state_dict(ckpt["optim"])

    def closure():
        opt.zero_grad()
        f = ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()
        f.backward()
        return f

    for _ in range(2):
        opt.step(closure)
    np.testing.assert_array_equal(x.numpy(), straight[0])
    theirs = _rosenbrock_run(torch, np.float64, kwargs, 2)
    x2 = ag.tensor(theirs[0], requires_grad=True)
    opt2 = optim.LBFGS([x2], **kwargs)
    opt2.load_state_dict(theirs[4].state_dict())
    assert opt2.state[x2]["n_iter"] == theirs[3]
    assert isinstance(opt2.state[x2]["old_dirs"][0], np.ndarray)


def test_lbfgs_rejects_groups_and_unknown_line_search():
    a, b = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([a], line_search_fn="armijo")
