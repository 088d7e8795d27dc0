"""Recording one forward pass for export: every op call, and whole calls of the modules that are
exported as one ONNX node (the recurrent layers).

The engine links a graph only for ops whose inputs require gradients, and integer ops (token ids,
masks) never do. So instead of walking `Tensor._ctx`, the tracer is an `Instrument` (like the
profiler): it sees every `Function.apply` call, recorded or not, with its exact inputs and params,
and the module scope it ran in (it is a `record_scopes`, so modules push their names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import scopes
from .._tensor import Tensor


@dataclass
class OpCall:
    """One `Function.apply`: the op class, its input Tensors, its params, its output."""

    cls: type
    inputs: tuple
    params: dict
    output: Tensor
    scope: tuple  # ((qualified_name, class_name), ...), outermost first

    @property
    def name(self) -> str:
        return self.cls.__name__


@dataclass
class ModuleCall:
    """A whole call of a module exported as one unit: its Tensor inputs and outputs, flattened."""

    module: Any
    args: tuple
    output: Any
    scope: tuple
    inputs: tuple = field(default=())
    outputs: tuple = field(default=())

    @property
    def name(self) -> str:
        return type(self.module).__name__


def flatten(obj: Any) -> list:
    """The Tensors in a nest of tuples and lists, in order (None and other values skipped)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in flatten(item)]
    return []


class Tracer(scopes.record_scopes):
    """Context manager: records each op call (and each call of an `atomic` module) in order."""

    def __init__(self, atomic: Callable[[Any], bool]) -> None:
        self.calls: list[OpCall | ModuleCall] = []
        self._atomic = atomic
        self._inside = 0  # > 0 while an atomic module runs: its ops are not recorded
        self._handles: list = []

    def watch(self, model: Any) -> None:
        """Hook the atomic modules of `model` so their calls are recorded whole."""
        for module in model.modules():
            if self._atomic(module):
                self._handles.append(module.register_forward_pre_hook(self._enter))
                self._handles.append(module.register_forward_hook(self._leave))

    def unwatch(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _enter(self, module: Any, args: tuple) -> None:
        self._inside += 1

    def _leave(self, module: Any, args: tuple, output: Any) -> None:
        self._inside -= 1
        if self._inside == 0:
            call = ModuleCall(module, args, output, scopes.current_scope())
            call.inputs, call.outputs = tuple(flatten(args)), tuple(flatten(output))
            self.calls.append(call)

    def on_inplace(self, target: Any, result: Any) -> None:
        """An in-place op (`relu_`, `ReLU(inplace=True)`) made `result` and wrote it into `target`:
        later ops read `target`, so the call that made `result` is recorded as making `target`."""
        for call in reversed(self.calls):
            if isinstance(call, OpCall) and call.output is result:
                call.output = target
                return

    def on_apply(self, cls: type, inputs: tuple, params: dict, run: Callable) -> Any:
        out = run(cls, inputs, params)
        if not self._inside:
            self.calls.append(OpCall(cls, inputs, dict(params), out, scopes.current_scope()))
        return out
