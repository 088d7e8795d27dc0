"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad, _lerp_


class RMSprop(Optimizer):
    """PyTorch's RMSprop. With `g` the gradient (negated when `maximize`)::

    g = g + weight_decay * p
    v = alpha * v + (1 - alpha) * g * g
    avg = sqrt(v - mean_g**2) + eps, with mean_g = lerp(mean_g, g, 1 - alpha)  (centered)
    avg = sqrt(v) + eps                                                       (otherwise)
    b = momentum * b + g / avg;  p = p - lr * b                               (momentum > 0)
    p = p - lr * g / avg                                                      (otherwise)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(momentum >= 0.0, "momentum value", momentum)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check(alpha >= 0.0, "alpha value", alpha)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        momentum = float(group["momentum"])
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        d = _effective_grad(self, param, grad, float(group["weight_decay"]), group["maximize"])
        square_avg = state["square_avg"]
        avg = self._scratch(param, 1)
        square_avg *= alpha
        np.multiply(d, 1.0 - alpha, out=avg)
        avg *= d
        square_avg += avg
        if group["centered"]:
            grad_avg = state["grad_avg"]
            _lerp_(grad_avg, d, 1.0 - alpha, avg)
            np.multiply(grad_avg, grad_avg, out=avg)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += float(group["eps"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            np.divide(d, avg, out=avg)
            buf += avg
            np.multiply(buf, lr, out=avg)
        else:
            num = self._scratch(param, 2)
            np.multiply(d, lr, out=num)
            np.divide(num, avg, out=avg)
        param -= avg
