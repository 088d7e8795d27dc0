"""Normal(loc, scale) and Uniform(low, high): reparameterised (`rsample` is differentiable)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..random import generator
from .distribution import LOG_SQRT_2PI, Distribution, broadcast_all


class Normal(Distribution):
    """The normal distribution with mean `loc` and standard deviation `scale` (> 0)."""

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)
        self._check(self.scale.numpy() > 0, "scale > 0")

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale**2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """loc + eps * scale with eps ~ N(0, 1): differentiable in loc and scale."""
        shape = self._extended_shape(sample_shape)
        eps = as_tensor(generator().standard_normal(shape).astype(self.loc.dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        v = value if isinstance(value, Tensor) else as_tensor(np.asarray(value, self.loc.dtype))
        var = self.scale**2
        return -((v - self.loc) ** 2) / (2 * var) - self.scale.log() - LOG_SQRT_2PI

    def entropy(self) -> Tensor:
        return 0.5 + LOG_SQRT_2PI + self.scale.log()

    def cdf(self, value: Any) -> Tensor:
        return 0.5 * (1 + ((value - self.loc) * (self.scale.reciprocal() / math.sqrt(2))).erf())

    def icdf(self, value: Any) -> Tensor:
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)


class Uniform(Distribution):
    """The uniform distribution on [low, high)."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, (), validate_args)
        self._check(self.low.numpy() < self.high.numpy(), "low < high")

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """low + u * (high - low) with u ~ U[0, 1): differentiable in low and high."""
        shape = self._extended_shape(sample_shape)
        u = as_tensor(generator().random(shape).astype(self.low.dtype))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        v = value if isinstance(value, Tensor) else as_tensor(np.asarray(value, self.low.dtype))
        inside = ((self.low <= v) & (self.high > v)).astype(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Any) -> Tensor:
        return value * (self.high - self.low) + self.low
