"""Drawing from distributions a tensor describes: `multinomial`, `bernoulli`, `poisson` (methods; the
`autograd_nn.<name>` functions, and `normal`, are in `functions.py`).

Samples are constants of the graph (no gradient flows through a draw, as in PyTorch; reparameterised
sampling is `distributions.Normal(...).rsample()`). Draws come from the library's generator (or the
`generator=` given), so `manual_seed` makes them repeatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import DTypeError, ShapeError
from ..function import TensorBase
from ..random import resolve


def inverse_cdf(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Category indices for uniforms in [0, 1): the first index whose cumulative weight exceeds
    u * total, row by row (probs (R, K) unnormalised, uniforms (R, S) -> (R, S) int64)."""
    cdf = np.cumsum(probs, axis=-1)
    total = cdf[:, -1:]
    idx = np.empty(uniforms.shape, dtype=np.int64)
    for r in range(probs.shape[0]):
        idx[r] = np.searchsorted(cdf[r], uniforms[r] * total[r], side="right")
    return np.minimum(idx, probs.shape[-1] - 1)


class SamplingMixin(TensorBase):
    __slots__ = ()

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Any:
        """Indices drawn from the categories weighted by this (K,) or (R, K) tensor of non-negative
        weights (rows need not sum to 1): (num_samples,) or (R, num_samples), int64."""
        if self.ndim not in (1, 2):
            raise ShapeError(f"multinomial: expects a 1-D or 2-D tensor of weights, got shape {self.shape}")
        w = np.asarray(self._data, dtype=np.float64).reshape(-1, self.shape[-1])
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("multinomial: weights must be finite and non-negative")
        if np.any(w.sum(axis=1) <= 0):
            raise ValueError("multinomial: each row of weights must have a positive sum")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
        if not replacement and num_samples > int(np.count_nonzero(w, axis=1).min()):
            raise ValueError(
                f"multinomial: cannot draw {num_samples} samples without replacement from "
                f"{int(np.count_nonzero(w, axis=1).min())} categories with non-zero weight"
            )
        rng = resolve(generator)
        if replacement or num_samples == 1:
            idx = inverse_cdf(w, rng.random((w.shape[0], num_samples)))
        else:  # one category at a time, each drawn from the weights left over
            idx = np.empty((w.shape[0], num_samples), dtype=np.int64)
            left = w.copy()
            for j in range(num_samples):
                idx[:, j] = inverse_cdf(left, rng.random((w.shape[0], 1)))[:, 0]
                left[np.arange(w.shape[0]), idx[:, j]] = 0.0
        return self._make(idx.reshape(self.shape[:-1] + (num_samples,)), False)

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> Any:
        """1 with the probability in each element (or `p`), else 0, in this tensor's dtype."""
        prob = self._data if p is None else (p._data if isinstance(p, TensorBase) else p)
        prob = np.broadcast_to(np.asarray(prob, dtype=np.float64), self.shape)
        if np.any((prob < 0) | (prob > 1)):
            raise ValueError("bernoulli: probabilities must be in [0, 1]")
        dtype = self.dtype if self.dtype.kind == "f" else dtypes.get_default_dtype()
        return self._make((resolve(generator).random(self.shape) < prob).astype(dtype), False)

    def poisson(self, generator: Any = None) -> Any:
        """Poisson samples with this tensor's elements as rates."""
        if self.dtype.kind != "f":
            raise DTypeError(f"poisson: rates must be a floating-point tensor, got {self.dtype}")
        if np.any(self._data < 0):
            raise ValueError("poisson: rates must be non-negative")
        return self._make(resolve(generator).poisson(self._data).astype(self.dtype), False)
