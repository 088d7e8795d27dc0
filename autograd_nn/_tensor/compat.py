"""Tensor methods ported code calls that belong to no other family: the legacy `new(...)`, memory-layout
queries (`is_contiguous`, `stride`, ...), `nonzero`, `addcmul`/`addcdiv`, `logit`, `diff`, `cross`,
`deg2rad`/`rad2deg`, `__contains__` (the `autograd_nn.<name>` forms are in `functions_porting.py`).

Arrays here are NumPy's, which the ops keep C-contiguous where it matters, so `is_contiguous()` reports
the array's own layout and `contiguous()` (in `shaping.py`) returns the tensor itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..function import TensorBase
from ..ops import join as jn
from ..shapes import normalize_axis
from .convert import as_array


class CompatMixin(TensorBase):
    __slots__ = ()

    def new(self, *args: Any, **kwargs: Any) -> Any:
        """PyTorch's legacy `x.new(...)`: the `Tensor(...)` constructor with this tensor's dtype
        (`x.new(2, 3)` zeros of that shape, `x.new([1, 2])` that data, `x.new()` empty)."""
        kwargs.pop("device", None)
        if not args:
            return self._make(np.zeros((0,), self.dtype), False)
        if len(args) > 1 or isinstance(args[0], (int, np.integer)):
            shape = tuple(int(a) for a in (args[0] if isinstance(args[0], (tuple, list)) else args))
            return self._make(np.zeros(shape, self.dtype), False)
        return self._make(np.array(as_array(args[0], self.dtype), copy=True), False)

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> Any:
        """Strides in elements (not bytes), as PyTorch counts them."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[normalize_axis(dim, self.ndim, "stride")]

    def storage_offset(self) -> int:
        return 0

    def nelement(self) -> int:
        return int(self._data.size)

    def ndimension(self) -> int:
        return int(self._data.ndim)

    def __contains__(self, element: Any) -> bool:
        value = element._data if isinstance(element, TensorBase) else element
        return bool(np.any(self._data == value))

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the non-zero elements: (n, ndim) int64, or a tuple of (n,) with as_tuple."""
        if self.ndim == 0:  # PyTorch: one row of zero indices if the value is non-zero
            count = int(self._data != 0)
            if as_tuple:
                return (self._make(np.zeros(count, np.int64), False),)
            return self._make(np.zeros((count, 0), np.int64), False)
        idx = np.nonzero(self._data)
        if as_tuple:
            return tuple(self._make(i.astype(np.int64), False) for i in idx)
        return self._make(np.stack(idx, axis=1).astype(np.int64).reshape(-1, self.ndim), False)

    def argwhere(self) -> Any:
        return self.nonzero()

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        """self + value * tensor1 * tensor2."""
        return self + tensor1 * tensor2 * value

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
        """self + value * tensor1 / tensor2."""
        return self + tensor1 / tensor2 * value

    def logit(self, eps: float | None = None) -> Any:
        """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
        x = self if self.dtype.kind == "f" else self.astype(dtypes.get_default_dtype())
        if eps is not None:
            x = x.clamp(eps, 1.0 - eps)
        return x.log() - (1.0 - x).log()

    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Any:
        """The n-th forward difference along `dim` (with optional tensors joined before/after)."""
        d = normalize_axis(dim, self.ndim, "diff")
        x: Any = self
        if prepend is not None or append is not None:
            parts = [p for p in (prepend, x, append) if p is not None]
            x = jn.cat(
                [
                    p if isinstance(p, TensorBase) else self._make(as_array(p, self.dtype), False)
                    for p in parts
                ],
                d,
            )
        for _ in range(int(n)):
            size = x.shape[d]
            x = x.narrow(d, 1, size - 1) - x.narrow(d, 0, size - 1)
        return x

    def cross(self, other: Any, dim: int | None = None) -> Any:
        """The cross product of 3-vectors along `dim` (the first dim of size 3 when None)."""
        if dim is None:
            dim = next((i for i, n in enumerate(self.shape) if n == 3), None)
            if dim is None:
                raise ShapeError(f"cross: no dimension of size 3 in shape {self.shape}")
        d = normalize_axis(dim, self.ndim, "cross")
        if self.shape[d] != 3 or other.shape[d] != 3:
            raise ShapeError(
                f"cross: dim {dim} must have size 3, got shapes {self.shape} and {tuple(other.shape)}"
            )
        a = [self.narrow(d, i, 1) for i in range(3)]
        b = [other.narrow(d, i, 1) for i in range(3)]
        return jn.cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)

    def deg2rad(self) -> Any:
        return self * (np.pi / 180.0)

    def rad2deg(self) -> Any:
        return self * (180.0 / np.pi)
