"""Counting distinct values: `unique`, `unique_consecutive`, `bincount`, `histc` (outside the graph:
their results are integers or counts, as in PyTorch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import TensorBase
from ..shapes import normalize_axis


class CountingMixin(TensorBase):
    __slots__ = ()

    def unique(
        self,
        sorted: bool = True,
        return_inverse: bool = False,
        return_counts: bool = False,
        dim: int | None = None,
    ) -> Any:
        """The distinct values (sorted), and optionally the inverse indices and the counts."""
        if dim is not None:
            dim = normalize_axis(dim, self.ndim, "unique")
        values, inverse, counts = np.unique(self._data, return_inverse=True, return_counts=True, axis=dim)
        out = [self._make(values, False)]
        if return_inverse:
            shape = self.shape if dim is None else (self.shape[dim],)
            out.append(self._make(inverse.reshape(shape).astype(np.int64), False))
        if return_counts:
            out.append(self._make(counts.astype(np.int64), False))
        return out[0] if len(out) == 1 else tuple(out)

    def unique_consecutive(
        self, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
    ) -> Any:
        """Collapse runs of equal consecutive values (of the flattened tensor when dim is None)."""
        if dim is not None:
            raise ShapeError("unique_consecutive: dim is not supported; flatten first")
        flat = self._data.reshape(-1)
        new_run = np.concatenate(([flat.size > 0], flat[1:] != flat[:-1]))[: flat.size]
        starts = np.flatnonzero(new_run)
        out = [self._make(flat[starts], False)]
        if return_inverse:
            inverse = np.cumsum(new_run) - 1
            out.append(self._make(inverse.reshape(self.shape).astype(np.int64), False))
        if return_counts:
            out.append(self._make(np.diff(np.append(starts, flat.size)).astype(np.int64), False))
        return out[0] if len(out) == 1 else tuple(out)

    def bincount(self, weights: Any = None, minlength: int = 0) -> Any:
        """How often each value 0..max occurs in this 1-D non-negative integer tensor (weighted)."""
        if self.ndim != 1 or self.dtype.kind not in "iub":
            raise DTypeError(
                f"bincount: expects a 1-D integer tensor, got {self.dtype} of shape {self.shape}"
            )
        if self._data.size and self._data.min() < 0:
            raise ValueError("bincount: values must be non-negative")
        w = (
            None
            if weights is None
            else np.asarray(weights._data if isinstance(weights, TensorBase) else weights)
        )
        counts = np.bincount(self._data, weights=w, minlength=minlength)
        return self._make(counts if w is not None else counts.astype(np.int64), False)

    def histc(self, bins: int = 100, min: float = 0.0, max: float = 0.0) -> Any:
        """A histogram of `bins` equal bins over [min, max] (the data's range when both are 0)."""
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"histc: bins must be a positive int, got {bins!r}")
        lo, hi = (float(self._data.min()), float(self._data.max())) if min == max == 0 else (min, max)
        counts, _ = np.histogram(self._data, bins=bins, range=(lo, hi))
        return self._make(counts.astype(self.dtype), False)
