"""Adam (with the AMSGrad variant) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad, _lerp_


class Adam(Optimizer):
    """PyTorch's Adam. With `g` the gradient (negated when `maximize`) and `t` the step count::

        g = g + weight_decay * p            (L2; AdamW instead does p = p * (1 - lr * weight_decay))
        m = lerp(m, g, 1 - beta1)           (= beta1 * m + (1 - beta1) * g)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)               (amsgrad only; then v_max replaces v below)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The bias corrections are computed in Python floats, the buffers in the parameter's dtype.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
        _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        if weight_decay and group["decoupled_weight_decay"]:
            param *= 1.0 - lr * weight_decay
            weight_decay = 0.0
        d = _effective_grad(self, param, grad, weight_decay, group["maximize"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        tmp = self._scratch(param, 1)
        _lerp_(exp_avg, d, 1.0 - beta1, tmp)
        exp_avg_sq *= beta2
        np.multiply(d, 1.0 - beta2, out=tmp)
        tmp *= d
        exp_avg_sq += tmp

        bias_correction1 = 1.0 - beta1**step
        bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
        step_size = lr / bias_correction1
        if amsgrad:
            second = state.get("max_exp_avg_sq")
            if second is None:  # amsgrad switched on after the first steps
                second = state["max_exp_avg_sq"] = np.zeros_like(param)
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        np.sqrt(second, out=tmp)  # tmp = denominator
        tmp /= bias_correction2_sqrt
        tmp += float(group["eps"])
        num = self._scratch(param, 2)
        np.multiply(exp_avg, step_size, out=num)
        np.divide(num, tmp, out=tmp)
        param -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): `p *= 1 - lr * weight_decay` before
    the Adam step, instead of adding `weight_decay * p` to the gradient. Default weight_decay 1e-2.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )
