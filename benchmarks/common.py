"""Helpers shared by the workload builders: optional PyTorch, twin models, step callables.

autograd_nn mirrors PyTorch's API, so each model is written once as `build(nn)` and built twice,
with `autograd_nn.nn` and with `torch.nn`. The autograd_nn model is built first (seeded); PyTorch's
copy gets its weights through `load_state_dict`, and the NumPy baselines read the same arrays. The
benchmarks therefore run with or without PyTorch installed.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import autograd_nn as an

try:
    import torch
except ImportError:  # rows still run, without the torch column
    torch = None

SEED = 0


def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def randn(*shape: int, scale: float = 1.0) -> np.ndarray:
    """A reproducible float32 array; each call with the same shape gives the same values."""
    return (rng().standard_normal(shape) * scale).astype(np.float32)


def labels(n: int, classes: int) -> np.ndarray:
    return rng().integers(0, classes, size=n).astype(np.int64)


def twin_models(build: Callable[[Any], Any]) -> tuple[Any, Any]:
    """(autograd_nn model, PyTorch model or None) with identical float32 weights."""
    an.manual_seed(SEED)
    ours = build(an.nn)
    if torch is None:
        return ours, None
    theirs = build(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy(), copy=True))
                            for k, v in ours.state_dict().items()})
    return ours, theirs


def weights(model: Any) -> dict[str, np.ndarray]:
    """Copies of an autograd_nn model's parameters by name (for the NumPy baselines)."""
    return {k: np.array(v.numpy(), copy=True) for k, v in model.state_dict().items()}


def ours_tensor(a: np.ndarray, requires_grad: bool = False) -> Any:
    return an.tensor(a, requires_grad=requires_grad)


def torch_tensor(a: np.ndarray, requires_grad: bool = False) -> Any:
    return torch.tensor(a, requires_grad=requires_grad)


def train_step(model: Any, loss_fn: Any, opt: Any, x: Any, y: Any) -> Callable[[], Any]:
    """One step of ordinary training code; the same source runs on both frameworks."""
    def step() -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def both_train_steps(build: Callable[[Any], Any], loss: str, x: np.ndarray, y: np.ndarray,
                     lr: float) -> tuple[Callable[[], Any], Callable[[], Any] | None, Any]:
    """Training-step callables for autograd_nn and PyTorch, and the autograd_nn model."""
    ours_model, torch_model = twin_models(build)
    ours = train_step(ours_model, getattr(an.nn, loss)(), an.optim.SGD(ours_model.parameters(), lr=lr),
                      ours_tensor(x), ours_tensor(y))
    theirs = None
    if torch_model is not None:
        theirs = train_step(torch_model, getattr(torch.nn, loss)(),
                            torch.optim.SGD(torch_model.parameters(), lr=lr),
                            torch_tensor(x), torch_tensor(y))
    return ours, theirs, ours_model


def forward_backward(model: Any, x: Any, g: Any, grad_of: Callable[[Any], Any],
                     first: Callable[[Any], Any] = lambda out: out) -> Callable[[], Any]:
    """Zero grads, forward, backward with the fixed output gradient `g`; returns `grad_of(model)`.

    `first` picks the tensor to differentiate from the module's output (e.g. LSTM's `out`).
    """
    def step() -> Any:
        model.zero_grad(set_to_none=True)
        if x.requires_grad:
            x.grad = None
        first(model(x)).backward(g)
        return grad_of(model)
    return step
