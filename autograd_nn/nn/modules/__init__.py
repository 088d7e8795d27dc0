"""`autograd_nn.nn.modules`: PyTorch's internal module paths that ported code imports from
(`from torch.nn.modules.module import Module`, `torch.nn.modules.loss._Loss`, ...).

Each `nn.modules.<name>` is registered as the library's own module that holds those classes
(`module` -> `nn.module`, `conv` -> `nn.conv`, `batchnorm` -> `nn.normalization`, `rnn` ->
`nn.recurrent`, ...), so the classes are the same objects under both paths.
"""

import importlib
import sys

from .. import *  # noqa: F403  (torch.nn.modules re-exports every layer, as PyTorch's does)

_ALIASES = {
    "module": "module",
    "linear": "linear",
    "conv": "conv",
    "activation": "activation",
    "loss": "loss",
    "container": "container",
    "batchnorm": "normalization",
    "normalization": "normalization",
    "instancenorm": "normalization",
    "dropout": "dropout",
    "pooling": "pooling",
    "rnn": "recurrent",
    "sparse": "sparse",
    "transformer": "transformer",
    "distance": "distance",
}
for _name, _target in _ALIASES.items():
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"autograd_nn.nn.{_target}")
del _name, _target
