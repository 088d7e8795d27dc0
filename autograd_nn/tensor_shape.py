"""Reshaping, transposing and indexing as Tensor methods."""
from __future__ import annotations

from typing import Any

from .ops import movement as mv
from .shapes import normalize_axis, shape_arg

__all__: list[str] = []  # module-level functions (autograd_nn.<name>) defined below the mixin


class ShapeMixin:
    __slots__ = ()

    def reshape(self, *shape: Any) -> Any:
        shape = shape_arg("reshape", shape)
        if shape == self.shape:
            return self
        return mv.Reshape.apply(self, shape=shape)

    view = reshape

    def permute(self, *dims: Any) -> Any:
        dims = tuple(normalize_axis(d, self.ndim, "permute") for d in shape_arg("permute", dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dims")
        return mv.Permute.apply(self, axes=dims)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Any:
        """Swap two dims (PyTorch semantics). Called with a tuple, permutes like NumPy."""
        if isinstance(dim0, (tuple, list)):
            return self.permute(*dim0)
        axes = list(range(self.ndim))
        a, b = normalize_axis(dim0, self.ndim, "transpose"), normalize_axis(dim1, self.ndim, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return mv.Permute.apply(self, axes=tuple(axes))

    @property
    def T(self) -> Any:
        return self.permute(*reversed(range(self.ndim))) if self.ndim > 1 else self

    def expand(self, *shape: Any) -> Any:
        shape = shape_arg("expand", shape)
        lead = len(shape) - self.ndim
        shape = tuple(s if s != -1 else self.shape[i - lead] for i, s in enumerate(shape))
        if shape == self.shape:
            return self
        return mv.Expand.apply(self, shape=shape)
