"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _check_lr, _effective_grad


class SGD(Optimizer):
    """PyTorch's SGD. With `g` the gradient (negated when `maximize`) and `b` the momentum buffer::

        g = g + weight_decay * p
        b = g                                   (first step)
        b = momentum * b + (1 - dampening) * g  (later steps)
        g = g + momentum * b  if nesterov else  b
        p = p - lr * g

    The buffer is created only when `momentum != 0` and kept in the parameter's dtype.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_lr(lr)
        _check(momentum >= 0.0, "momentum value", momentum)
        _check(weight_decay >= 0.0, "weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        d = _effective_grad(self, param, grad, float(group["weight_decay"]), group["maximize"])
        tmp = self._scratch(param, 1)
        if momentum != 0.0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d, dtype=param.dtype, copy=True)
            else:
                buf *= momentum
                dampening = float(group["dampening"])
                if dampening == 0.0:
                    buf += d
                else:
                    np.multiply(d, 1.0 - dampening, out=tmp)
                    buf += tmp
            if group["nesterov"]:
                np.multiply(buf, momentum, out=tmp)
                np.add(d, tmp, out=tmp)
                d = tmp
            else:
                d = buf
        np.multiply(d, lr, out=tmp)
        param -= tmp
