"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import dtypes
from .optimizer import Optimizer, _check, _check_lr, _effective_grad, _lerp_


def _scalar_dtype() -> type:
    """PyTorch keeps NAdam's running momentum product in a float32 tensor (float64 when the
    default dtype is float64); its rounding shows in the updates, so it is kept the same way."""
    return np.float64 if dtypes.get_default_dtype() == np.float64 else np.float32


class NAdam(Optimizer):
    """PyTorch's NAdam (Dozat, 2016). With `g` the gradient (negated when `maximize`), `t` the step
    count and the momentum schedule mu_t = beta1 (1 - 0.5 * 0.96**(t * momentum_decay))::

        g = g + weight_decay * p     (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        P_t = mu_1 ... mu_t          (the state's 'mu_product')
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr (1 - mu_t) / (1 - P_t) * g / denom - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / denom
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(eps >= 0.0, "epsilon value", eps)
        _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
        _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check(momentum_decay >= 0.0, "momentum_decay value", momentum_decay)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                momentum_decay=momentum_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                maximize=maximize,
            ),
        )

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        weight_decay = float(group["weight_decay"])
        decay = float(group["momentum_decay"])
        if "exp_avg" not in state:
            state["step"] = 0
            state["mu_product"] = _scalar_dtype()(1.0)
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = float(state["step"])
        bias_correction2 = 1.0 - beta2**step
        if weight_decay and group["decoupled_weight_decay"]:
            param *= 1.0 - lr * weight_decay
            weight_decay = 0.0
        d = _effective_grad(self, param, grad, weight_decay, group["maximize"])
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay)))
        state["mu_product"] = mu_product = state["mu_product"] * mu  # in its own (scalar) dtype
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        tmp, denom = self._scratch(param, 1), self._scratch(param, 2)
        _lerp_(exp_avg, d, 1.0 - beta1, tmp)
        exp_avg_sq *= beta2
        np.multiply(d, 1.0 - beta2, out=tmp)
        tmp *= d
        exp_avg_sq += tmp
        np.divide(exp_avg_sq, bias_correction2, out=denom)
        np.sqrt(denom, out=denom)
        denom += float(group["eps"])
        product = float(mu_product)
        np.multiply(d, -lr * (1.0 - mu) / (1.0 - product), out=tmp)
        tmp /= denom
        param += tmp
        np.multiply(exp_avg, (-lr * mu_next) / (1.0 - product * mu_next), out=tmp)
        tmp /= denom
        param += tmp

    def _cast_state(self, value: Any, param: Any, index: Any, name: str) -> Any:
        if name == "mu_product":  # a 0-d tensor in PyTorch's state dicts
            if hasattr(value, "detach") and hasattr(value, "numpy"):
                value = np.asarray(value.detach().numpy())
            return _scalar_dtype()(np.asarray(value).item())
        return super()._cast_state(value, param, index, name)
