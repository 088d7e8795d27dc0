"""Variable-length sequences for the recurrent layers (PyTorch's `torch.nn.utils.rnn`):
`pad_sequence`, `pack_padded_sequence`, `pad_packed_sequence`, `pack_sequence` and `PackedSequence`.

A PackedSequence holds the sequences time-major and interleaved as PyTorch lays them out: `data`
(sum(lengths), *) with, for each step t, the rows of the sequences longer than t (longest first);
`batch_sizes[t]` counts them; `sorted_indices` / `unsorted_indices` map between the caller's batch
order and the longest-first order. Packing and unpacking are gathers and scatters, so gradients flow
through them. `RNN`/`LSTM`/`GRU` accept a PackedSequence: each sequence stops at its own length (its
final state is the one at its last step; the reverse direction starts at its last step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._tensor import Tensor, as_tensor, cat, stack
from ..errors import ShapeError
from ..function import TensorBase
from ..ops.index import IndexAdd

__all__ = [
    "PackedSequence",
    "pad_sequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]


class PackedSequence(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    @property
    def is_cuda(self) -> bool:
        return False


def _lengths(lengths: Any) -> np.ndarray:
    arr = np.asarray(lengths._data if isinstance(lengths, TensorBase) else lengths).astype(np.int64)
    if arr.ndim != 1:
        raise ShapeError(f"pack_padded_sequence: lengths must be 1-D, got shape {arr.shape}")
    if arr.size and arr.min() <= 0:
        raise ShapeError(
            "pack_padded_sequence: every length must be positive (an empty sequence cannot be packed)"
        )
    return arr


def packed_positions(sorted_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, batch) index of every row of the packed data, and batch_sizes, for lengths sorted
    longest first."""
    steps = int(sorted_lengths[0]) if sorted_lengths.size else 0
    batch_sizes = np.array([(sorted_lengths > t).sum() for t in range(steps)], dtype=np.int64)
    t_idx = np.repeat(np.arange(steps), batch_sizes)
    b_idx = np.concatenate([np.arange(n) for n in batch_sizes]) if steps else np.zeros(0, np.int64)
    return t_idx, b_idx, batch_sizes


def pack_padded_sequence(
    input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences with the given lengths."""
    lens = _lengths(lengths)
    x = input.transpose(0, 1) if batch_first else input  # (T, B, *)
    if lens.shape[0] != x.shape[1]:
        raise ShapeError(f"pack_padded_sequence: {lens.shape[0]} lengths for a batch of {x.shape[1]}")
    if lens.size and lens.max() > x.shape[0]:
        raise ShapeError(
            f"pack_padded_sequence: a length ({lens.max()}) exceeds the padded length {x.shape[0]}"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ShapeError(
                "pack_padded_sequence: `lengths` array must be sorted in decreasing order "
                "when `enforce_sorted` is True (pass enforce_sorted=False to sort here)"
            )
        sorted_idx = unsorted_idx = None
        order = np.arange(lens.size)
    else:
        order = np.argsort(-lens, kind="stable")
        x = x.index_select(1, order)
        sorted_idx = as_tensor(order.astype(np.int64))
        unsorted_idx = as_tensor(np.argsort(order).astype(np.int64))
    t_idx, b_idx, batch_sizes = packed_positions(lens[order])
    return PackedSequence(x[t_idx, b_idx], as_tensor(batch_sizes), sorted_idx, unsorted_idx)


def padded_from_packed(
    sequence: PackedSequence, total_length: int | None = None, padding_value: float = 0.0
) -> tuple[Tensor, np.ndarray]:
    """The packed rows scattered back to (T, B, *), longest first, and the sorted lengths."""
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    steps = batch_sizes.shape[0]
    batch = int(batch_sizes[0]) if steps else 0
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], dtype=np.int64)
    t_idx, b_idx, _ = packed_positions(lengths)
    length = steps if total_length is None else int(total_length)
    if length < steps:
        raise ShapeError(
            f"pad_packed_sequence: total_length {length} is shorter than the longest sequence ({steps})"
        )
    data = sequence.data
    shape = (length, batch) + tuple(data.shape[1:])
    padded = IndexAdd.apply(data, index=(t_idx, b_idx), advanced=True, shape=shape)
    if padding_value != 0.0:
        fill = np.full(shape[:2], padding_value, dtype=data.dtype)
        fill[t_idx, b_idx] = 0.0
        padded = padded + as_tensor(fill.reshape(shape[:2] + (1,) * (len(shape) - 2)))
    return padded, lengths


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """(padded (T, B, *) or (B, T, *), lengths (B,)) in the caller's batch order."""
    padded, lengths = padded_from_packed(sequence, total_length, padding_value)
    if sequence.unsorted_indices is not None:
        order = np.asarray(sequence.unsorted_indices._data)
        padded = padded.index_select(1, order)
        lengths = lengths[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, as_tensor(lengths)


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences (L_i, *) into (max L, B, *) (or (B, max L, *)), padding with `padding_value`."""
    if not sequences:
        raise ShapeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    seqs = [s if isinstance(s, Tensor) else as_tensor(s) for s in sequences]
    trailing = {tuple(s.shape[1:]) for s in seqs}
    if len(trailing) > 1 or any(s.ndim == 0 for s in seqs):
        raise ShapeError(
            f"pad_sequence: sequences must share their trailing dims, got {[tuple(s.shape) for s in seqs]}"
        )
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        missing = longest - s.shape[0]
        if missing:
            block = as_tensor(np.full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype))
            s = cat([s, block], 0) if padding_side == "right" else cat([block, s], 0)
        padded.append(s)
    out = stack(padded, 1)  # (max L, B, *)
    return out.transpose(0, 1) if batch_first else out


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """pack_padded_sequence(pad_sequence(sequences), lengths)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list:
    """The sequences of a padded batch, each cut to its length."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, : int(n)] for i, n in enumerate(_lengths(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
