"""Helpers shared by the workload builders: data, identical weights, per-library models and steps.

Nothing here imports autograd_nn or PyTorch at module level. Each library is timed in a worker
process of its own (`worker.py`) that loads only that library (`lib(impl)`): the NumPy worker runs
NumPy as NumPy ships, and the PyTorch worker never holds autograd_nn's kernels or thread pool.

A model is written once as `build(nn)` and built in each worker with that library's `nn`.
`fill_params` then overwrites every randomly initialised parameter with values drawn from a generator
seeded by the parameter's name (`param_values`), so both libraries, and the hand-written NumPy
baselines, start from the same float32 weights without ever seeing each other's objects.
"""

from __future__ import annotations

import importlib.util
import math
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

SEED = 0


def lib(impl: str) -> Any:
    """The library a worker times: autograd_nn for "ours", torch for "torch"."""
    if impl == "ours":
        import autograd_nn

        return autograd_nn
    if impl == "torch":
        import torch

        return torch
    raise ValueError(f"no library for implementation {impl!r}")


def have_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def randn(*shape: int, scale: float = 1.0) -> np.ndarray:
    """A reproducible float32 array; each call with the same shape gives the same values."""
    return (rng().standard_normal(shape) * scale).astype(np.float32)


def labels(n: int, classes: int) -> np.ndarray:
    return rng().integers(0, classes, size=n).astype(np.int64)


def param_values(name: str, shape: tuple) -> np.ndarray:
    """float32 U(-b, b) values for the parameter `name`, b = 1/sqrt(fan-in), seeded by the name."""
    fan_in = math.prod(shape[1:]) if len(shape) >= 2 else (shape[0] if shape else 1)
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    gen = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    return gen.uniform(-bound, bound, shape).astype(np.float32)


def to_numpy(t: Any) -> np.ndarray:
    """An autograd_nn or PyTorch tensor's values as a NumPy array."""
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy())


def fill_params(model: Any, impl: str) -> Any:
    """Give every randomly initialised parameter of `model` its `param_values`; returns the model.

    Parameters that start constant (norm scales 1, shifts 0) are the same in both libraries already.
    """
    L = lib(impl)
    with L.no_grad():
        for name, p in model.named_parameters():
            current = to_numpy(p)
            if current.size == 0 or (current.min() == current.max() and current.flat[0] in (0, 1)):
                continue
            p.copy_(L.from_numpy(param_values(name, current.shape)))
    return model


def build_model(impl: str, build: Callable[[Any], Any]) -> Any:
    """`build(nn)` with the library of `impl`, weights from `param_values`."""
    return fill_params(build(lib(impl).nn), impl)


def tensor(impl: str, a: np.ndarray, requires_grad: bool = False) -> Any:
    return lib(impl).tensor(a, requires_grad=requires_grad)


def train_step(model: Any, loss_fn: Any, opt: Any, x: Any, y: Any) -> Callable[[], Any]:
    """One step of ordinary training code; the same source runs on both frameworks."""

    def step() -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def sgd_step(
    impl: str, build: Callable[[Any], Any], loss: str, x: np.ndarray, y: np.ndarray, lr: float
) -> Callable[[], Any]:
    """A training-step callable (forward, loss, backward, SGD) for the library of `impl`."""
    L = lib(impl)
    model = build_model(impl, build)
    return train_step(
        model, getattr(L.nn, loss)(), L.optim.SGD(model.parameters(), lr=lr), tensor(impl, x), tensor(impl, y)
    )


def forward_backward(
    model: Any, x: Any, g: Any, grad_of: Callable[[Any], Any], first: Callable[[Any], Any] = lambda out: out
) -> Callable[[], Any]:
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


def per_library(
    make: Callable[[str], Callable[[], Any]], impls: tuple[str, ...] = ("ours", "torch")
) -> dict[str, Callable[[], Any]]:
    """{impl: factory} for `Workload.make`: each factory builds its callable in its own worker."""
    return {impl: partial(make, impl) for impl in impls}
