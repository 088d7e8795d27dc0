"""Adadelta: a per-parameter step size from running averages of squared gradients and updates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad


class Adadelta(Optimizer):
    """PyTorch's Adadelta (Zeiler, 2012). With `g` the gradient (negated when `maximize`)::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta

    `v` is the state's 'square_avg', `u` its 'acc_delta'; lr defaults to 1 (the paper has none).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(0.0 <= rho <= 1.0, "rho value", rho)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        rho, eps = float(group["rho"]), float(group["eps"])
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        d = _effective_grad(self, param, grad, float(group["weight_decay"]), group["maximize"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        tmp, delta = self._scratch(param, 1), self._scratch(param, 2)
        square_avg *= rho
        np.multiply(d, 1.0 - rho, out=tmp)
        tmp *= d
        square_avg += tmp
        np.add(square_avg, eps, out=tmp)
        np.sqrt(tmp, out=tmp)  # std
        np.add(acc_delta, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= tmp
        delta *= d
        acc_delta *= rho
        np.multiply(delta, 1.0 - rho, out=tmp)
        tmp *= delta
        acc_delta += tmp
        delta *= -float(group["lr"])
        param += delta
