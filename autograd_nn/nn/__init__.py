"""autograd_nn.nn: modules built only on Tensor ops, with PyTorch's names and state_dict keys."""

import importlib
from typing import Any

from . import functional, init, utils
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import *  # noqa: F403
from .data_parallel import DataParallel
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten
from .lora import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import Module, RemovableHandle
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .parameter import Buffer, Parameter
from .pooling import *  # noqa: F403
from .positional import *  # noqa: F403
from .rearrange import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .residual import *  # noqa: F403
from .sparse import *  # noqa: F403
from .sync_batchnorm import SyncBatchNorm
from .transformer import *  # noqa: F403


def __getattr__(name: str) -> Any:
    """`nn.parallel` (DistributedDataParallel) is imported on first use, keeping `import
    autograd_nn` free of the distributed machinery; so is `nn.modules` (PyTorch's
    `nn.modules.<file>` import paths), which re-exports this package's names and so comes after it
    (importing it here would be an import cycle)."""
    if name in ("parallel", "modules"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
