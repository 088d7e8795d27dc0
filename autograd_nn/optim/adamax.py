"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad, _lerp_


class Adamax(Optimizer):
    """PyTorch's Adamax (Kingma & Ba, 2015, section 7). With `g` the gradient (negated when
    `maximize`) and `t` the step count::

        g = g + weight_decay * p
        m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
        _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        super().__init__(
            params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize)
        )

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        beta1, beta2 = (float(b) for b in group["betas"])
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_inf"] = np.zeros_like(param)
        state["step"] += 1
        d = _effective_grad(self, param, grad, float(group["weight_decay"]), group["maximize"])
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        tmp = self._scratch(param, 1)
        _lerp_(exp_avg, d, 1.0 - beta1, tmp)
        exp_inf *= beta2
        np.abs(d, out=tmp)
        tmp += float(group["eps"])
        np.maximum(exp_inf, tmp, out=exp_inf)
        clr = float(group["lr"]) / (1.0 - beta1 ** state["step"])
        np.multiply(exp_avg, -clr, out=tmp)
        tmp /= exp_inf
        param += tmp
