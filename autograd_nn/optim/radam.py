"""RAdam: Adam whose adaptive step is switched on only once the variance estimate is reliable."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad, _lerp_


class RAdam(Optimizer):
    """PyTorch's RAdam (Liu et al., 2020). With `g` the gradient (negated when `maximize`), `t` the
    step count, rho_inf = 2 / (1 - beta2) - 1 and rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)::

        g = g + weight_decay * p     (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        p = p - lr * m_hat * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r_t   if rho_t > 5
        p = p - lr * m_hat                                              otherwise (plain momentum)

    with the rectification r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2)
    rho_t)).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
        _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                maximize=maximize,
                decoupled_weight_decay=decoupled_weight_decay,
            ),
        )

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = float(state["step"])
        if weight_decay and group["decoupled_weight_decay"]:
            param *= 1.0 - lr * weight_decay
            weight_decay = 0.0
        d = _effective_grad(self, param, grad, weight_decay, group["maximize"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        tmp, upd = self._scratch(param, 1), self._scratch(param, 2)
        _lerp_(exp_avg, d, 1.0 - beta1, tmp)
        exp_avg_sq *= beta2
        np.multiply(d, 1.0 - beta2, out=tmp)
        tmp *= d
        exp_avg_sq += tmp
        bias_correction1 = 1.0 - beta1**step
        bias_correction2 = 1.0 - beta2**step
        np.divide(exp_avg, bias_correction1, out=upd)  # bias-corrected first moment
        upd *= lr
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            np.sqrt(exp_avg_sq, out=tmp)
            tmp += float(group["eps"])
            np.divide(bias_correction2**0.5, tmp, out=tmp)  # adaptive learning rate
            upd *= tmp
            upd *= math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        param -= upd
