"""autograd_nn.nn.parallel: `DistributedDataParallel` (data parallelism across processes) and
`DataParallel` (a pass-through without GPUs, see `nn/data_parallel.py`).

Importing this package needs nothing beyond the core library; constructing DistributedDataParallel
needs the `distributed` extra (mpi4py) and a process group
(`autograd_nn.distributed.init_process_group`).
"""

from ..data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
