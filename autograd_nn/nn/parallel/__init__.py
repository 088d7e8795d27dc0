"""`autograd_nn.nn.parallel`: `DataParallel` (a pass-through without GPUs, see `nn/data_parallel.py`)."""
from ..data_parallel import DataParallel

__all__ = ["DataParallel"]
