"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril) and Independent.

The covariance is held as its Cholesky factor L (`scale_tril`, lower triangular, C = L L^T), given
directly or computed (with gradients, `linalg.cholesky`). A diagonal covariance is the common case
(`covariance_matrix=torch.diag(var)`); full ones work the same way.

    rsample  = loc + L eps                    eps ~ N(0, I)
    log_prob = -(D log(2 pi) + |L^-1 (x - loc)|^2) / 2 - sum(log diag L)
    entropy  = D (1 + log(2 pi)) / 2 + sum(log diag L)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import linalg
from .._tensor import Tensor, as_tensor
from ..random import generator
from .distribution import Distribution


def _tensor(x: Any, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(np.asarray(x, dtype=like.dtype))


class MultivariateNormal(Distribution):
    """A D-dimensional normal with mean `loc` (..., D) and one of the covariance forms above."""

    has_rsample = True

    def __init__(
        self,
        loc: Any,
        covariance_matrix: Any = None,
        precision_matrix: Any = None,
        scale_tril: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError(
                "MultivariateNormal: exactly one of covariance_matrix or precision_matrix "
                "or scale_tril may be specified"
            )
        loc = loc if isinstance(loc, Tensor) else as_tensor(np.asarray(loc, dtype=np.float32))
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional")
        if scale_tril is not None:
            tril = _tensor(scale_tril, loc)
        elif covariance_matrix is not None:
            tril = linalg.cholesky(_tensor(covariance_matrix, loc))
        else:
            tril = linalg.cholesky(linalg.inv(_tensor(precision_matrix, loc)))
        if tril.ndim < 2 or tril.shape[-1] != tril.shape[-2] or tril.shape[-1] != loc.shape[-1]:
            raise ValueError(
                f"MultivariateNormal: the matrix must be (..., {loc.shape[-1]}, "
                f"{loc.shape[-1]}), got shape {tril.shape}"
            )
        batch = np.broadcast_shapes(loc.shape[:-1], tril.shape[:-2])
        event = loc.shape[-1:]
        self.loc = loc.expand(*batch, *event)
        self._unbroadcasted_scale_tril = tril
        super().__init__(batch, event, validate_args)

    @property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, *self.event_shape * 2)

    @property
    def covariance_matrix(self) -> Tensor:
        low = self._unbroadcasted_scale_tril
        return (low @ low.mT).expand(*self.batch_shape, *self.event_shape * 2)

    @property
    def precision_matrix(self) -> Tensor:
        return linalg.inv(self.covariance_matrix)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril**2).sum(-1).expand(*self.batch_shape, *self.event_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = as_tensor(generator().standard_normal(shape).astype(self.loc.dtype))
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        diff = _tensor(value, self.loc) - self.loc  # (..., D)
        low = self._unbroadcasted_scale_tril
        low = low.expand(*diff.shape[:-1], *low.shape[-2:])
        z = linalg.solve_triangular(low, diff.unsqueeze(-1), upper=False).squeeze(-1)
        dim = self.event_shape[0]
        return -0.5 * (dim * math.log(2 * math.pi) + (z**2).sum(-1)) - self._half_log_det()

    def entropy(self) -> Tensor:
        dim = self.event_shape[0]
        h = 0.5 * dim * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self.batch_shape) if self.batch_shape else h


class Independent(Distribution):
    """Treat the last `reinterpreted_batch_ndims` batch dims of `base_distribution` as event dims:
    `log_prob` and `entropy` sum over them (e.g. a diagonal Gaussian from `Normal`)."""

    def __init__(
        self,
        base_distribution: Distribution,
        reinterpreted_batch_ndims: int,
        validate_args: bool | None = None,
    ) -> None:
        n = int(reinterpreted_batch_ndims)
        batch = base_distribution.batch_shape
        if not 0 <= n <= len(batch):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be in [0, {len(batch)}], got {n}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(
            batch[: len(batch) - n], batch[len(batch) - n :] + base_distribution.event_shape, validate_args
        )
        self.has_rsample = base_distribution.has_rsample

    def _sum(self, x: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return x if n == 0 else x.sum(tuple(range(-n, 0)))

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Any) -> Tensor:
        return self._sum(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum(self.base_dist.entropy())
