"""DataLoader: batches from a dataset, shuffled with a seeded generator."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ..random import generator
from .._tensor import Tensor, as_tensor
from .dataset import TensorDataset


def default_collate(items: list) -> Any:
    """Stack a list of samples into a batch: tuples stay tuples, arrays and numbers become Tensors."""
    if len(items) == 0:
        raise ValueError("default_collate: got an empty batch")
    first = items[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(col)) for col in zip(*items))
    if isinstance(first, dict):
        return {k: default_collate([it[k] for it in items]) for k in first}
    shapes = {np.shape(it._data if isinstance(it, Tensor) else it) for it in items}
    if len(shapes) > 1:
        raise ValueError(f"default_collate: samples of shapes {sorted(shapes)} cannot be stacked")
    if isinstance(first, Tensor):
        return as_tensor(np.stack([it._data for it in items]))
    arr = np.stack([np.asarray(it) for it in items])
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return as_tensor(arr)


class DataLoader:
    """Iterate over `dataset` in batches.

    `shuffle=True` draws a new order every epoch from `generator` (default: the library's, which
    `autograd_nn.manual_seed` controls), so runs are repeatable. A TensorDataset is batched by slicing
    its arrays directly (no per-item Python loop).
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Callable | None = None,
                 generator: np.random.Generator | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = (self.generator or generator()).permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                return
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
                yield tuple(as_tensor(_float32(a[idx])) for a in self.dataset.arrays)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])


def _float32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float64 else a
