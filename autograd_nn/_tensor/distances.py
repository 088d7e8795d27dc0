"""Distances and similarities between vectors, with PyTorch's names (`torch.cdist`,
`torch.pairwise_distance`, ...; also `F.*`): composites of Tensor ops, differentiable."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from .factories import as_tensor
from .tensor import Tensor

__all__ = ["pairwise_distance", "cosine_similarity", "cdist", "pdist"]


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last dim (PyTorch adds eps to the difference)."""
    a, b = as_tensor(x1), as_tensor(x2)
    return (a - b + eps).norm(p, dim=-1, keepdim=keepdim)


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along `dim`, broadcasting x1 and x2."""
    a, b = as_tensor(x1), as_tensor(x2)
    na = a.norm(2, dim=dim, keepdim=True).clamp_min(eps)
    nb = b.norm(2, dim=dim, keepdim=True).clamp_min(eps)
    return ((a / na) * (b / nb)).sum(dim)


def cdist(
    x1: Any, x2: Any, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
) -> Tensor:
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R)."""
    a, b = as_tensor(x1), as_tensor(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ShapeError(
            f"cdist: expects (..., P, M) and (..., R, M) with the same M, got shapes {a.shape} and {b.shape}"
        )
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p, dim=-1)


def pdist(input: Any, p: float = 2.0) -> Tensor:
    """The distances between every pair of rows i < j of an (N, M) input, as a flat vector."""
    x = as_tensor(input)
    if x.ndim != 2:
        raise ShapeError(f"pdist: expects a 2-D input, got shape {x.shape}")
    rows, cols = np.triu_indices(x.shape[0], 1)
    return (x[rows] - x[cols]).norm(p, dim=-1)
