"""Activation primitives, written to stay finite (values and gradients) at any input magnitude.

Stability: sigmoid uses exp(-|x|) only; softplus / logsigmoid use `logaddexp`; elu evaluates exp on
min(x, 0) only. Subgradients at kinks follow PyTorch and are stated on each class. Backward rules use
only array/Tensor-neutral operations, so every activation supports `create_graph=True`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from . import dual
from .special import erf, erf_array

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow, with full relative precision for large negative x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def _sigmoid(x: Any) -> Any:
    return x.sigmoid() if dual.is_tensor(x) else sigmoid_array(x)


def _softplus(x: Any) -> Any:
    return x.softplus() if dual.is_tensor(x) else np.logaddexp(0.0, x)


def _exp_nonpositive(x: Any) -> Any:
    """exp(min(x, 0)): the exp an ELU needs, which never overflows."""
    return x.clamp_max(0.0).exp() if dual.is_tensor(x) else np.exp(np.minimum(x, 0.0))


def _data(x: Any) -> np.ndarray:
    return x._data if dual.is_tensor(x) else x


class Sigmoid(Function):
    """1 / (1 + exp(-x)); d/dx = s (1 - s), from the output."""

    def forward(self, a):
        out = sigmoid_array(a)
        self.save(out)
        return out

    def backward(self, g):
        (out,) = self.saved
        return g * out * (1.0 - out)


class Relu(Function):
    """max(x, 0); the subgradient at 0 is 0 (PyTorch's choice)."""

    def forward(self, a):
        self.mask = a > 0
        return np.maximum(a, 0)

    def backward(self, g):
        return g * self.mask


class LeakyRelu(Function):
    """x for x > 0, slope * x otherwise; the gradient at 0 is `slope`."""

    def forward(self, a, slope):
        self.mask, self.slope = a > 0, slope
        return np.where(self.mask, a, a * slope)

    def backward(self, g):
        return dual.where(self.mask, g, g * self.slope)


class Elu(Function):
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)): ELU, SELU and CELU.

    The gradient at 0 is taken from the negative side (scale * alpha * input_scale), as PyTorch.
    """

    def forward(self, a, alpha, scale, input_scale):
        self.save(a)
        self.params = (alpha, scale, input_scale)
        neg = alpha * np.expm1(np.minimum(a, 0.0) * input_scale)
        out = np.where(a > 0, a, neg)
        return out if scale == 1.0 else out * scale

    def backward(self, g):
        (a,) = self.saved
        alpha, scale, input_scale = self.params
        neg = _exp_nonpositive(a * input_scale) * (alpha * scale * input_scale)
        return dual.where(_data(a) > 0, g * scale, g * neg)


class Gelu(Function):
    """x * Phi(x) with the exact normal CDF (erf); d/dx = Phi(x) + x phi(x)."""

    def forward(self, a):
        self.save(a)
        return 0.5 * a * (1.0 + erf_array(a * _SQRT1_2))

    def backward(self, g):
        (a,) = self.saved
        cdf = 0.5 * (1.0 + erf(a * _SQRT1_2))
        pdf = dual.exp(-0.5 * a * a) * _INV_SQRT_2PI
        return g * (cdf + a * pdf)


class GeluTanh(Function):
    """GELU with PyTorch's approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    def forward(self, a):
        self.save(a)
        return 0.5 * a * (1.0 + np.tanh(_GELU_K * (a + _GELU_C * a * a * a)))

    def backward(self, g):
        (a,) = self.saved
        a2 = a * a
        t = dual.tanh(_GELU_K * (a + _GELU_C * a2 * a))
        dinner = _GELU_K * (1.0 + 3.0 * _GELU_C * a2)
        return g * (0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * dinner)


class Silu(Function):
    """x * sigmoid(x) (swish); d/dx = s (1 + x (1 - s))."""

    def forward(self, a):
        self.save(a)
        return a * sigmoid_array(a)

    def backward(self, g):
        (a,) = self.saved
        s = _sigmoid(a)
        return g * s * (1.0 + a * (1.0 - s))


class Mish(Function):
    """x * tanh(softplus(x)); d/dx = t + x (1 - t^2) sigmoid(x)."""

    def forward(self, a):
        self.save(a)
        return a * np.tanh(np.logaddexp(0.0, a))

    def backward(self, g):
        (a,) = self.saved
        t = dual.tanh(_softplus(a))
        return g * (t + a * (1.0 - t * t) * _sigmoid(a))


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""

    def forward(self, a, beta, threshold):
        self.save(a)
        self.beta, self.linear = beta, a * beta > threshold
        return np.where(self.linear, a, np.logaddexp(0.0, a * beta) / beta)

    def backward(self, g):
        (a,) = self.saved
        return dual.where(self.linear, g, g * _sigmoid(a * self.beta))


class LogSigmoid(Function):
    """log(sigmoid(x)) = -softplus(-x); d/dx = sigmoid(-x)."""

    def forward(self, a):
        self.save(a)
        return -np.logaddexp(0.0, -a)

    def backward(self, g):
        (a,) = self.saved
        return g * _sigmoid(-a)


class Hardtanh(Function):
    """clip(x, min_val, max_val); the gradient is 1 strictly inside, 0 at and beyond the bounds
    (PyTorch's hardtanh/relu6 rule; `clamp` instead passes the gradient at the bounds)."""

    def forward(self, a, min_val, max_val):
        self.mask = (a > min_val) & (a < max_val)
        return np.clip(a, min_val, max_val)

    def backward(self, g):
        return g * self.mask


class Hardsigmoid(Function):
    """relu6(x + 3) / 6; the gradient is 1/6 on (-3, 3) and 0 at the boundaries."""

    def forward(self, a):
        self.mask = (a > -3.0) & (a < 3.0)
        return np.clip(a * (1.0 / 6.0) + 0.5, 0.0, 1.0)

    def backward(self, g):
        return g * self.mask * (1.0 / 6.0)


class Hardswish(Function):
    """x * relu6(x + 3) / 6; d/dx = 0 for x <= -3, x/3 + 1/2 on (-3, 3), 1 for x >= 3 (as PyTorch)."""

    def forward(self, a):
        self.save(a)
        self.mid, self.high = (a > -3.0) & (a < 3.0), a >= 3.0
        return a * np.clip(a + 3.0, 0.0, 6.0) * (1.0 / 6.0)

    def backward(self, g):
        (a,) = self.saved
        return g * (self.mid * (a * (1.0 / 3.0) + 0.5) + self.high)


class Threshold(Function):
    """x where x > threshold, else `value`; the gradient is 1 where x > threshold, 0 elsewhere."""

    def forward(self, a, threshold, value):
        self.mask = a > threshold
        return np.where(self.mask, a, np.asarray(value, dtype=a.dtype))

    def backward(self, g):
        return g * self.mask
