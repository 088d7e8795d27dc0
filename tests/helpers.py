"""Helpers shared by the op and layer tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import autograd_nn as ag

RNG = np.random.default_rng(1234)


def rand(
    shape: Sequence[int],
    dtype: Any = np.float64,
    low: float = -1.0,
    high: float = 1.0,
    requires_grad: bool = True,
) -> ag.Tensor:
    """A random tensor (float64 by default, for gradcheck)."""
    data = RNG.uniform(low, high, size=tuple(shape)).astype(dtype)
    return ag.tensor(data, requires_grad=requires_grad)


def positive(shape: Sequence[int], dtype: Any = np.float64, requires_grad: bool = True) -> ag.Tensor:
    return rand(shape, dtype, 0.5, 2.0, requires_grad)


def to_torch(x: Any, torch: Any, requires_grad: bool | None = None) -> Any:
    """A torch tensor with the same values (and requires_grad) as an autograd_nn tensor."""
    if not isinstance(x, ag.Tensor):
        return x
    t = torch.from_numpy(np.array(x.numpy(), copy=True))
    rg = x.requires_grad if requires_grad is None else requires_grad
    return t.requires_grad_(rg) if t.is_floating_point() else t


def assert_close(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    a = actual.numpy() if isinstance(actual, ag.Tensor) else actual
    e = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol)


def check_torch_parity(
    fn: Callable,
    torch_fn: Callable,
    inputs: Sequence[Any],
    torch: Any,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Forward values and gradients of `fn` equal PyTorch's `torch_fn` on the same inputs.

    Default tolerances follow the inputs' precision: float32 results may differ from PyTorch's by
    summation order (a few ulps, so ~1e-7 absolute near zero); float64 ones must agree to ~1e-12.
    """
    single = any(isinstance(x, ag.Tensor) and x.dtype == np.float32 for x in inputs)
    rtol = (1e-5 if single else 1e-6) if rtol is None else rtol
    atol = (1e-6 if single else 1e-8) if atol is None else atol
    tins = [to_torch(x, torch) for x in inputs]
    out = fn(*inputs)
    tout = torch_fn(*tins)
    assert_close(out, tout, rtol, atol)
    wrt = [x for x in inputs if isinstance(x, ag.Tensor) and x.requires_grad]
    if not wrt or not out.requires_grad:
        return
    g = RNG.standard_normal(out.shape).astype(out.dtype)
    grads = ag.grad(out, wrt, grad_outputs=ag.as_tensor(g), allow_unused=True)
    twrt = [t for x, t in zip(inputs, tins) if isinstance(x, ag.Tensor) and x.requires_grad]
    tgrads = torch.autograd.grad(tout, twrt, grad_outputs=torch.from_numpy(g), allow_unused=True)
    for mine, theirs in zip(grads, tgrads):
        if theirs is None:
            assert mine is None or np.allclose(mine.numpy(), 0)
        else:
            assert_close(mine, theirs, rtol, atol)
