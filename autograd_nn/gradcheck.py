"""Finite-difference gradient checks (float64), public so users can test their own ops.

`gradcheck(fn, inputs)` compares the engine's gradient of a random projection `sum(v * fn(*inputs))`
with central differences: element by element for small inputs, along random directions for large ones.
`gradgradcheck` does the same for the gradient itself (requires `create_graph` support).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._tensor import Tensor, as_tensor
from .autograd import grad as _grad
from .grad_mode import no_grad


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree."""


def _outputs(fn: Callable, inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _projection(outs: list[Tensor], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape) for o in outs]


def _scalar(fn: Callable, inputs: Sequence[Tensor], vs: list[np.ndarray]) -> float:
    outs = _outputs(fn, inputs)  # grad mode stays on: gradgradcheck's fn itself differentiates
    return float(sum(np.sum(o._data.astype(np.float64) * v) for o, v in zip(outs, vs)))


def gradcheck(
    fn: Callable,
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 64,
    n_directions: int = 8,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """True when the gradients of `fn` at `inputs` (float64 tensors) match central differences."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    for t in wrt:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: inputs must be float64 for finite differences, got {t.dtype}")
    outs = _outputs(fn, inputs)
    vs = _projection(outs, seed)
    total = sum(((o.astype(np.float64) * as_tensor(v)).sum() for o, v in zip(outs, vs)), as_tensor(0.0))
    if not total.requires_grad:
        analytic = [np.zeros(t.shape) for t in wrt]
    else:
        grads = _grad(total, wrt, allow_unused=True)
        analytic = [np.zeros(t.shape) if g is None else g._data for g, t in zip(grads, wrt)]
    rng = np.random.default_rng(seed + 1)
    for k, (t, g) in enumerate(zip(wrt, analytic)):
        data = t._data  # perturbed in place (any memory layout), restored after each probe
        if not data.flags.writeable:
            raise ValueError(f"gradcheck: input {k} is read-only; pass a copy")
        saved = data.copy()
        if data.size <= max_elements:
            directions: list[np.ndarray | None] = [None] * data.size
        else:
            directions = [rng.standard_normal(data.shape) for _ in range(n_directions)]
        for j, d in enumerate(directions):
            if d is None:
                step = np.zeros(data.shape)
                step[np.unravel_index(j, data.shape)] = eps
                expected = g.reshape(-1)[j]
            else:
                step = d * eps
                expected = float(np.sum(g * d))
            data += step
            plus = _scalar(fn, inputs, vs)
            np.copyto(data, saved - step)
            minus = _scalar(fn, inputs, vs)
            np.copyto(data, saved)
            numeric = (plus - minus) / (2 * eps)
            if not abs(numeric - expected) <= atol + rtol * abs(numeric):
                where = f"element {j}" if d is None else f"random direction {j}"
                msg = (
                    f"gradcheck: input {k} (shape {t.shape}), {where}: analytical {expected:.8g} "
                    f"vs numerical {numeric:.8g}"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(
    fn: Callable,
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    **kwargs: Any,
) -> bool:
    """gradcheck of the first derivative: checks the backward of the backward (`create_graph`)."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    wrt_index = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    with no_grad():
        outs = _outputs(fn, inputs)
    vs = _projection(outs, seed + 7)

    def first_derivative(*xs: Tensor) -> tuple:
        outs = _outputs(fn, xs)
        total = sum(((o * as_tensor(v)).sum() for o, v in zip(outs, vs)), as_tensor(0.0, dtype=np.float64))
        wrt = [xs[i] for i in wrt_index]
        grads = _grad(total, wrt, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, **kwargs)
