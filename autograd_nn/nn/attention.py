"""MultiheadAttention with PyTorch's parameter names, initialisation, masks and return convention.

Parameters: `in_proj_weight` (3E, E) and `in_proj_bias` (3E,) hold the query, key and value
projections stacked in that order; when key or value have their own sizes (kdim, vdim) the weights
are `q_proj_weight` (E, E), `k_proj_weight` (E, kdim), `v_proj_weight` (E, vdim) instead.
`out_proj` is a Linear(E, E), called as a module so it can be wrapped (e.g. by LoRA). Optional
`bias_k`, `bias_v` (1, 1, E) append one learned key/value position (add_bias_kv).
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor, empty
from ..devices import as_device
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from ..functional.attention import attend, causal_if_needed, in_projection
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Attention with `num_heads` parallel heads of size embed_dim // num_heads (Vaswani et al.).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None). Inputs are
    (L, N, E) (or (N, L, E) with batch_first, or unbatched (L, E)); bool masks mean True = ignore,
    float masks are added to the scores. A query row with every key masked gets zero weights
    (PyTorch returns NaN there when need_weights=True; see `functional/attention.py`).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive "
                f"multiple of num_heads ({num_heads})"
            )
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.bias_k: Parameter | None
        self.bias_v: Parameter | None
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's scheme: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            assert self.out_proj.bias is not None  # Linear(bias=bias) has one when in_proj_bias does
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None and self.bias_v is not None:  # both or neither (add_bias_kv)
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        for position, (arg, t) in enumerate((("query", query), ("key", key), ("value", value))):
            require_tensor("MultiheadAttention", arg, t, position + 1)
        shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"{name}: expected 3-D (batched) or 2-D (unbatched) inputs, got {shapes}")
        if (query.shape[-1], key.shape[-1], value.shape[-1]) != (self.embed_dim, self.kdim, self.vdim):
            raise ShapeError(
                f"{name}: feature sizes must be (embed_dim, kdim, vdim) = "
                f"({self.embed_dim}, {self.kdim}, {self.vdim}); got {shapes}"
            )
        if key.shape[:-1] != value.shape[:-1]:
            raise ShapeError(f"{name}: key and value must have the same length and batch; got {shapes}")

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        self._check(query, key, value)
        batched = query.ndim == 3
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            # transpose each distinct tensor once, so self-attention keeps query is key is value
            q_t = query.transpose(0, 1)  # (L, N, E)
            k_t = q_t if key is query else key.transpose(0, 1)  # (S, N, kdim)
            v_t = k_t if value is key else value.transpose(0, 1)  # (S, N, vdim)
            query, key, value = q_t, k_t, v_t
        attn_mask = causal_if_needed(attn_mask, is_causal, query.shape[0], key.shape[0])
        q, k, v = in_projection(
            query,
            key,
            value,
            self.in_proj_weight,
            self.in_proj_bias,
            self.q_proj_weight,
            self.k_proj_weight,
            self.v_proj_weight,
        )
        out, weights = attend(
            q,
            k,
            v,
            self.num_heads,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout if self.training else 0.0,
            key_padding_mask,
            attn_mask,
            need_weights,
            average_attn_weights,
        )  # (L, N, E)
        out = self.out_proj(out)  # (L, N, E)
        if not batched:
            return out.squeeze(1), (weights.squeeze(0) if weights is not None else None)
        if self.batch_first:
            out = out.transpose(0, 1)  # (N, L, E)
        return out, weights

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}"
        )
