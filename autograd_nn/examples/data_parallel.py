"""Examples on several processes: `python -m autograd_nn --example NAME --nproc N`.

`__main__` starts the example on N ranks through MPI and sets up the process group; an example that
supports it (`@example(..., distributed=True)`) then calls `parallelize`, which wraps the model in
DistributedDataParallel (BatchNorm turned into SyncBatchNorm, so training matches one process) and
gives each rank its shard of every batch. The global batch stays the one the example asks for, so
its hyper-parameters keep their meaning. In a single process `parallelize` changes nothing.
"""

from __future__ import annotations

from typing import Any

from ..data import DataLoader, DistributedSampler
from ..nn import Module, SyncBatchNorm


def is_distributed() -> bool:
    """True inside a process group of two or more ranks."""
    from .. import distributed

    return distributed.is_initialized() and distributed.get_world_size() > 1


def parallelize(
    model: Module, dataset: Any, batch_size: int, seed: int = 0, sync_batchnorm: bool = True
) -> tuple[Module, DataLoader]:
    """(model, training loader): as given and shuffled in one process; on N ranks, the model
    wrapped in DistributedDataParallel and a loader of this rank's batch_size / N share."""
    if not is_distributed():
        return model, DataLoader(dataset, batch_size=batch_size, shuffle=True)
    from .. import distributed
    from ..nn.parallel import DistributedDataParallel

    world = distributed.get_world_size()
    if batch_size % world:
        raise ValueError(
            f"parallelize: the global batch of {batch_size} does not split evenly over {world} processes"
        )
    if sync_batchnorm:
        model = SyncBatchNorm.convert_sync_batchnorm(model)
    # SyncBatchNorm keeps the running statistics equal on every rank: no need to broadcast them
    # before each forward (one collective per step saved)
    ddp = DistributedDataParallel(model, broadcast_buffers=not sync_batchnorm)
    sampler = DistributedSampler(dataset, seed=seed)
    return ddp, DataLoader(dataset, batch_size // world, sampler=sampler)


def unwrap_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """A DistributedDataParallel state_dict (keys `module.*`) as the bare model's."""
    prefix = "module."
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def finish() -> bool:
    """At the end of training: True on the rank that should evaluate and write the results (rank 0,
    or the only process). The other ranks wait here until rank 0 calls `done()`."""
    from .. import distributed

    if not is_distributed() or distributed.get_rank() == 0:
        return True
    distributed.barrier()
    return False


def done() -> None:
    """Rank 0 has written everything: release the ranks waiting in `finish`."""
    if is_distributed():
        from .. import distributed

        distributed.barrier()
