"""Distances between vectors (`pairwise_distance`, `cosine_similarity`, `cdist`, `pdist`, defined
in the tensor layer) and the triplet margin loss built on them."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor, distances
from .arguments import tensor_args
from .loss import _reduce, legacy_reduction

__all__ = ["pairwise_distance", "cosine_similarity", "cdist", "pdist", "triplet_margin_loss"]

# the functions of autograd_nn.* (which also take lists), with F's rule: Tensors only
pairwise_distance = tensor_args("x1", "x2")(distances.pairwise_distance)
cosine_similarity = tensor_args("x1", "x2")(distances.cosine_similarity)
cdist = tensor_args("x1", "x2")(distances.cdist)
pdist = tensor_args("input")(distances.pdist)


@tensor_args("anchor", "positive", "negative")
def triplet_margin_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with d the pairwise distance (`swap`: the smaller of
    d(a, n) and d(p, n))."""
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    loss = (d_pos - d_neg + margin).clamp_min(0.0)
    return _reduce("triplet_margin_loss", loss, legacy_reduction(size_average, reduce, reduction))
