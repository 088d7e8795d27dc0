"""The tensor layer: `Tensor`, its factories, and the `autograd_nn.<name>(...)` function forms.

It sits above `ops/` (the primitives) and below `functional/` and `nn/`. The package is named
`_tensor` because `autograd_nn.tensor` is the factory function, as in PyTorch.
"""

from . import functions
from .factories import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones, ones_like,
    rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from .functions import *  # noqa: F403  (one list of names: functions.__all__)
from .reductions import return_types
from .tensor import Tensor

__all__ = [
    "Tensor", "return_types",
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like", "linspace", "ones",
    "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "randperm", "tensor", "zeros",
    "zeros_like",
    *functions.__all__,
]
