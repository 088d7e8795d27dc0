"""The tensor layer: `Tensor`, its factories, and the `autograd_nn.<name>(...)` function forms.

It sits above `ops/` (the primitives) and below `functional/` and `nn/`. The package is named
`_tensor` because `autograd_nn.tensor` is the factory function, as in PyTorch.
"""

from . import functions, functions_porting
from .factories import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .functions import *  # noqa: F403  (one list of names: functions.__all__)
from .functions_porting import *  # noqa: F403  (functions_porting.__all__)
from .legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Size,
    set_default_tensor_type,
)
from .reductions import return_types
from .tensor import Tensor

__all__ = [
    "Tensor",
    "return_types",
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "tensor",
    "zeros",
    "zeros_like",
    *functions.__all__,
    *functions_porting.__all__,
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "Size",
    "set_default_tensor_type",
]
