"""Datasets: anything with `__len__` and `__getitem__`, as in `torch.utils._data`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..random import resolve


class Dataset:
    """Base class: subclasses define `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.__getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}.__len__")


class TensorDataset(Dataset):
    """Rows of equally long tensors (or arrays): item i is the tuple of each tensor's row i."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            shapes = [a.shape for a in arrays]
            raise ValueError(f"TensorDataset: tensors must have the same first dim, got {shapes}")
        self.arrays = arrays

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return tuple(as_tensor(a) for a in self.arrays)

    def __getitem__(self, index: Any) -> tuple:
        """The tuple of each tensor's row `index`, as Tensors (as PyTorch's TensorDataset)."""
        n = len(self.arrays[0])
        if isinstance(index, (int, np.integer)) and not -n <= index < n:
            raise IndexError(f"TensorDataset: index {index} is out of range for {n} items")
        return tuple(as_tensor(a[index]) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


class Subset(Dataset):
    """The items of `dataset` at `indices`."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            if not -len(self.indices) <= index < len(self.indices):
                raise IndexError(f"Subset: index {index} is out of range for {len(self.indices)} items")
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[float | int], generator: Any = None) -> list[Subset]:
    """Split into non-overlapping subsets of the given lengths (or fractions summing to 1); the
    permutation comes from `generator` (an `autograd_nn.Generator`, a NumPy Generator, or None for the
    library's)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1.0) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(x) for x in lengths]
    if sum(counts) != n or min(counts, default=0) < 0:
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the dataset size {n}")
    order = resolve(generator).permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, order[start : start + c]))
        start += c
    return out


class ConcatDataset(Dataset):
    """The datasets one after another: item i of the concatenation."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} items")
        index %= n
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][index - start]


class IterableDataset(Dataset):
    """A stream of samples: subclasses define `__iter__` (and may define `__len__`)."""

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.__iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead")
