"""Samplers: the orders in which a DataLoader visits a dataset, under PyTorch's names.

A sampler is any iterable of dataset indices with a length; a batch sampler yields lists of indices.
Random ones draw from the library's generator (or the `generator=` given: an `autograd_nn.Generator`
or a NumPy Generator), so `manual_seed` makes every epoch's order repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from ..function import TensorBase
from ..random import resolve

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: subclasses define `__iter__` (indices) and usually `__len__`."""

    def __init__(self, data_source: Any = None) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__}.__iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        if not hasattr(data_source, "__len__"):
            raise TypeError(
                f"SequentialSampler: data_source must have a length, got {type(data_source).__name__}"
            )
        super().__init__(data_source)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random permutation each epoch, or `num_samples` draws with replacement."""

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        super().__init__(data_source)
        self.replacement, self.generator = bool(replacement), generator
        self._num_samples = num_samples
        if num_samples is not None and (
            isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0
        ):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, rng = len(self.data_source), resolve(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        reps = -(-self.num_samples // n) if n else 0
        order = np.concatenate([rng.permutation(n) for _ in range(reps)]) if reps else np.zeros(0, int)
        return iter(order[: self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        super().__init__(None)
        self.indices, self.generator = list(indices), generator

    def __iter__(self) -> Iterator[int]:
        order = resolve(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """`num_samples` indices drawn with probabilities proportional to `weights`."""

    def __init__(
        self, weights: Any, num_samples: int, replacement: bool = True, generator: Any = None
    ) -> None:
        super().__init__(None)
        w = np.asarray(weights._data if isinstance(weights, TensorBase) else weights, dtype=np.float64)
        if w.ndim != 1 or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be a 1-D sequence of non-negative "
                "numbers with a positive sum"
            )
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer, got {num_samples!r}"
            )
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(
                "WeightedRandomSampler: cannot draw more samples than there are non-zero "
                "weights without replacement"
            )
        self.weights, self.num_samples = w, num_samples
        self.replacement, self.generator = bool(replacement), generator

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        draws = resolve(self.generator).choice(len(p), self.num_samples, replace=self.replacement, p=p)
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Lists of `batch_size` indices from `sampler` (the last one shorter unless `drop_last`)."""

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        super().__init__(None)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch: list = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
