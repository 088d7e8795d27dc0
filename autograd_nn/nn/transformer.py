"""The Transformer of 'Attention is all you need' (Vaswani et al. 2017), as PyTorch lays it out.

Submodule and parameter names (self_attn, multihead_attn, linear1, linear2, norm1..norm3,
dropout1..dropout3, layers.{i}, encoder.norm, decoder.norm) match torch.nn, so state dicts load
across both ways. `norm_first=False` is the paper's post-norm (x = norm(x + sublayer(x)));
`norm_first=True` is the pre-norm variant (x = x + sublayer(norm(x))) most modern models use.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import functional as F
from .._tensor import Tensor, as_tensor
from ..devices import as_device
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from ..random import get_rng_state, set_rng_state
from . import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = [
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
]

Activation = str | Callable[[Tensor], Tensor]


def _activation_fn(activation: Activation) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ValueError(f"Transformer: activation must be 'relu', 'gelu' or a callable, got {activation!r}")


def _clone(module: Module) -> Module:
    """An independent copy with the same configuration, weights, dtype, frozen flags and mode.

    Layers of this file are rebuilt from their constructor arguments and get the source's arrays
    copied in; any other module is deep-copied (as PyTorch does for all of them).
    """
    config = getattr(module, "_config", None)
    if config is None:
        return copy.deepcopy(module)
    # The rebuild's random initial values are overwritten below: put the random stream back where a
    # deep copy (PyTorch's way) leaves it, so a seeded script draws the same numbers afterwards.
    state = get_rng_state()
    clone = type(module)(**config)
    set_rng_state(state)
    mine = clone.state_dict(keep_vars=True)
    theirs = module.state_dict(keep_vars=True)
    if list(mine) != list(theirs):
        raise RuntimeError(
            f"_clone: rebuilt {type(module).__name__} has state {list(mine)}, the source {list(theirs)}"
        )
    for key, target in mine.items():
        source = theirs[key]
        target._data = source._data.copy()
        target.requires_grad = source.requires_grad
    return clone.train(module.training)


def _check_d_model(name: str, d_model: int, **tensors: Tensor) -> None:
    for position, (arg, t) in enumerate(tensors.items()):
        require_tensor(name, arg, t, position + 1)
        if t.ndim not in (2, 3) or t.shape[-1] != d_model:
            raise ShapeError(
                f"{name}: {arg} must be (L, N, {d_model}), (N, L, {d_model}) with "
                f"batch_first, or unbatched (L, {d_model}); got shape {t.shape}"
            )


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: the parts, built in PyTorch's order so parameter
    names and state_dict keys match it one to one, the self-attention and feed-forward blocks, and
    the residual wiring of each block (post-norm or pre-norm). An encoder layer has 2 blocks, a
    decoder layer 3 (cross-attention over the encoder's memory in the middle)."""

    _blocks: int  # 2 (encoder) or 3 (decoder)

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self._config = dict(
            d_model=d_model,
            nhead=nhead,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        self.d_model = d_model

        def attention() -> MultiheadAttention:
            return MultiheadAttention(
                d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
            )

        self.self_attn = attention()
        if self._blocks == 3:
            self.multihead_attn = attention()
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for i in range(1, self._blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for i in range(1, self._blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation_fn(activation)

    def _residual(self, x: Tensor, i: int, block: Callable[[Tensor], Tensor]) -> Tensor:
        """Block i (1-based) with its residual connection and norm{i}: x + block(norm(x)) with
        norm_first, else norm(x + block(x))."""
        norm = getattr(self, f"norm{i}")
        if self.norm_first:
            return x + block(norm(x))
        return norm(x + block(x))

    def _sa_block(
        self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))  # E -> F -> E
        return getattr(self, f"dropout{self._blocks}")(x)


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a position-wise feed-forward net, each with residual and LayerNorm."""

    _blocks = 2

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        _check_d_model("TransformerEncoderLayer", self.d_model, src=src)
        x = src  # (L, N, E) or (N, L, E)
        x = self._residual(x, 1, lambda h: self._sa_block(h, src_mask, src_key_padding_mask, is_causal))
        return self._residual(x, 2, self._ff_block)


class TransformerDecoderLayer(_TransformerLayer):
    """Masked self-attention, cross-attention over the encoder's memory, then a feed-forward net."""

    _blocks = 3

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        _check_d_model("TransformerDecoderLayer", self.d_model, tgt=tgt, memory=memory)
        x = tgt  # (T, N, E) or (N, T, E)
        x = self._residual(x, 1, lambda h: self._sa_block(h, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self._residual(
            x, 2, lambda h: self._mha_block(h, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        )
        return self._residual(x, 3, self._ff_block)

    def _mha_block(
        self,
        x: Tensor,
        mem: Tensor,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool,
    ) -> Tensor:
        x = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout2(x)


class _LayerStack(Module):
    """`num_layers` independent copies of `layer` (see `_clone`), then an optional final norm."""

    def __init__(self, layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList([_clone(layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def _final(self, x: Tensor) -> Tensor:
        return self.norm(x) if self.norm is not None else x


class TransformerEncoder(_LayerStack):
    """`num_layers` independent copies of `encoder_layer`, then an optional final norm.

    `enable_nested_tensor` and `mask_check` are accepted for PyTorch compatibility; there are no
    nested tensors here, so padded positions are always computed and masked.
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__(encoder_layer, num_layers, norm)

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self._final(x)


class TransformerDecoder(_LayerStack):
    """`num_layers` independent copies of `decoder_layer`, then an optional final norm."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__(decoder_layer, num_layers, norm)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return self._final(x)


class Transformer(Module):
    """Encoder-decoder Transformer; every weight matrix re-initialised Xavier-uniform (PyTorch)."""

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        shared = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, **shared)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, **shared)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, norm)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        _check_d_model("Transformer", self.d_model, src=src, tgt=tgt)
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise ShapeError(
                f"Transformer: src {src.shape} and tgt {tgt.shape} must have the same "
                f"batch size (dim {batch_dim})"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )  # (S, N, E)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )  # (T, N, E)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = np.float32) -> Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees j <= i)."""
        return as_tensor(np.triu(np.full((sz, sz), -np.inf), 1).astype(dtype))
