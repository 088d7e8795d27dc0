"""Anomaly mode: stop at the first op that makes a NaN or Inf, and say which line of your code made it.

>>> with detect_anomaly():
...     loss = model(x).log().sum()      # AnomalyError: Log made -inf ... at train.py:12
...     loss.backward()                  # or: Sqrt's backward made an inf gradient ...

Inside the block, each op's forward output is checked for NaN/Inf that were not already in its
inputs, and each backward rule's gradients for NaN/Inf. The error names the op, whether forward or
backward, the module scope it ran in (when `Module` scopes are pushed) and the first line of code
outside autograd_nn that created it; that line is captured at forward time, only in anomaly mode.
NumPy's floating-point warnings are silenced inside the checked ops: the error replaces them.
Checking costs a pass over each output, so use it to debug, not to train. It checks the thread it
was entered in, and nests with `profile()` and `record_scopes()`.
"""

from __future__ import annotations

import functools
import linecache
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from .errors import AutogradError
from .function import Function, TensorBase
from .grad_mode import _state as _grad_state
from .scopes import StackedInstrument
from .scopes import _state as _scope_state

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class AnomalyError(AutogradError, RuntimeError):
    """An op produced NaN or Inf in anomaly mode. `op`, `phase` and `location` say where."""

    def __init__(self, message: str, op: str, phase: str, location: Location | None) -> None:
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.location = location


@dataclass(frozen=True)
class Location:
    """A line of user code: where an op was created."""

    filename: str
    lineno: int
    function: str

    @property
    def source(self) -> str:
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        text = f"{self.filename}:{self.lineno} in {self.function}"
        src = self.source
        return f"{text}\n    {src}" if src else text


def _user_location() -> Location | None:
    """The innermost stack frame whose code is not part of autograd_nn."""
    frame: Any = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "autograd_nn" and not module.startswith("autograd_nn."):
            return Location(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


def _count_bad(array: Any) -> str:
    """'2 nan, 1 -inf of 6 elements'; '' when every value is finite (or the array is not float)."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fc":
        return ""
    if np.isfinite(array).all():
        return ""
    nan = int(np.isnan(array).sum())
    pos = int(np.isposinf(array).sum())
    neg = int(np.isneginf(array).sum())
    parts = [f"{n} {what}" for n, what in ((nan, "nan"), (pos, "inf"), (neg, "-inf")) if n]
    return f"{', '.join(parts)} of {array.size} element{'s' if array.size != 1 else ''}"


def _array(x: Any) -> Any:
    return x._data if isinstance(x, TensorBase) else x


def _where(scope: tuple, location: Location | None) -> str:
    text = ""
    if scope:
        name, kind, _ = scope[-1]
        text += f"\nIt ran inside module {name or '<root>'} ({kind})."
    if location is None:
        return text + "\nIt was not created in anomaly mode, so its source line is unknown."
    return text + f"\nThe op was created at {location}"


class detect_anomaly(StackedInstrument):
    """Context manager (and decorator): raise `AnomalyError` at the first op making NaN/Inf.

    `check_nan=False` turns the checks off while keeping source lines, like PyTorch's flag.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._backward_of: list[Function] = []  # ops whose backward rule is running (create_graph)
        self._origins: weakref.WeakKeyDictionary[Function, tuple] = weakref.WeakKeyDictionary()

    def __enter__(self) -> detect_anomaly:
        super().__enter__()
        return self

    def __call__(self, func: F) -> F:
        check_nan = self.check_nan

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(check_nan):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def on_apply(self, cls: type, inputs: tuple, params: dict, run: Callable) -> Any:
        location = _user_location()
        scope = _scope_state.stack
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = run(cls, inputs, params)
        ctx = getattr(out, "_ctx", None)
        if ctx is not None:
            self._origins[ctx] = (location, scope)
        if not self.check_nan:
            return out
        bad = _count_bad(_array(out))
        if bad and not any(_count_bad(_array(t)) for t in inputs):
            if self._backward_of:  # an op of a differentiable backward rule (create_graph=True)
                outer = self._backward_of[-1]
                location, scope = self._origins.get(outer, (None, ()))
                raise AnomalyError(
                    f"anomaly: {outer.name} produced non-finite values in backward: {cls.__name__}, "
                    f"an op of its gradient formula, made {bad} from finite inputs."
                    f"{_where(scope, location)}",
                    outer.name,
                    "backward",
                    location,
                )
            raise AnomalyError(
                f"anomaly: {cls.__name__} produced non-finite values in its forward output ({bad}); "
                f"its inputs were all finite.{_where(scope, location)}",
                cls.__name__,
                "forward",
                location,
            )
        return out

    def on_backward(self, ctx: Function, g: Any, run: Callable) -> Any:
        self._backward_of.append(ctx)
        try:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                grads = run(g)
        finally:
            self._backward_of.pop()
        if not self.check_nan:
            return grads
        for slot, grad in enumerate(grads if type(grads) is tuple else (grads,)):
            bad = _count_bad(_array(grad))
            if not bad:
                continue
            location, scope = self._origins.get(ctx, (None, ()))
            incoming = _count_bad(_array(g))
            before = (
                f"the incoming gradient already had {incoming}"
                if incoming
                else "the incoming gradient was finite"
            )
            name = ctx.name
            raise AnomalyError(
                f"anomaly: {name} produced non-finite values in backward, in the gradient for its "
                f"input {slot} ({bad}); {before}.{_where(scope, location)}",
                name,
                "backward",
                location,
            )
        return grads


def is_anomaly_enabled() -> bool:
    """True inside a `detect_anomaly()` block (in this thread)."""
    inst = _grad_state.instrument
    if not isinstance(inst, StackedInstrument):
        return False
    return any(isinstance(i, detect_anomaly) and i.check_nan for i in inst.chain())
