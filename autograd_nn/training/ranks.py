"""What the training loop does differently when it runs on several ranks (DistributedDataParallel).

Rank 0 alone prints, draws progress bars and writes files; every rank takes the same decisions
(best epoch, early stopping) from the same numbers, or one rank would stop while the others wait
for it in a collective. Outside a process group every function here is the single-process answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _group() -> Any:
    """The default process group when one is running with two or more ranks, else None."""
    from ..distributed import process_group

    g = process_group._state.group
    return g if g is not None and g.size > 1 else None


def world_size() -> int:
    """Ranks training together (1 outside a process group)."""
    g = _group()
    return 1 if g is None else g.size


def is_main_process() -> bool:
    """True on rank 0, and in a single-process run."""
    from ..distributed import process_group

    return process_group.is_main_process()


def set_epoch(loader: Any, epoch: int) -> None:
    """Tell a DistributedSampler (or any sampler with `set_epoch`) which epoch's order to use."""
    sampler = getattr(loader, "sampler", None)
    if sampler is not None and hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)


def global_mean(total: float, count: int) -> float:
    """total / count summed over every rank (the loss over the whole global epoch)."""
    if _group() is None:
        return total / max(count, 1)
    from ..distributed.collectives import all_reduce_array

    both = np.array([total, count], dtype=np.float64)
    all_reduce_array(both, what="training loss").wait()
    return float(both[0] / max(both[1], 1.0))


def rank0_values(record: dict[str, float]) -> dict[str, float]:
    """Rank 0's values of `record` on every rank (same keys in the same order everywhere)."""
    if _group() is None:
        return record
    from ..distributed.collectives import Work

    g = _group()
    values = np.array(list(record.values()), dtype=np.float64)
    Work([g.comm.Ibcast(values, root=0)], "training metrics").wait()
    return dict(zip(record, (float(v) for v in values)))
