"""DistributedSampler: each rank's share of a dataset's indices, the same split on every rank.

As in PyTorch: the order is a permutation seeded by `seed + epoch` (call `set_epoch(epoch)` before
each epoch, or every epoch repeats the first one's order), so every rank draws the same permutation
without talking to the others; rank r takes positions r, r + N, r + 2N, ... Without `drop_last`
the list is padded by repeating its start, so every rank gets the same number of samples (and of
batches: a rank that ran out of batches early would leave the others waiting in a collective).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np


class DistributedSampler:
    """Indices of `dataset` for rank `rank` of `num_replicas` (defaults: the default process group)."""

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed

            if not distributed.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: no process group is running; call "
                    "autograd_nn.distributed.init_process_group() first, or pass "
                    "num_replicas and rank"
                )
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if isinstance(num_replicas, bool) or int(num_replicas) != num_replicas or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if isinstance(rank, bool) or int(rank) != rank or not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank!r}, rank should be in the "
                f"interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if self.drop_last:
            indices = indices[: self.total_size]
        elif self.total_size > n:  # pad with the first indices (repeated if the set is tiny)
            repeats = math.ceil((self.total_size - n) / max(n, 1))
            indices = np.concatenate([indices] + [indices] * repeats)[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of `epoch` (the same on every rank)."""
        self.epoch = int(epoch)
