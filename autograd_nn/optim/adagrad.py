"""Adagrad: per-element learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad


class Adagrad(Optimizer):
    """PyTorch's Adagrad. With `g` the gradient (negated when `maximize`) and `t` the step count::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    `sum` starts at `initial_accumulator_value`; like PyTorch, the state is created when the
    optimizer is built, so `state_dict()` has it before the first step.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(lr_decay >= 0.0, "lr_decay value", lr_decay)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        _check(initial_accumulator_value >= 0.0, "initial_accumulator_value value", initial_accumulator_value)
        _check(eps >= 0.0, "epsilon value", eps)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_group_state(self, group: dict[str, Any]) -> None:
        init = float(group["initial_accumulator_value"])
        for p in group["params"]:
            self.state[p] = {"step": 0, "sum": np.full_like(p._data, init)}

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        if "sum" not in state:  # a parameter whose state was dropped (e.g. loaded without it)
            state.update(step=0, sum=np.full_like(param, float(group["initial_accumulator_value"])))
        state["step"] += 1
        step = state["step"]
        d = _effective_grad(self, param, grad, float(group["weight_decay"]), group["maximize"])
        clr = float(group["lr"]) / (1 + (step - 1) * float(group["lr_decay"]))
        total = state["sum"]
        tmp = self._scratch(param, 1)
        np.multiply(d, d, out=tmp)
        total += tmp
        np.sqrt(total, out=tmp)
        tmp += float(group["eps"])
        num = self._scratch(param, 2)
        np.multiply(d, clr, out=num)
        np.divide(num, tmp, out=tmp)
        param -= tmp
