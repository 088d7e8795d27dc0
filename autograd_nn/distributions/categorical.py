"""Categorical(probs | logits) and Bernoulli(probs | logits): discrete, no `rsample`; `log_prob`
and `entropy` are differentiable in the parameters (the score-function / REINFORCE estimator)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from .._tensor import Tensor, as_tensor, broadcast_tensors
from .._tensor.sampling import inverse_cdf
from ..functional import binary_cross_entropy_with_logits
from ..random import generator
from .distribution import Distribution, as_shape


def _one_of(name: str, probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: either `probs` or `logits` must be specified, but not both")


def _param(x: Any) -> Tensor:
    t = x if isinstance(x, Tensor) else as_tensor(np.asarray(x, dtype=dtypes.get_default_dtype()))
    return t if t.dtype.kind == "f" else t.astype(dtypes.get_default_dtype())


def _clamp_probs(p: Tensor) -> Tensor:
    eps = float(np.finfo(p.dtype).eps)
    return p.clamp(eps, 1 - eps)


class Categorical(Distribution):
    """K categories with probabilities `probs` (normalised along the last dim) or unnormalised
    log-probabilities `logits`; batch_shape is the parameters' shape without the last dim."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        _one_of("Categorical", probs, logits)
        if probs is not None:
            p = _param(probs)
            if p.ndim < 1:
                raise ValueError("Categorical: `probs` parameter must be at least one-dimensional")
            self.probs = p / p.sum(-1, keepdim=True)
            self.logits = _clamp_probs(self.probs).log()
            super().__init__(p.shape[:-1], (), validate_args)
            self._check((p.numpy() >= 0) & np.isfinite(p.numpy()), "probs to be non-negative and finite")
        else:
            lg = _param(logits)
            if lg.ndim < 1:
                raise ValueError("Categorical: `logits` parameter must be at least one-dimensional")
            self.logits = lg - lg.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
            super().__init__(lg.shape[:-1], (), validate_args)
        self._num_events = self.probs.shape[-1]

    @property
    def param_shape(self) -> tuple:
        return self.probs.shape

    @property
    def mean(self) -> Tensor:
        return as_tensor(np.full(self.batch_shape, np.nan, dtype=self.probs.dtype))

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return as_tensor(np.full(self.batch_shape, np.nan, dtype=self.probs.dtype))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Category indices (int64) of shape sample_shape + batch_shape: each drawn by inverting the
        cumulative probabilities at a uniform draw."""
        shape = as_shape(sample_shape)
        n = int(np.prod(shape, dtype=np.int64))
        probs_2d = np.asarray(self.probs.numpy(), dtype=np.float64).reshape(-1, self._num_events)
        draws = inverse_cdf(probs_2d, generator().random((probs_2d.shape[0], n))).T  # (n, rows)
        return as_tensor(np.ascontiguousarray(draws).reshape(shape + self.batch_shape))

    def log_prob(self, value: Any) -> Tensor:
        v = value if isinstance(value, Tensor) else as_tensor(np.asarray(value))
        v = v.long().unsqueeze(-1)
        v, log_pmf = broadcast_tensors(v, self.logits)
        return log_pmf.gather(-1, v[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = np.arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = np.broadcast_to(values, (self._num_events,) + self.batch_shape)
        return as_tensor(np.ascontiguousarray(values))


class Bernoulli(Distribution):
    """1 with probability `probs` (or sigmoid(`logits`)), else 0."""

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        _one_of("Bernoulli", probs, logits)
        if probs is not None:
            self.probs = _param(probs)
            p = _clamp_probs(self.probs)
            self.logits = p.log() - (-p).log1p()
        else:
            self.logits = _param(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape, (), validate_args)
        if probs is not None:
            self._check((self.probs.numpy() >= 0) & (self.probs.numpy() <= 1), "probs in [0, 1]")

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return (self.probs >= 0.5).astype(self.probs.dtype)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs.numpy(), shape)
        return as_tensor((generator().random(shape) < p).astype(self.probs.dtype))

    def log_prob(self, value: Any) -> Tensor:
        v = value if isinstance(value, Tensor) else as_tensor(np.asarray(value, self.logits.dtype))
        logits, v = broadcast_tensors(self.logits, v.astype(self.logits.dtype))
        return -binary_cross_entropy_with_logits(logits, v, reduction="none")

    def entropy(self) -> Tensor:
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = np.arange(2, dtype=self.probs.dtype).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = np.broadcast_to(values, (2,) + self.batch_shape)
        return as_tensor(np.ascontiguousarray(values))
