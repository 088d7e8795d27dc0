"""`Distribution`: the base of the probability distributions, with PyTorch's interface.

`sample(sample_shape)` draws without a gradient; `rsample(sample_shape)` (where the distribution has
a reparameterisation, `has_rsample`) draws as a differentiable function of the parameters (VAEs);
`log_prob(value)` and `entropy()` are differentiable in the parameters (policy gradients). Shapes
follow PyTorch: a sample has shape `sample_shape + batch_shape + event_shape`. Random draws come from
the library's generator, so `autograd_nn.manual_seed` makes them repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .. import dtypes
from .._tensor import Tensor, as_tensor, broadcast_tensors
from ..grad_mode import no_grad


def as_shape(sample_shape: Any) -> tuple:
    if isinstance(sample_shape, int):
        return (sample_shape,)
    return tuple(int(n) for n in sample_shape)


def broadcast_all(*values: Any) -> tuple:
    """The parameters as Tensors of one broadcast shape; numbers take the default float dtype (or a
    Tensor argument's dtype), as PyTorch's `broadcast_all`."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None and like.dtype.kind == "f" else dtypes.get_default_dtype()
    tensors = [v if isinstance(v, Tensor) else as_tensor(np.asarray(v, dtype=dtype)) for v in values]
    tensors = [t if t.dtype.kind == "f" else t.astype(dtype) for t in tensors]
    return tuple(broadcast_tensors(*tensors))


class Distribution:
    """Base class: subclasses set `batch_shape` / `event_shape` and define the methods they have."""

    has_rsample = False
    arg_constraints: ClassVar[dict] = {}

    def __init__(
        self,
        batch_shape: Sequence[int] = (),
        event_shape: Sequence[int] = (),
        validate_args: bool | None = None,
    ) -> None:
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        self._validate_args = validate_args is not False

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> tuple:
        return as_shape(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """A draw (no gradient); distributions with `rsample` detach it."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampling (rsample)")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.log_prob")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.entropy")

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def _check(self, ok: Any, what: str) -> None:
        """Raise PyTorch's ValueError for an invalid parameter (unless validate_args=False)."""
        if self._validate_args and not bool(np.all(ok)):
            raise ValueError(f"{type(self).__name__}: expected {what}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, event_shape={self.event_shape})"


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
