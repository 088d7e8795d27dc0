"""`autograd_nn.utils`: PyTorch's `torch.utils` names.

- `utils.data` is `autograd_nn.data` itself (the same module object, registered under both names, so
  `from autograd_nn.utils.data import DataLoader, Dataset` and `autograd_nn.data.DataLoader` are one
  class and whatever `data` gains appears under both spellings).
- `utils.checkpoint.checkpoint(fn, *args)`: activation checkpointing's API (see there).
"""

import sys

from .. import data
from . import checkpoint

sys.modules[__name__ + ".data"] = data

__all__ = ["checkpoint", "data"]
