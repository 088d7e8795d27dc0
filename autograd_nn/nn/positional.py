"""Position information for attention models, which are otherwise blind to token order.

SinusoidalPositionalEncoding is the fixed encoding of 'Attention is all you need' (Sec. 3.5);
LearnedPositionalEmbedding is a trained table of one vector per position (BERT, GPT-2).
Both add to their input and take `batch_first` like the Transformer layers: (L, N, E) by default,
(N, L, E) with batch_first=True, or unbatched (L, E).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor, empty
from ..devices import as_device
from ..errors import ShapeError
from ..functional.arguments import require_same_dtype, require_tensor
from . import init
from .dropout import Dropout
from .module import Module
from .parameter import Parameter

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding"]


def _positions(
    name: str, x: Tensor, d_model: int, max_len: int, batch_first: bool, offset: int
) -> tuple[int, int]:
    """(sequence length, sequence dim) of `x`, after checking it fits the table."""
    require_tensor(name, "input", x, 1)
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(
            f"{name}: expected (L, N, {d_model}), (N, L, {d_model}) with "
            f"batch_first, or (L, {d_model}); got shape {x.shape}"
        )
    seq_dim = 1 if (batch_first and x.ndim == 3) else 0
    length = x.shape[seq_dim]
    if offset < 0 or offset + length > max_len:
        raise ShapeError(
            f"{name}: positions {offset}..{offset + length - 1} exceed max_len="
            f"{max_len} (input shape {x.shape})"
        )
    return length, seq_dim


def _broadcast(table: Tensor, x: Tensor, seq_dim: int) -> Tensor:
    """A (L, E) table shaped to add onto x: (L, 1, E) for (L, N, E), (1, L, E) for (N, L, E)."""
    if x.ndim == 2:
        return table
    return table.unsqueeze(0) if seq_dim == 1 else table.unsqueeze(1)


class SinusoidalPositionalEncoding(Module):
    """x + PE[offset:offset+L], then dropout, with PE(pos, 2i) = sin(pos / 10000^(2i/d_model)) and
    PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).

    The table `pe` (max_len, d_model) is a NON-persistent buffer: it is a fixed function of
    (max_len, d_model), so it is rebuilt on construction instead of being stored in state dicts
    (checkpoints stay small and load into a model built with a different max_len). Odd d_model
    is allowed (the last cosine column is dropped). It follows the module's dtype.
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.1,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        position = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
        div_term = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))  # (ceil(d/2),)
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(position * div_term)
        pe[:, 1::2] = np.cos(position * div_term[: d_model // 2])
        self.register_buffer("pe", as_tensor(pe.astype(dtype or np.float32)), persistent=False)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """x plus the encodings of positions offset, offset+1, ... (offset for cached decoding)."""
        length, seq_dim = _positions(
            type(self).__name__, x, self.d_model, self.max_len, self.batch_first, offset
        )
        table = self.pe[offset : offset + length]  # (L, E)
        if table.dtype != x.dtype:
            table = table.astype(x.dtype)
        return self.dropout(x + _broadcast(table, x, seq_dim))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """x + weight[offset:offset+L], with a trained `weight` (max_len, d_model).

    Initialised N(0, 0.02^2) as in GPT-2 and BERT, so at the start positions perturb the token
    embeddings only slightly.
    """

    def __init__(
        self, max_len: int, d_model: int, batch_first: bool = False, device: Any = None, dtype: Any = None
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self.max_len, self.d_model, self.batch_first = max_len, d_model, batch_first
        self.weight = Parameter(empty(max_len, d_model, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        length, seq_dim = _positions(
            type(self).__name__, x, self.d_model, self.max_len, self.batch_first, offset
        )
        require_same_dtype(type(self).__name__, input=x, weight=self.weight)
        return x + _broadcast(self.weight[offset : offset + length], x, seq_dim)  # (.., L, .., E)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}, batch_first={self.batch_first}"
