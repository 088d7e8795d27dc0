"""Learning-rate schedulers: lr sequences against PyTorch's, with optimizers, and state round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import optim
from autograd_nn.optim import lr_scheduler as sched
from autograd_nn.serialization import load, save

# Nested SequentialLR warns (as PyTorch's does) when building steps the inner schedulers.
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")

LRS = (0.1, 0.02)  # two param groups with different learning rates
N = 40


def _groups(ours: bool, torch=None):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    if ours:
        params = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    else:
        params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return [{"params": [p], "lr": lr} for p, lr in zip(params, LRS)]


def _make(lib, opt, name, kwargs):
    """Build scheduler `name` on `opt`; kwargs may hold ('sub', name, kwargs) for SequentialLR."""
    kwargs = dict(kwargs)
    if "schedulers" in kwargs:
        kwargs["schedulers"] = [_make(lib, opt, n, k) for n, k in kwargs["schedulers"]]
    return getattr(lib, name)(opt, **kwargs)


def _constant_then_half(epoch):
    return 1.0 if epoch < 5 else 0.5 ** (epoch - 4)


CASES = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.8, total_iters=12)),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("LambdaLR", dict(lr_lambda=_constant_then_half)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.1], total_steps=N)),
    (
        "OneCycleLR",
        dict(max_lr=0.3, total_steps=N, anneal_strategy="linear", three_phase=True, pct_start=0.25),
    ),
    (
        "SequentialLR",
        dict(
            schedulers=[
                ("LinearLR", dict(start_factor=0.01, total_iters=5)),
                ("CosineAnnealingLR", dict(T_max=30)),
            ],
            milestones=[5],
        ),
    ),
    (
        "SequentialLR",
        dict(
            schedulers=[
                ("ConstantLR", dict(factor=0.1, total_iters=3)),
                ("ExponentialLR", dict(gamma=0.9)),
                ("StepLR", dict(step_size=2)),
            ],
            milestones=[3, 10],
        ),
    ),
    (
        "SequentialLR",
        dict(
            schedulers=[  # nested: warmup + decay, then steps
                (
                    "SequentialLR",
                    dict(
                        schedulers=[
                            ("LinearLR", dict(start_factor=0.1, total_iters=3)),
                            ("ExponentialLR", dict(gamma=0.9)),
                        ],
                        milestones=[3],
                    ),
                ),
                ("StepLR", dict(step_size=2)),
            ],
            milestones=[8],
        ),
    ),
]


def _trace(opt, scheduler, steps=N):
    out = [scheduler.get_last_lr()]
    for _ in range(steps - 1):
        opt.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return out


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_lr_sequence_matches_torch(torch, name, kwargs, opt_name):
    opt = getattr(optim, opt_name)(_groups(True), lr=0.1, **({"momentum": 0.9} if opt_name == "SGD" else {}))
    topt = getattr(torch.optim, opt_name)(
        _groups(False, torch), lr=0.1, **({"momentum": 0.9} if opt_name == "SGD" else {})
    )
    ours = _trace(opt, _make(sched, opt, name, kwargs))
    theirs = _trace(topt, _make(torch.optim.lr_scheduler, topt, name, kwargs))
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-13, atol=0)
    for g, tg in zip(opt.param_groups, topt.param_groups):  # OneCycleLR also cycles momentum
        assert ("momentum" in g) == ("momentum" in tg)
        if "momentum" in g:
            assert g["momentum"] == pytest.approx(tg["momentum"], rel=1e-13)
        if "betas" in g:
            np.testing.assert_allclose(g["betas"], tg["betas"], rtol=1e-13)


@pytest.mark.parametrize(
    "opt_name,opt_kwargs,name,kwargs",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "StepLR", dict(step_size=3)),
        ("Adam", dict(lr=0.01, amsgrad=True), "CosineAnnealingLR", dict(T_max=6)),
        ("AdamW", dict(lr=0.01), "OneCycleLR", dict(max_lr=0.05, total_steps=12)),
        ("RMSprop", dict(lr=0.01, centered=True), "ExponentialLR", dict(gamma=0.8)),
        ("Adagrad", dict(lr=0.1), "MultiStepLR", dict(milestones=[2, 6])),
        (
            "SGD",
            dict(lr=0.1, momentum=0.5),
            "SequentialLR",
            dict(
                schedulers=[
                    ("LinearLR", dict(start_factor=0.2, total_iters=3)),
                    ("CosineAnnealingLR", dict(T_max=7)),
                ],
                milestones=[3],
            ),
        ),
    ],
)
def test_optimizer_with_scheduler_matches_torch(torch, opt_name, opt_kwargs, name, kwargs):
    groups, tgroups = _groups(True), _groups(False, torch)
    opt = getattr(optim, opt_name)(groups, **opt_kwargs)
    topt = getattr(torch.optim, opt_name)(tgroups, **opt_kwargs)
    s = _make(sched, opt, name, kwargs)
    ts = _make(torch.optim.lr_scheduler, topt, name, kwargs)
    rng = np.random.default_rng(0)
    for _ in range(10):
        for g, tg in zip(groups, tgroups):
            grad = rng.standard_normal(g["params"][0].shape)
            g["params"][0].grad = ag.as_tensor(grad)
            tg["params"][0].grad = torch.from_numpy(grad.copy())
        opt.step()
        topt.step()
        s.step()
        ts.step()
    for g, tg in zip(groups, tgroups):
        np.testing.assert_allclose(g["params"][0].numpy(), tg["params"][0].detach().numpy(), rtol=1e-11)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_state_dict_round_trip_through_a_file(name, kwargs, tmp_path):
    opt = optim.SGD(_groups(True), lr=0.1, momentum=0.9)
    s = _make(sched, opt, name, kwargs)
    straight = _trace(opt, s, N)

    opt = optim.SGD(_groups(True), lr=0.1, momentum=0.9)
    s = _make(sched, opt, name, kwargs)
    _trace(opt, s, 12)
    save({"opt": opt.state_dict(), "sched": s.state_dict()}, tmp_path / "ckpt")
    ckpt = load(tmp_path / "ckpt")
    opt2 = optim.SGD(_groups(True), lr=0.1, momentum=0.9)
    s2 = _make(sched, opt2, name, kwargs)  # build first, then load (as in PyTorch)
    opt2.load_state_dict(ckpt["opt"])
    s2.load_state_dict(ckpt["sched"])
    assert s2.get_last_lr() == straight[11]
    assert _trace(opt2, s2, N - 11)[1:] == straight[12:]


def test_reduce_lr_on_plateau_matches_torch(torch):
    metrics = [
        1.0,
        0.9,
        0.95,
        0.95,
        0.95,
        0.94,
        0.96,
        0.5,
        0.6,
        0.6,
        0.6,
        0.6,
        0.6,
        0.7,
        0.7,
        0.7,
        0.7,
        0.7,
        0.7,
        0.7,
        0.7,
        0.7,
    ]
    for kwargs in (
        dict(patience=2),
        dict(mode="max", factor=0.5, patience=1, cooldown=2),
        dict(patience=0, threshold=0.1, threshold_mode="abs", min_lr=[0.05, 0.001]),
    ):
        opt = optim.SGD(_groups(True), lr=0.1)
        topt = torch.optim.SGD(_groups(False, torch), lr=0.1)
        s = sched.ReduceLROnPlateau(opt, **kwargs)
        ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
        for m in metrics:
            s.step(m)
            ts.step(m)
            assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)
            assert s.num_bad_epochs == ts.num_bad_epochs


def test_reduce_lr_on_plateau_state_round_trip(tmp_path):
    opt = optim.SGD(_groups(True), lr=0.1)
    s = sched.ReduceLROnPlateau(opt, patience=1)
    for m in (1.0, 2.0, 2.0):
        s.step(m)
    save(s.state_dict(), tmp_path / "s")
    s2 = sched.ReduceLROnPlateau(optim.SGD(_groups(True), lr=0.1), patience=1)
    s2.load_state_dict(load(tmp_path / "s"))
    assert s2.best == 1.0 and s2.mode_worse == math.inf and s2.get_last_lr() == s.get_last_lr()


def test_closed_form_with_epoch_argument_matches_torch(torch):
    for name, kwargs in [
        ("StepLR", dict(step_size=3)),
        ("ExponentialLR", dict(gamma=0.7)),
        ("CosineAnnealingLR", dict(T_max=9)),
        ("MultiStepLR", dict(milestones=[2, 4])),
    ]:
        opt = optim.SGD(_groups(True), lr=0.1)
        topt = torch.optim.SGD(_groups(False, torch), lr=0.1)
        s, ts = _make(sched, opt, name, kwargs), _make(torch.optim.lr_scheduler, topt, name, kwargs)
        opt.step()
        topt.step()
        for epoch in (5, 2, 11):
            with pytest.warns(UserWarning, match="deprecated"):
                s.step(epoch)
            with pytest.warns(UserWarning):
                ts.step(epoch)
            assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)


def test_errors_and_warnings():
    opt = optim.SGD(_groups(True), lr=0.1)
    with pytest.raises(TypeError, match="not an Optimizer"):
        sched.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        sched.LambdaLR(opt, [lambda e: 1.0])
    s = sched.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    opt.step()
    s.step()
    s.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()
    other = optim.SGD(_groups(True), lr=0.1)
    with pytest.raises(ValueError, match="same optimizer"):
        sched.SequentialLR(opt, [sched.StepLR(other, 2), sched.StepLR(opt, 2)], milestones=[2])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.SequentialLR(opt, [sched.ReduceLROnPlateau(opt)], milestones=[])
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(optim.Adagrad(_groups(True)), max_lr=0.1, total_steps=5)
    fresh = optim.SGD(_groups(True), lr=0.1)
    s = sched.StepLR(fresh, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        s.step()


def test_lambda_lr_saves_callable_objects_state():
    class Halve:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor**epoch

    opt = optim.SGD(_groups(True), lr=0.1)
    fn = Halve()
    s = sched.LambdaLR(opt, [fn, lambda e: 1.0])
    fn.factor = 0.25
    state = s.state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.25}, None]
    fn2 = Halve()
    s2 = sched.LambdaLR(optim.SGD(_groups(True), lr=0.1), [fn2, lambda e: 1.0])
    s2.load_state_dict(state)
    assert fn2.factor == 0.25
