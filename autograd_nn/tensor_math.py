"""Pointwise maths and activations as Tensor methods (one line each; the maths is in `ops/`)."""
from __future__ import annotations

from typing import Any

from .ops import elementwise as ew

__all__: list[str] = []  # module-level functions (autograd_nn.<name>) defined below the mixin


class MathMixin:
    __slots__ = ()

    def exp(self) -> Any:
        return ew.Exp.apply(self)

    def log(self) -> Any:
        return ew.Log.apply(self)
