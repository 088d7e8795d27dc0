"""Reshaping, joining, indexing and einsum as Tensor methods and `autograd_nn.<name>` functions.

The methods are one-liners: the argument handling and the primitives live in `ops/movement.py`,
`ops/index.py`, `ops/join.py`, `ops/diag.py`, `ops/pad.py` and `ops/einsum.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import TensorBase
from ..ops import diag as dg
from ..ops import index as ix
from ..ops import join as jn
from ..ops import movement as mv
from ..ops import scatter as sc
from ..shapes import normalize_axis, pick, shape_arg


class ShapeMixin(TensorBase):
    __slots__ = ()

    # ---- views of the same elements -----------------------------------------------------------
    def reshape(self, *shape: Any) -> Any:
        """The same elements in a new shape; one size may be -1 (inferred)."""
        return mv.reshape(self, shape_arg("reshape", shape))

    def view(self, *shape: Any) -> Any:
        return mv.reshape(self, shape_arg("view", shape), "view")

    def view_as(self, other: Any) -> Any:
        return mv.reshape(self, other.shape, "view_as")

    def reshape_as(self, other: Any) -> Any:
        return mv.reshape(self, other.shape, "reshape_as")

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        return mv.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Any:
        return mv.unflatten(self, dim, sizes)

    def squeeze(self, dim: Any = None, *, axis: Any = None) -> Any:
        return mv.squeeze(self, pick("squeeze", dim, axis))

    def unsqueeze(self, dim: int) -> Any:
        return mv.unsqueeze(self, dim)

    def permute(self, *dims: Any) -> Any:
        return mv.permute(self, shape_arg("permute", dims))

    def transpose(self, dim0: Any = -2, dim1: int = -1) -> Any:
        """Swap two dims (PyTorch semantics). Called with a tuple, permutes like NumPy."""
        if isinstance(dim0, (tuple, list)):
            return self.permute(*dim0)
        return mv.swap(self, dim0, dim1)

    def swapaxes(self, axis0: int, axis1: int) -> Any:
        return mv.swap(self, axis0, axis1, "swapaxes")

    swapdims = swapaxes

    def movedim(self, source: Any, destination: Any) -> Any:
        return mv.movedim(self, source, destination)

    moveaxis = movedim

    @property
    def T(self) -> Any:
        """All dims reversed (a matrix transpose for 2-D tensors)."""
        return mv.permute(self, tuple(reversed(range(self.ndim)))) if self.ndim > 1 else self

    @property
    def mT(self) -> Any:
        """The last two dims swapped (a batch of matrix transposes)."""
        if self.ndim < 2:
            raise ShapeError(f"mT: expected a tensor with at least 2 dims, got shape {self.shape}")
        return mv.swap(self, -2, -1, "mT")

    def expand(self, *shape: Any) -> Any:
        """A broadcast view: size-1 dims grow, -1 keeps a size, new dims may be added in front."""
        return mv.expand(self, shape_arg("expand", shape))

    def expand_as(self, other: Any) -> Any:
        return mv.expand(self, other.shape, "expand_as")

    def broadcast_to(self, shape: Sequence[int]) -> Any:
        return mv.expand(self, shape_arg("broadcast_to", (shape,)), "broadcast_to")

    def contiguous(self) -> Any:
        """Returns self: arrays are made contiguous where an op needs it."""
        return self

    def clone(self) -> Any:
        """A copy that stays in the graph."""
        return mv.Clone.apply(self)

    # ---- copies and rearrangements ------------------------------------------------------------
    def repeat(self, *sizes: Any) -> Any:
        """Tile the tensor sizes[i] times along dim i (PyTorch's repeat, NumPy's tile)."""
        return mv.repeat(self, shape_arg("repeat", sizes))

    def tile(self, *dims: Any) -> Any:
        return mv.tile(self, shape_arg("tile", dims))

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> Any:
        """Repeat each element (or slice along dim) repeats[i] times, keeping their order."""
        input: Any = self
        if dim is None:
            input, dim = input.reshape(-1), 0
        d = normalize_axis(dim, input.ndim, "repeat_interleave")
        reps = np.asarray(repeats._data if isinstance(repeats, TensorBase) else repeats)
        if reps.dtype.kind not in "iu" or reps.ndim > 1:
            raise ShapeError(
                f"repeat_interleave: repeats must be an int or a 1-D integer tensor, got "
                f"{reps.dtype} of shape {reps.shape}"
            )
        n = input.shape[d] if input.ndim else 1
        if reps.ndim == 1 and reps.shape[0] not in (1, n):
            raise ShapeError(f"repeat_interleave: {reps.shape[0]} repeats for dim {d} of size {n}")
        if reps.size and reps.min() < 0:
            raise ShapeError("repeat_interleave: repeats must be non-negative")
        return input.index_select(d, np.repeat(np.arange(n), reps.reshape(-1)))

    def flip(self, *dims: Any) -> Any:
        return mv.flip(self, shape_arg("flip", dims))

    def roll(self, shifts: Any, dims: Any = None) -> Any:
        return mv.roll(self, shifts, dims)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        return jn.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        return jn.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        return jn.unbind(self, dim)

    def narrow(self, dim: int, start: int, length: int) -> Any:
        return jn.narrow(self, dim, start, length)

    # ---- indexing -----------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        """PyTorch indexing: ints, slices (positive steps), None, ..., integer/bool tensors."""
        return ix.getitem(self, index)

    def gather(self, dim: int, index: Any) -> Any:
        return ix.gather(self, dim, index)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Any:
        return ix.scatter_add(self, dim, index, src)

    def scatter(
        self, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: str | None = None
    ) -> Any:
        """A copy with `src` (a tensor, or the scalar `value`) written at `index` along `dim`:
        out[i][index[i][j]] = src[i][j] for dim=1 (where an index repeats, the last write wins)."""
        if (src is None) == (value is None):
            raise TypeError("scatter: give exactly one of src (a tensor or a scalar) and value")
        return sc.scatter(self, dim, index, src if value is None else value, reduce)

    def scatter_reduce(
        self, dim: int, index: Any, src: Any, reduce: str, *, include_self: bool = True
    ) -> Any:
        """A copy with every src value combined into its position along `dim` by `reduce`
        ('sum', 'prod', 'mean', 'amax', 'amin'); include_self=False leaves the old value out."""
        return sc.scatter_reduce(self, dim, index, src, reduce, include_self)

    def unfold(self, dimension: int, size: int, step: int) -> Any:
        """Every slice of length `size` along `dimension`, `step` apart, as a new last dim:
        dim `dimension` becomes the number of slices (torch.Tensor.unfold)."""
        return mv.unfold(self, dimension, size, step)

    def index_select(self, dim: int, index: Any) -> Any:
        return ix.index_select(self, dim, index)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Any:
        return ix.index_add(self, dim, index, source, alpha)

    def masked_fill(self, mask: Any, value: Any) -> Any:
        return ix.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Any:
        return ix.masked_select(self, mask)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Any:
        return ix.take_along_dim(self, indices, dim)

    def tril(self, diagonal: int = 0) -> Any:
        return dg.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Any:
        return dg.triu(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        return dg.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal: int = 0) -> Any:
        return dg.diag(self, diagonal)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
        return dg.diag_embed(self, offset, dim1, dim2)

    def trace(self) -> Any:
        return dg.trace(self)
