"""LoRA: low-rank adaptation of frozen Linear layers (Hu et al. 2021, arXiv:2106.09685).

A frozen weight W (out, in) is adapted as W + (alpha / r) * B @ A, with A (r, in) and B (out, r)
trained. B starts at zero, so an adapted model starts out computing exactly what the base model
does; only r * (in + out) numbers per layer are trained. `merge()` folds the update into W for
inference at the base layer's cost; `unmerge()` takes it out again to keep training.

Names follow PEFT where it helps: the wrapped layer is `base_layer`, the factors `lora_A` and
`lora_B` (plain Parameters here), the adapter-input dropout `lora_dropout`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from .._tensor import Tensor, empty, zeros
from ..devices import as_device
from ..grad_mode import no_grad
from . import init
from .dropout import Dropout
from .linear import Identity, Linear
from .module import Module
from .parameter import Parameter

__all__ = [
    "LoRALinear",
    "apply_lora",
    "merge_lora",
    "unmerge_lora",
    "count_parameters",
    "mark_only_lora_as_trainable",
]

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")


class LoRALinear(Module):
    """y = base_layer(x) + (dropout(x) @ A^T @ B^T) * alpha / r, with base_layer frozen.

    lora_A is Kaiming-uniform initialised (a=sqrt(5), as Linear weights), lora_B zeros. While
    merged, forward is base_layer(x) with the update inside its weight (A and B then get no
    gradient: unmerge before training again).
    """

    def __init__(
        self,
        base_layer: Linear,
        r: int = 8,
        alpha: float = 16,
        dropout: float = 0.0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        """`device`/`dtype` (PyTorch's factory keywords) place A and B; the dtype defaults to the
        base layer's."""
        as_device(device)
        super().__init__()
        if not isinstance(base_layer, Linear):
            raise TypeError(f"LoRALinear: base_layer must be a Linear, got {type(base_layer).__name__}")
        if r <= 0:
            raise ValueError(f"LoRALinear: rank r must be positive, got {r}")
        self.base_layer = base_layer.requires_grad_(False)
        self.r, self.lora_alpha = int(r), float(alpha)
        self.scaling = self.lora_alpha / self.r
        dtype = base_layer.weight.dtype if dtype is None else dtype
        self.lora_A = Parameter(empty(self.r, base_layer.in_features, dtype=dtype))
        self.lora_B = Parameter(zeros(base_layer.out_features, self.r, dtype=dtype))
        self.lora_dropout = Dropout(dropout) if dropout > 0.0 else Identity()
        self.merged = False
        self.reset_lora_parameters()

    def reset_lora_parameters(self) -> None:
        init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        init.zeros_(self.lora_B)

    # The wrapped layer's attributes, so code that reads `layer.weight` keeps working.
    @property
    def in_features(self) -> int:
        return self.base_layer.in_features

    @property
    def out_features(self) -> int:
        return self.base_layer.out_features

    @property
    def weight(self) -> Parameter:
        return self.base_layer.weight

    @property
    def bias(self) -> Parameter | None:
        return self.base_layer.bias

    def delta_weight(self) -> Tensor:
        """The update (alpha / r) * B @ A, shaped like the base weight (out, in)."""
        return (self.lora_B @ self.lora_A) * self.scaling  # (out, in)

    def forward(self, x: Tensor) -> Tensor:
        y = self.base_layer(x)  # (..., out)
        if self.merged:
            return y
        low = self.lora_dropout(x) @ self.lora_A.T  # (..., r)
        return y + (low @ self.lora_B.T) * self.scaling  # (..., out)

    def merge(self) -> None:
        """Fold the update into the base weight (no-op if already merged)."""
        if not self.merged:
            with no_grad():
                w = self.base_layer.weight
                with w._inplace("LoRA merge", check=False):
                    w._data = w._data + self.delta_weight()._data.astype(w.dtype)
            self.merged = True

    def unmerge(self) -> None:
        """Subtract the update from the base weight again (no-op if not merged)."""
        if self.merged:
            with no_grad():
                w = self.base_layer.weight
                with w._inplace("LoRA unmerge", check=False):
                    w._data = w._data - self.delta_weight()._data.astype(w.dtype)
            self.merged = False

    def extra_repr(self) -> str:
        return f"r={self.r}, lora_alpha={self.lora_alpha}, merged={self.merged}"


Target = Iterable[str] | Callable[[str, Module], bool]


def _matches(target: Target, name: str, module: Module) -> bool:
    """A name matches a target string equal to its full dotted name or to its last component."""
    if callable(target):
        return bool(target(name, module))
    return any(name == t or name.endswith("." + t) for t in target)


def apply_lora(
    model: Module,
    target_modules: Target = DEFAULT_TARGETS,
    r: int = 8,
    alpha: float = 16,
    dropout: float = 0.0,
) -> Module:
    """Freeze `model` and wrap each matching Linear in a LoRALinear, in place; returns `model`.

    `target_modules` is a sequence of names (a full dotted name, or a last component such as
    'q_proj' or 'out_proj' of a MultiheadAttention, 'linear1' of a Transformer layer) or a
    predicate `(dotted_name, module) -> bool`. Raises if nothing matched, which is usually a typo.
    Only submodules are replaced (never `model` itself). MultiheadAttention's fused in-projection
    (`in_proj_weight`) is a Parameter, not a Linear, so only its `out_proj` can be adapted.
    """
    _need_module("apply_lora", model)
    if isinstance(target_modules, str):
        target_modules = (target_modules,)
    model.requires_grad_(False)
    replaced = 0
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent._modules.items()):
            full = f"{parent_name}.{child_name}" if parent_name else child_name
            if (
                isinstance(child, Linear)
                and not isinstance(parent, LoRALinear)
                and _matches(target_modules, full, child)
            ):
                setattr(parent, child_name, LoRALinear(child, r=r, alpha=alpha, dropout=dropout))
                replaced += 1
    if replaced == 0:
        raise ValueError(
            f"apply_lora: no Linear submodule of {type(model).__name__} matched "
            f"target_modules={target_modules!r}"
        )
    return model


def _need_module(op: str, model: Any) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{op}: expected a Module, got {type(model).__name__}")


def _lora_layers(model: Module) -> list[LoRALinear]:
    return [m for m in model.modules() if isinstance(m, LoRALinear)]


def merge_lora(model: Module) -> Module:
    """Merge every LoRALinear of `model` (see LoRALinear.merge)."""
    _need_module("merge_lora", model)
    for m in _lora_layers(model):
        m.merge()
    return model


def unmerge_lora(model: Module) -> Module:
    """Unmerge every LoRALinear of `model` (see LoRALinear.unmerge)."""
    _need_module("unmerge_lora", model)
    for m in _lora_layers(model):
        m.unmerge()
    return model


def mark_only_lora_as_trainable(model: Module, bias: str = "none") -> Module:
    """Freeze everything but lora_A / lora_B; bias='all' or 'lora_only' also trains biases
    (all of them, or those of the adapted layers), as in loralib."""
    if bias not in ("none", "all", "lora_only"):
        raise ValueError(
            f"mark_only_lora_as_trainable: bias must be 'none', 'all' or 'lora_only', got {bias!r}"
        )
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        p.requires_grad_(leaf in ("lora_A", "lora_B") or (bias == "all" and leaf == "bias"))
    if bias == "lora_only":
        for m in _lora_layers(model):
            if m.bias is not None:
                m.bias.requires_grad_(True)
    return model


def count_parameters(model: Module) -> tuple[int, int]:
    """(trainable, total) number of parameter elements, each shared parameter counted once."""
    _need_module("count_parameters", model)
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
