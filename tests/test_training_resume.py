"""`fit(state_path=..., resume=True)`: a job stopped after an epoch continues as if never stopped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.data import DataLoader, DistributedSampler, TensorDataset
from autograd_nn.nn import functional as F
from autograd_nn.training import EarlyStopping, fit


def _run(epochs: int, state: Path, resume: bool, sampler: bool) -> tuple[nn.Module, dict]:
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    data = TensorDataset(rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 2, 40))
    loader = (
        DataLoader(data, batch_size=8, sampler=DistributedSampler(data, 1, 0, seed=3))
        if sampler
        else DataLoader(data, batch_size=8, shuffle=True)
    )
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    stopper = EarlyStopping(monitor="loss", patience=50)
    history = fit(
        model,
        loader,
        F.cross_entropy,
        opt,
        epochs,
        scheduler=sched,
        progress=False,
        verbose=False,
        early_stopping=stopper,
        state_path=str(state),
        resume=resume,
    )
    return model, history.metrics


def test_resume_continues_exactly(tmp_path: Path) -> None:
    for sampler in (False, True):
        full, full_history = _run(4, tmp_path / f"full{sampler}.state", False, sampler)
        state = tmp_path / f"resumed{sampler}.state"
        _run(2, state, False, sampler)  # a job that stopped after epoch 2
        resumed, history = _run(4, state, True, sampler)  # the same command with resume=True
        for a, b in zip(full.parameters(), resumed.parameters()):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_allclose(history["loss"], full_history["loss"])
        assert len(history["loss"]) == 4


def test_resume_without_a_state_file_starts_fresh(tmp_path: Path) -> None:
    _, history = _run(1, tmp_path / "absent.state", True, False)
    assert len(history["loss"]) == 1 and (tmp_path / "absent.state").exists()
