"""The Transformer of 'Attention is all you need' (Vaswani et al. 2017), as PyTorch lays it out.

Submodule and parameter names (self_attn, multihead_attn, linear1, linear2, norm1..norm3,
dropout1..dropout3, layers.{i}, encoder.norm, decoder.norm) match torch.nn, so state dicts load
across both ways. `norm_first=False` is the paper's post-norm (x = norm(x + sublayer(x)));
`norm_first=True` is the pre-norm variant (x = x + sublayer(norm(x))) most modern models use.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from ..random import get_rng_state, set_rng_state
from ..devices import as_device
from .. import functional as F
from ..errors import ShapeError
from .._tensor import Tensor, as_tensor
from ..functional.arguments import require_tensor
from . import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer"]

Activation = str | Callable[[Tensor], Tensor]


def _activation_fn(activation: Activation) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ValueError(f"Transformer: activation must be 'relu', 'gelu' or a callable, got "
                     f"{activation!r}")


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
        raise RuntimeError(f"_clone: rebuilt {type(module).__name__} has state {list(mine)}, "
                           f"the source {list(theirs)}")
    for key, target in mine.items():
        source = theirs[key]
        target._data = source._data.copy()
        target.requires_grad = source.requires_grad
    return clone.train(module.training)


def _check_d_model(name: str, d_model: int, **tensors: Tensor) -> None:
    for position, (arg, t) in enumerate(tensors.items()):
        require_tensor(name, arg, t, position + 1)
        if t.ndim not in (2, 3) or t.shape[-1] != d_model:
            raise ShapeError(f"{name}: {arg} must be (L, N, {d_model}), (N, L, {d_model}) with "
                             f"batch_first, or unbatched (L, {d_model}); got shape {t.shape}")


def _build_layer(layer: Module, blocks: int, config: dict) -> None:
    """The parts of an encoder (2 blocks) or decoder (3 blocks: + cross-attention) layer, assigned
    in PyTorch's order so parameter names and state_dict keys match it one to one."""
    c = config
    layer._config = config
    layer.d_model = c["d_model"]

    def attention() -> MultiheadAttention:
        return MultiheadAttention(c["d_model"], c["nhead"], dropout=c["dropout"], bias=c["bias"],
                                  batch_first=c["batch_first"], dtype=c["dtype"])

    layer.self_attn = attention()
    if blocks == 3:
        layer.multihead_attn = attention()
    layer.linear1 = Linear(c["d_model"], c["dim_feedforward"], bias=c["bias"], dtype=c["dtype"])
    layer.dropout = Dropout(c["dropout"])
    layer.linear2 = Linear(c["dim_feedforward"], c["d_model"], bias=c["bias"], dtype=c["dtype"])
    layer.norm_first = c["norm_first"]
    for i in range(1, blocks + 1):
        setattr(layer, f"norm{i}", LayerNorm(c["d_model"], eps=c["layer_norm_eps"], bias=c["bias"],
                                             dtype=c["dtype"]))
    for i in range(1, blocks + 1):
        setattr(layer, f"dropout{i}", Dropout(c["dropout"]))
    layer.activation = _activation_fn(c["activation"])


class TransformerEncoderLayer(Module):
    """Self-attention then a position-wise feed-forward net, each with residual and LayerNorm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        _build_layer(self, 2, dict(d_model=d_model, nhead=nhead,
                                         dim_feedforward=dim_feedforward, dropout=dropout,
                                         activation=activation, layer_norm_eps=layer_norm_eps,
                                         batch_first=batch_first, norm_first=norm_first, bias=bias,
                                         dtype=dtype))

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        _check_d_model("TransformerEncoderLayer", self.d_model, src=src)
        x = src  # (L, N, E) or (N, L, E)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))  # E -> F -> E
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Masked self-attention, cross-attention over the encoder's memory, then a feed-forward net."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        _build_layer(self, 3, dict(d_model=d_model, nhead=nhead,
                                         dim_feedforward=dim_feedforward, dropout=dropout,
                                         activation=activation, layer_norm_eps=layer_norm_eps,
                                         batch_first=batch_first, norm_first=norm_first, bias=bias,
                                         dtype=dtype))

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        _check_d_model("TransformerDecoderLayer", self.d_model, tgt=tgt, memory=memory)
        x = tgt  # (T, N, E) or (N, T, E)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Tensor | None,
                   key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal)[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))  # E -> F -> E
        return self.dropout3(x)


class TransformerEncoder(Module):
    """`num_layers` independent copies of `encoder_layer`, then an optional final norm.

    `enable_nested_tensor` and `mask_check` are accepted for PyTorch compatibility; there are no
    nested tensors here, so padded positions are always computed and masked.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([_clone(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """`num_layers` independent copies of `decoder_layer`, then an optional final norm."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList([_clone(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """Encoder-decoder Transformer; every weight matrix re-initialised Xavier-uniform (PyTorch)."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Activation = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        shared = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                      layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                      norm_first=norm_first, bias=bias, dtype=dtype)
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

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        _check_d_model("Transformer", self.d_model, src=src, tgt=tgt)
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise ShapeError(f"Transformer: src {src.shape} and tgt {tgt.shape} must have the same "
                             f"batch size (dim {batch_dim})")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)  # (S, N, E)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)  # (T, N, E)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = np.float32) -> Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees j <= i)."""
        return as_tensor(np.triu(np.full((sz, sz), -np.inf), 1).astype(dtype))
