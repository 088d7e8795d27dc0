"""F.* (indexing: pad, one_hot, embedding lookups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..errors import DTypeError, OpIndexError, ShapeError
from ..ops.index import GetItem, IndexAdd
from ..ops.pad import pad as _pad
from .arguments import tensor_args

__all__ = ["pad", "one_hot", "embedding"]


@tensor_args("input")
def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last dims of `input` (PyTorch's F.pad; see `autograd_nn.pad`)."""
    return _pad(input, pad, mode, value)


@tensor_args("tensor")
def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 tensor with a trailing dim of size num_classes, 1 at each value's position.

    num_classes=-1 takes the largest value plus one. Not differentiable (like PyTorch).
    """
    idx = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: expected an integer tensor, got {idx.dtype}")
    if num_classes == -1:
        if idx.size == 0:
            raise ShapeError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise OpIndexError(f"one_hot: class value {bad} is outside [0, {num_classes})")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out, False)


@tensor_args("input", "weight")
def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer tensor `input`.

    Output shape is input.shape + (dim,). Rows read at `padding_idx` get no gradient, as in PyTorch.
    """
    idx = np.asarray(input._data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be an integer tensor, got {idx.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, dim), got {weight.shape}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise OpIndexError(
            f"embedding: index {bad} is out of range for {n} embeddings (weight shape {weight.shape})"
        )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise OpIndexError(f"embedding: padding_idx {padding_idx} is out of range for {n} embeddings")
        padding_idx %= n
        if weight.requires_grad and (idx == padding_idx).any():
            keep = idx != padding_idx  # padding rows are constants: they get no gradient
            rows = GetItem.apply(weight, index=(idx[keep],), advanced=True)
            out = IndexAdd.apply(
                rows, index=np.nonzero(keep), advanced=True, shape=idx.shape + (weight.shape[1],)
            )
            pad_rows = np.where(keep[..., None], 0.0, weight._data[padding_idx]).astype(weight.dtype)
            return out + Tensor._make(pad_rows, False)
    return GetItem.apply(weight, index=(idx,), advanced=True)
