"""Reductions as Tensor methods. PyTorch's `dim`/`keepdim` and NumPy's `axis`/`keepdims` both work."""
from __future__ import annotations

from typing import Any

from .ops import reduce as red
from .shapes import normalize_axes, pick

__all__: list[str] = []  # module-level functions (autograd_nn.<name>) defined below the mixin


class ReduceMixin:
    __slots__ = ()

    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        axes = normalize_axes(pick("sum", dim, axis), self.ndim, "sum")
        keep = keepdim if keepdims is None else keepdims
        return red.Sum.apply(self, axis=axes, keepdims=keep)
