"""Where a transformer looks: the attention weights of every `MultiheadAttention`, and their rollout.

Transformer layers call their attention with `need_weights=False` (the weights are not needed to
compute the output). `AttentionRecorder` registers forward hooks with kwargs on every
`MultiheadAttention` of a model that switch `need_weights` on (per head) for the call, keep a copy of
the weights and hand the caller back what it asked for, so the model computes exactly what it would
without the recorder.

`attention_rollout` (Abnar & Zuidema 2020) follows attention through the layers: each layer's
head-averaged weights, with the residual connection counted as attention to oneself
(0.5 * W + 0.5 * I, rows renormalised), multiplied from the first layer to the last. Row i says how
much of what token i holds at the top came from each input token.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import ShapeError
from ..grad_mode import no_grad
from ..nn import Module, MultiheadAttention
from ..nn.module import RemovableHandle

__all__ = ["AttentionRecorder", "attention_maps", "attention_rollout"]


class AttentionRecorder:
    """Records the per-head attention weights of every `MultiheadAttention` inside `model`.

        with AttentionRecorder(model) as recorder:
            model(x)
        recorder.maps  # {'encoder.layers.0.self_attn': (N, heads, L, S), ...}, in call order

    `maps` holds, for each attention module called, the weights of its most recent call as a
    Tensor outside the graph: (N, heads, L, S) for batched inputs, (heads, L, S) unbatched. The
    hooks are removed on exit.
    """

    def __init__(self, model: Module) -> None:
        self.model = model
        self.maps: OrderedDict[str, Tensor] = OrderedDict()
        self._handles: list[RemovableHandle] = []
        self._asked: dict[int, list[tuple[bool, bool]]] = {}  # caller's (need, average) per call

    def __enter__(self) -> AttentionRecorder:
        self.maps.clear()
        found = [(name, m) for name, m in self.model.named_modules() if isinstance(m, MultiheadAttention)]
        if not found:
            raise ValueError(
                f"AttentionRecorder: {type(self.model).__name__} has no MultiheadAttention module"
            )
        for name, module in found:
            self._handles.append(module.register_forward_pre_hook(self._before, with_kwargs=True))
            self._handles.append(module.register_forward_hook(self._after(name), with_kwargs=True))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._asked.clear()

    def _before(self, module: Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        bound = inspect.signature(module.forward).bind(*args, **kwargs)
        bound.apply_defaults()
        call = bound.arguments
        self._asked.setdefault(id(module), []).append((call["need_weights"], call["average_attn_weights"]))
        call["need_weights"], call["average_attn_weights"] = True, False
        return (), dict(call)

    def _after(self, name: str) -> Any:
        def hook(module: Module, args: tuple, kwargs: dict, output: tuple) -> tuple:
            need, average = self._asked[id(module)].pop()
            out, weights = output
            self.maps[name] = weights.detach()
            if not need:
                return out, None
            return out, (weights.mean(-3) if average else weights)

        return hook


def attention_maps(model: Module, *args: Any, **kwargs: Any) -> OrderedDict[str, Tensor]:
    """Run `model(*args, **kwargs)` once without recording a graph and return its attention maps
    (see `AttentionRecorder.maps`)."""
    with AttentionRecorder(model) as recorder, no_grad():
        model(*args, **kwargs)
    return recorder.maps


def attention_rollout(
    maps: Sequence[Any] | dict[str, Any], residual: bool = True, head_fusion: str = "mean"
) -> Tensor:
    """The attention rollout through layers given in order (first layer first), (N, L, L).

    Each map is (N, heads, L, L) or (N, L, L) self-attention weights (a dict, as returned by
    `attention_maps`, is taken in its order). Heads are fused by "mean", "max" or "min".
    `residual=True` counts the skip connection as attention to oneself, as Abnar & Zuidema do.
    """
    layers = list(maps.values()) if isinstance(maps, dict) else list(maps)
    if not layers:
        raise ValueError("attention_rollout: no attention maps given")
    fusions: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "max": np.max, "min": np.min}
    if head_fusion not in fusions:
        raise ValueError(
            f"attention_rollout: head_fusion must be 'mean', 'max' or 'min', got {head_fusion!r}"
        )
    fused: list[np.ndarray] = []
    for i, layer in enumerate(layers):
        w = np.asarray(layer.numpy() if isinstance(layer, Tensor) else layer, np.float64)
        w = fusions[head_fusion](w, axis=1) if w.ndim == 4 else w  # (N, L, L)
        first = fused[0].shape if fused else w.shape
        if w.ndim != 3 or w.shape[1] != w.shape[2] or w.shape != first:
            raise ShapeError(
                f"attention_rollout: layer {i} must be (N, heads, L, L) or (N, L, L) "
                f"self-attention weights like the layers before it, got shape "
                f"{np.shape(layer)}"
            )
        if residual:
            w = 0.5 * w + 0.5 * np.eye(w.shape[-1])
            w = w / w.sum(-1, keepdims=True)
        fused.append(w)
    rollout = fused[0]
    for w in fused[1:]:
        rollout = w @ rollout  # (N, L, L): the later layer mixes what the earlier ones gathered
    return as_tensor(rollout.astype(np.float32))
