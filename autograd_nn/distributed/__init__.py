"""autograd_nn.distributed: processes that train one model together, over MPI (`torch.distributed`'s
names and semantics).

Launch N copies of a script with `mpirun -n N python train.py` (or `python -m
autograd_nn.distributed.run -n N train.py`); in it::

    import autograd_nn.distributed as dist
    from autograd_nn.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    model = DDP(model)                                   # rank 0's weights everywhere
    sampler = DistributedSampler(dataset)                # each rank its shard of every epoch
    ...                                                  # train as usual: gradients are averaged

Needs the optional `mpi4py` (`pip install 'autograd-nn[distributed]'`) and an MPI library; it is
imported by `init_process_group`, never by `import autograd_nn`.
"""

from ..errors import DistributedError
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    reduce,
)
from .process_group import (
    DEFAULT_TIMEOUT,
    abort,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_main_process,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "DistributedError",
    "ReduceOp",
    "Work",
    "abort",
    "all_gather",
    "all_gather_into_tensor",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_main_process",
    "reduce",
]
