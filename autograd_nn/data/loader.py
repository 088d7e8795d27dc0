"""DataLoader: batches from a dataset, shuffled with a seeded generator, with PyTorch's signature."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..dtypes import get_default_dtype
from ..random import resolve
from .dataset import IterableDataset, TensorDataset
from .samplers import BatchSampler, RandomSampler, SequentialSampler


def default_collate(items: list) -> Any:
    """Stack a list of samples into a batch: tuples stay tuples, arrays and numbers become Tensors."""
    if len(items) == 0:
        raise ValueError("default_collate: got an empty batch")
    first = items[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(col)) for col in zip(*items))
    if isinstance(first, dict):
        return {k: default_collate([it[k] for it in items]) for k in first}
    if isinstance(first, (str, bytes)):
        return list(items)
    shapes = {np.shape(it._data if isinstance(it, Tensor) else it) for it in items}
    if len(shapes) > 1:
        raise ValueError(f"default_collate: samples of shapes {sorted(shapes)} cannot be stacked")
    if isinstance(first, Tensor):
        return as_tensor(np.stack([it._data for it in items]))
    return as_tensor(_default_float(np.stack([np.asarray(it) for it in items])))


def default_convert(item: Any) -> Any:
    """A sample as Tensors without batching (what `batch_size=None` yields)."""
    if isinstance(item, (tuple, list)):
        return type(item)(default_convert(x) for x in item)
    if isinstance(item, dict):
        return {k: default_convert(v) for k, v in item.items()}
    if isinstance(item, np.ndarray):
        return as_tensor(item)
    return item


def get_worker_info() -> None:
    """None: batches are made in the main process (see DataLoader's `num_workers`)."""
    return None


class DataLoader:
    """Iterate over `dataset` in batches (PyTorch's `DataLoader`, same arguments).

    The order comes from `batch_sampler`, else `sampler`, else `shuffle` (a new permutation every
    epoch from `generator`: an `autograd_nn.Generator`, a NumPy Generator, or by default the library's,
    which `autograd_nn.manual_seed` controls, so runs are repeatable). `batch_size=None` yields single
    samples. A TensorDataset is batched by slicing its arrays directly (no per-item Python loop).

    Batches are made in the calling process: `num_workers`, `pin_memory`, `prefetch_factor`,
    `persistent_workers`, `timeout` and `multiprocessing_context` are accepted and change nothing but
    speed (the batches are the same); `worker_init_fn` is called once with worker id 0.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
        ):
            raise TypeError(f"DataLoader: batch_size must be an int or None, got {batch_size!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__ (or be an "
                f"IterableDataset), got {type(dataset).__name__}"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got {num_workers!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError(
                "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                "shuffle, sampler, and drop_last"
            )
        if sampler is not None and not hasattr(sampler, "__iter__"):
            raise TypeError(
                f"DataLoader: sampler must be an iterable of indices, got {type(sampler).__name__}"
            )
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: an IterableDataset takes no shuffle, sampler or batch_sampler")
        self.dataset, self.num_workers = dataset, num_workers
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), drop_last
        self.generator = generator
        self.collate_fn = collate_fn or (
            default_collate if batch_size is not None or batch_sampler is not None else default_convert
        )
        self.pin_memory, self.timeout, self.worker_init_fn = pin_memory, timeout, worker_init_fn
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self._own_batching = batch_sampler is None  # batches made here from sampler and batch_size
        if batch_sampler is not None:
            self.batch_size = None  # as PyTorch: the batch sampler decides
        # samplers are any iterables of indices (of lists of them); None for an IterableDataset
        self.sampler: Any
        self.batch_sampler: Any
        if iterable:
            self.sampler = self.batch_sampler = None
        else:
            if sampler is None:
                sampler = (
                    RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
                )
            self.sampler = sampler
            if batch_sampler is None and batch_size is not None:
                batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)
            self.batch_sampler = batch_sampler
        self._started = False

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # a TypeError if the iterable dataset has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if not self._started and self.worker_init_fn is not None:
            self.worker_init_fn(0)
        self._started = True
        if isinstance(self.dataset, IterableDataset):
            yield from self._iterate_iterable()
            return
        if self.batch_sampler is None:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[int(i)])
            return
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        if fast and self._own_batching and type(self.sampler) in (RandomSampler, SequentialSampler):
            yield from self._slices()
            return
        for idx in self.batch_sampler:
            if fast:
                yield tuple(
                    as_tensor(_default_float(a[np.asarray(idx, dtype=np.int64)])) for a in self.dataset.arrays
                )
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])

    def _slices(self) -> Iterator[tuple]:
        """TensorDataset batches by slicing its arrays with each batch's indices."""
        n = len(self.dataset)
        if (
            isinstance(self.sampler, RandomSampler)
            and not self.sampler.replacement
            and self.sampler._num_samples is None
        ):
            order = resolve(self.sampler.generator).permutation(n)
        else:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        for start in range(0, len(order), self.batch_size or 1):
            idx = order[start : start + (self.batch_size or 1)]
            if self.drop_last and len(idx) < (self.batch_size or 1):
                return
            yield tuple(as_tensor(_default_float(a[idx])) for a in self.dataset.arrays)

    def _iterate_iterable(self) -> Iterator[Any]:
        if self.batch_size is None:
            for item in self.dataset:
                yield self.collate_fn(item)
            return
        batch: list = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)


def _default_float(a: np.ndarray) -> np.ndarray:
    """float64 arrays (NumPy's and scikit-learn's default) in the default float dtype (float32 unless
    `set_default_dtype` says otherwise), so batches match a model built with the same default."""
    return a.astype(get_default_dtype()) if a.dtype == np.float64 else a
