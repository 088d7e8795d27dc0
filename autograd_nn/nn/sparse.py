"""Embedding: a lookup table of learnable vectors, one row per token id."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._tensor import Tensor, empty
from ..devices import as_device
from ..errors import DTypeError, ShapeError
from ..grad_mode import no_grad
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Maps integer ids of any shape (*) to vectors (*, embedding_dim).

    Weights start as N(0, 1) like PyTorch's. The row at `padding_idx` starts at zero and receives
    no gradient, so it stays a fixed "no token" vector. With `max_norm`, each row that is looked up is
    first rescaled in place to norm at most `max_norm` (PyTorch's `embedding_renorm_`).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        if scale_grad_by_freq or sparse:
            raise ValueError(
                "Embedding: scale_grad_by_freq and sparse gradients are not supported (gradients are dense)"
            )
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within "
                    f"[-{num_embeddings}, {num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(
                empty(num_embeddings, embedding_dim, dtype=dtype), requires_grad=not _freeze
            )
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                    f"({num_embeddings}, {embedding_dim})"
                )
            data = _weight._data if isinstance(_weight, Tensor) else np.asarray(_weight)
            self.weight = Parameter(np.array(data, copy=True), requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad(), self.weight._inplace("Embedding") as weight:
                weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding a copy of `embeddings` (2-D); frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise ShapeError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )

    def _renorm(self, ids: np.ndarray) -> None:
        """Rescale the rows that `ids` reads to norm <= max_norm, in place and outside the graph."""
        rows = np.unique(ids)
        w = self.weight._data
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=self.norm_type, axis=1)
        big = norms > self.max_norm
        if big.any():
            scale = self.max_norm / (norms[big] + 1e-7)
            with no_grad(), self.weight._inplace("Embedding(max_norm)") as w:
                w[rows[big]] *= scale[:, None].astype(w.dtype)

    def forward(self, ids: Any) -> Tensor:
        arr = ids._data if isinstance(ids, Tensor) else np.asarray(ids)
        if arr.dtype.kind not in "iu":
            raise DTypeError(
                f"Embedding({self.num_embeddings}, {self.embedding_dim}): ids must be "
                f"integers, got dtype {arr.dtype}"
            )
        in_range = arr.size and arr.min() >= 0 and arr.max() < self.num_embeddings
        if self.max_norm is not None and in_range:  # out-of-range ids: F.embedding says so
            self._renorm(arr)
        return F.embedding(ids, self.weight, self.padding_idx)  # (*ids.shape, embedding_dim)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s
