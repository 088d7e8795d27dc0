"""autograd_nn.nn.parallel: data parallelism across processes (`DistributedDataParallel`).

Importing this package needs nothing beyond the core library; constructing the wrapper needs the
`distributed` extra (mpi4py) and a process group (`autograd_nn.distributed.init_process_group`).
"""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
