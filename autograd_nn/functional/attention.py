"""F.scaled_dot_product_attention and F.multi_head_attention_forward, with PyTorch's signatures.

Masks follow PyTorch's two conventions:

* `scaled_dot_product_attention`: a bool `attn_mask` marks the positions that MAY be attended
  (True = attend); a float mask is added to the scores.
* `multi_head_attention_forward` (and `nn.MultiheadAttention`): bool `attn_mask` and
  `key_padding_mask` mark the positions that may NOT be attended (True = ignore); float masks are
  added to the scores.

Fully masked rows. A query row whose every score is -inf has no defined softmax (0/0). Like
PyTorch's `scaled_dot_product_attention` (its "safe softmax", since 2.5), such a row gets all-zero
attention weights, so its output is 0 and no NaN reaches the gradients of the other rows. The row
is detected from the masked scores, its scores are replaced by 0 before the softmax and its weights
by 0 after it, so the backward never sees -inf - (-inf). `multi_head_attention_forward` uses the
same rule on both of its paths; PyTorch gives zeros when need_weights=False but NaN when
need_weights=True, so only that NaN case differs from PyTorch.

Package-internal API (not in `__all__`, so not in `F`; `nn.MultiheadAttention` runs the same steps
as `multi_head_attention_forward` with them): `in_projection` (q, k, v from the packed or separate
weights), `causal_if_needed` (the causal mask for `is_causal`), `attend` (heads, masks, softmax,
dropout, merge).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor, cat, zeros
from ..errors import DTypeError, ShapeError
from .arguments import tensor_args
from .dropout import dropout
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _masked_softmax(scores: Tensor, mask: Tensor | None) -> Tensor:
    """softmax(scores + mask) over the last dim; a row with no finite score gets all-zero weights.

    `mask` is None or an additive float Tensor broadcastable to the scores.
    """
    if mask is not None:
        scores = scores + mask  # (..., L, S)
    dead = np.isneginf(scores._data).all(axis=-1, keepdims=True)  # (..., L, 1), a constant
    if not dead.any():
        return scores.softmax(-1)
    weights = scores.masked_fill(dead, 0.0).softmax(-1)  # finite everywhere
    return weights.masked_fill(dead, 0.0)


def _bool_to_additive(mask: Tensor, dtype: Any, allowed: bool) -> Tensor:
    """A bool mask as 0 / -inf in `dtype`; `allowed` says whether True means attend or ignore."""
    keep = mask._data if allowed else ~mask._data
    return as_tensor(np.where(keep, 0.0, -np.inf).astype(dtype))


@tensor_args("query", "key", "value", "attn_mask", same_dtype=("query", "key", "value"))
def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two dims, as in 'Attention is all you need'.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). `scale` defaults to
    1/sqrt(E). `attn_mask` is bool (True = attend) or float (added to the scores) and broadcasts to
    (..., L, S). `is_causal` masks key j > query i (top-left aligned, as PyTorch) and excludes
    `attn_mask`. `dropout_p` drops attention weights whenever it is > 0 (there is no training flag,
    as in PyTorch). With `enable_gqa`, key/value heads (dim -3) are shared by groups of query heads.
    Rows with no allowed key give zeros (see the module docstring).
    """
    op = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError(
            f"{op}: query, key and value need at least 2 dims, got {query.shape}, {key.shape}, {value.shape}"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"{op}: expected query (..., L, E), key (..., S, E), value (..., S, Ev); "
            f"got {query.shape}, {key.shape}, {value.shape}"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups, rest = divmod(query.shape[-3], key.shape[-3])
        if rest:
            raise ShapeError(
                f"{op}: {query.shape[-3]} query heads are not a multiple of {key.shape[-3]} key/value heads"
            )
        key = key.repeat_interleave(groups, dim=-3)  # (..., Hq, S, E)
        value = value.repeat_interleave(groups, dim=-3)  # (..., Hq, S, Ev)
    L, S = query.shape[-2], key.shape[-2]
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        mask = _bool_to_additive(as_tensor(np.tri(L, S, dtype=bool)), query.dtype, allowed=True)
    elif attn_mask is not None:
        if attn_mask.dtype.kind == "b":
            mask = _bool_to_additive(attn_mask, query.dtype, allowed=True)
        elif attn_mask.dtype.kind == "f":
            mask = attn_mask.astype(query.dtype)
        else:
            raise DTypeError(f"{op}: attn_mask must be bool or float, got {attn_mask.dtype}")
        try:
            np.broadcast_shapes(mask.shape, query.shape[:-2] + (L, S))
        except ValueError:
            raise ShapeError(
                f"{op}: attn_mask of shape {attn_mask.shape} does not broadcast to "
                f"the scores' shape {query.shape[:-2] + (L, S)}"
            ) from None
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ key.mT) * scale  # (..., L, S)
    weights = _masked_softmax(scores, mask)  # (..., L, S)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value  # (..., L, Ev)


# ---- multi-head attention ----------------------------------------------------------------------
def in_projection(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v.

    The weights are the three row blocks of `in_proj_weight` (3E, E), or the separate
    q/k/v_proj_weight when key and value have their own sizes (kdim, vdim).
    """
    if in_proj_weight is not None:
        w_q, w_k, w_v = in_proj_weight.chunk(3, 0)  # (E, E) each
    else:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3, 0)  # (E,) each
    if in_proj_weight is not None and query is key and key is value:
        qkv = linear(query, in_proj_weight, in_proj_bias)  # self-attention: one matmul, (L, N, 3E)
        return qkv.chunk(3, -1)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _canonical_mask(mask: Tensor | None, name: str, dtype: Any) -> Tensor | None:
    """A bool mask (True = ignore) as an additive 0 / -inf mask; a float mask as is."""
    if mask is None:
        return None
    if mask.dtype.kind == "b":
        return _bool_to_additive(mask, dtype, allowed=False)
    if mask.dtype.kind != "f":
        raise DTypeError(f"multi_head_attention: {name} must be bool or float, got {mask.dtype}")
    return mask.astype(dtype)


def _pad_key_column(mask: Tensor | None) -> Tensor | None:
    """Append one zero (attend) column to a mask's last dim, for an extra key position."""
    if mask is None:
        return None
    return cat([mask, zeros(*mask.shape[:-1], 1, dtype=mask.dtype)], -1)


def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    num_heads: int,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    key_padding_mask: Tensor | None,
    attn_mask: Tensor | None,
    need_weights: bool,
    average_attn_weights: bool,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Split projected q (L, N, E), k, v (S, N, E) into heads, attend, merge the heads.

    Returns the attention output (L, N, E) before the output projection, and the weights
    (N, L, S) averaged over heads, (N, heads, L, S) per head, or None.
    """
    L, N, E = q.shape
    hd = E // num_heads
    attn_mask = _canonical_mask(attn_mask, "attn_mask", q.dtype)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", q.dtype)
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, N, E)], 0)  # (S+1, N, E)
        v = cat([v, bias_v.expand(1, N, E)], 0)
        attn_mask, key_padding_mask = _pad_key_column(attn_mask), _pad_key_column(key_padding_mask)
    q = q.reshape(L, N * num_heads, hd).transpose(0, 1)  # (N*h, L, hd)
    k = static_k if static_k is not None else k.reshape(-1, N * num_heads, hd).transpose(0, 1)
    v = static_v if static_v is not None else v.reshape(-1, N * num_heads, hd).transpose(0, 1)
    if add_zero_attn:
        k = cat([k, zeros(N * num_heads, 1, hd, dtype=k.dtype)], 1)  # (N*h, S+1, hd)
        v = cat([v, zeros(N * num_heads, 1, hd, dtype=v.dtype)], 1)
        attn_mask, key_padding_mask = _pad_key_column(attn_mask), _pad_key_column(key_padding_mask)
    S = k.shape[1]
    if attn_mask is not None:
        if attn_mask.shape not in ((L, S), (N * num_heads, L, S)):
            raise ShapeError(
                f"MultiheadAttention: attn_mask of shape {attn_mask.shape} must be "
                f"({L}, {S}) or ({N * num_heads}, {L}, {S})"
            )
        attn_mask = attn_mask.reshape(-1, L, S)  # (1 or N*h, L, S)
    if key_padding_mask is not None:
        if key_padding_mask.shape != (N, S):
            raise ShapeError(
                f"MultiheadAttention: key_padding_mask of shape "
                f"{key_padding_mask.shape} must be (batch, source length) = "
                f"({N}, {S})"
            )
        kpm = key_padding_mask.reshape(N, 1, 1, S).expand(N, num_heads, 1, S)
        kpm = kpm.reshape(N * num_heads, 1, S)  # (N*h, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    scores = (q * (1.0 / math.sqrt(hd))) @ k.mT  # (N*h, L, S)
    weights = _masked_softmax(scores, attn_mask)  # (N*h, L, S)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    out = weights @ v  # (N*h, L, hd)
    out = out.transpose(0, 1).reshape(L, N, E)  # (L, N, E)
    if not need_weights:
        return out, None
    weights = weights.reshape(N, num_heads, L, S)
    return out, (weights.mean(1) if average_attn_weights else weights)


def causal_if_needed(attn_mask: Tensor | None, is_causal: bool, L: int, S: int) -> Tensor | None:
    """With is_causal and no mask, the (L, S) bool mask that hides future keys (True = ignore)."""
    if is_causal and attn_mask is None:
        return as_tensor(~np.tri(L, S, dtype=bool))
    return attn_mask


@tensor_args("query", "key", "value")
def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on sequence-first inputs: query (L, N, E), key/value (S, N, E_k/E_v),
    or unbatched (L, E). Returns (output (L, N, E), weights (N, L, S) or (N, heads, L, S) or None).

    Bool masks mean True = ignore. `is_causal` without `attn_mask` builds the causal mask (PyTorch
    requires the mask and treats the flag as a hint). Dropout on the weights only when training.
    """
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(
            f"multi_head_attention_forward: expected query, key, value of shape "
            f"(L, N, E) or unbatched (L, E); got {query.shape}, {key.shape}, "
            f"{value.shape}"
        )
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if query.shape[-1] != embed_dim_to_check or embed_dim_to_check % num_heads:
        raise ShapeError(
            f"multi_head_attention_forward: query shape {query.shape} does not match "
            f"embed_dim={embed_dim_to_check}, or it is not divisible by "
            f"num_heads={num_heads}"
        )
    attn_mask = causal_if_needed(attn_mask, is_causal, query.shape[0], key.shape[0])
    if use_separate_proj_weight:
        q, k, v = in_projection(
            query, key, value, None, in_proj_bias, q_proj_weight, k_proj_weight, v_proj_weight
        )
    else:
        q, k, v = in_projection(query, key, value, in_proj_weight, in_proj_bias)
    out, weights = attend(
        q,
        k,
        v,
        num_heads,
        bias_k,
        bias_v,
        add_zero_attn,
        dropout_p if training else 0.0,
        key_padding_mask,
        attn_mask,
        need_weights,
        average_attn_weights,
        static_k,
        static_v,
    )
    out = linear(out, out_proj_weight, out_proj_bias)  # (L, N, E)
    if not batched:
        out = out.squeeze(1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights
