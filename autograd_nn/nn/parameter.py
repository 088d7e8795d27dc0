"""Parameter: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .._tensor.convert import as_array


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is collected by `Module.parameters()`."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        arr = as_array(data, op="Parameter")
        super().__init__(arr, dtype=arr.dtype, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """Marks a tensor assigned to a Module as a buffer (PyTorch's `nn.Buffer`)."""

    __slots__ = ("persistent",)

    def __init__(self, data: Any, persistent: bool = True) -> None:
        arr = as_array(data, op="Buffer")
        super().__init__(arr, dtype=arr.dtype)
        self.persistent = persistent
