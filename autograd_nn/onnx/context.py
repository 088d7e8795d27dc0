"""What an op's mapping sees while it writes ONNX nodes: the call (and its twin from the resized
trace), the ONNX names of its inputs, the shapes of everything as (main, resized) pairs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor
from .builder import ExportError, GraphBuilder, Pair
from .trace import ModuleCall, OpCall


def describe_scope(scope: tuple) -> str:
    if not scope:
        return "at the top level of forward"
    name, kind = scope[-1]
    return f"in module {name or '(root)'!r} ({kind})"


class OpContext:
    def __init__(
        self,
        g: GraphBuilder,
        call: OpCall | ModuleCall,
        twin: OpCall | ModuleCall | None,
        names: dict[int, str],
        arrays: dict[int, Tensor],
        leaf: Callable[[Tensor], str],
    ) -> None:
        self.g = g
        self.call = call
        self.twin = twin
        self._names = names  # id(Tensor) -> ONNX value name
        self._arrays = arrays  # id(ndarray) -> the Tensor whose data it is
        self.leaf = leaf  # the ONNX name of a parameter, buffer or constant (added on first use)

    # ---- naming and errors ---------------------------------------------------------------------
    @property
    def where(self) -> str:
        return f"op {self.call.name!r} {describe_scope(self.call.scope)}"

    def fail(self, message: str) -> ExportError:
        return ExportError(f"onnx.export: {self.where}: {message}")

    @property
    def hint(self) -> str:
        scope = self.call.scope
        prefix = scope[-1][0] if scope and scope[-1][0] else ""
        return f"{prefix}/{self.call.name}" if prefix else self.call.name

    # ---- inputs --------------------------------------------------------------------------------
    def value(self, t: Tensor) -> str:
        return self._names[id(t)]

    def input(self, i: int) -> str:
        return self.value(self.call.inputs[i])

    @property
    def params(self) -> dict:
        return self.call.params  # type: ignore[union-attr]

    @property
    def twin_params(self) -> dict:
        return self.twin.params if self.twin is not None else self.params  # type: ignore[union-attr]

    def array_value(self, arr: np.ndarray) -> str | None:
        """The ONNX name of the Tensor whose data `arr` is (an index taken from an input), if any."""
        t = self._arrays.get(id(arr))
        return self._names.get(id(t)) if t is not None else None

    # ---- shapes as (main, resized) pairs --------------------------------------------------------
    def pairs(self, t: Tensor) -> tuple[Pair, ...]:
        other = self._twin_of(t)
        return tuple(zip(t.shape, other.shape)) if other is not None else tuple((n, n) for n in t.shape)

    def _twin_of(self, t: Tensor) -> Tensor | None:
        if self.twin is None:
            return None
        if isinstance(self.call, OpCall):
            if t is self.call.output:
                return self.twin.output
            for mine, theirs in zip(self.call.inputs, self.twin.inputs):
                if t is mine:
                    return theirs
        else:
            assert isinstance(self.twin, ModuleCall)  # the twin is the same kind of call
            for mine, theirs in zip(
                self.call.inputs + self.call.outputs, self.twin.inputs + self.twin.outputs
            ):
                if t is mine:
                    return theirs
        return None

    def out_pairs(self) -> tuple[Pair, ...]:
        return self.pairs(self.call.output)

    def in_pairs(self, i: int = 0) -> tuple[Pair, ...]:
        return self.pairs(self.call.inputs[i])

    def local(self) -> list[tuple[str, tuple[Pair, ...]]]:
        return [(self.value(t), self.pairs(t)) for t in self.call.inputs if id(t) in self._names]

    def shape(self, pairs: Sequence[Pair], allow_infer: bool = False) -> str:
        return self.g.shape_of(pairs, self.local(), allow_infer, what=self.where)

    # ---- writing -------------------------------------------------------------------------------
    def op(self, op_type: str, inputs: Sequence[str], outputs: int = 1, **attrs: Any) -> Any:
        return self.g.op(op_type, inputs, outputs, hint=self.hint, **attrs)

    def const(self, array: Any, dtype: Any = None) -> str:
        return self.g.const(array, dtype, hint=f"{self.hint}/const")

    def scalar(self, value: float, like: Tensor | None = None) -> str:
        dtype = like.dtype if like is not None else self.call.inputs[0].dtype
        return self.g.scalar_like(value, dtype)

    def dtype(self, i: int = 0) -> np.dtype:
        return np.dtype(self.call.inputs[i].dtype)
