"""Module scopes: which module (if any) is running, so ops can be tagged with it for graph pictures.

`Module.__call__` pushes ``(qualified_name, class_name)`` onto a thread-local stack while the module's
forward runs (`push` / `pop`), and `scope(name, kind)` does the same for any block of user code.
`current_scope()` reads the stack, outermost module first.

Tagging costs nothing unless someone records: `record_scopes()` installs an instrument (see
`function.Instrument`) that notes, for each op created inside it, the scope it was created in;
`scope_tag(ctx)` reads that back. Pushes are cheap (one tuple concatenation), and a
caller on a hot path can skip them altogether when `is_recording()` is False::

    pushed = scopes.is_recording()
    if pushed:
        scopes.push(name, type(self).__name__)
    try:
        out = self.forward(*args)
    finally:
        if pushed:
            scopes.pop()

Each push also gets a call number, so two calls of the same module (an RNN cell unrolled over time)
are two scopes, not one. This file also holds `StackedInstrument`, the base that lets instruments
(profiler, anomaly mode, scope recording) be nested as context managers.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from .function import Function, Instrument
from .grad_mode import _state as _grad_state

ScopeEntry = tuple[str, str, int]  # (qualified_name, class_name, call number)

__all__ = [
    "StackedInstrument",
    "current_scope",
    "has_tags",
    "is_recording",
    "pop",
    "push",
    "record_scopes",
    "scope",
    "scope_tag",
]


class _ScopeState(threading.local):
    stack: tuple[ScopeEntry, ...] = ()
    recording = 0  # how many record_scopes() blocks are open in this thread


_state = _ScopeState()
_calls = itertools.count()
# Function (op) -> the scope stack when it was created. Keyed weakly: no graph is kept alive.
_tags: weakref.WeakKeyDictionary[Function, tuple[ScopeEntry, ...]] = weakref.WeakKeyDictionary()


# While recording: per scope, what ran inside it in order (op names and child scopes), including ops
# whose results were never used. Graph pictures compare module calls by this log, so the last of 20
# LSTM cell calls (whose c output nothing reads) still folds with the other 19.
_log: dict[tuple, list] = {}


def push(name: str, kind: str) -> None:
    """Enter a scope: `name` is the module's dotted name, `kind` its class name."""
    stack = _state.stack + ((name, kind, next(_calls)),)
    if _state.recording:
        _log.setdefault(_state.stack, []).append(stack)
    _state.stack = stack


def scope_log(key: tuple) -> list | None:
    """What ran in scope `key` while recording (op names and child scope keys), or None."""
    return _log.get(key)


def pop() -> None:
    """Leave the innermost scope."""
    stack = _state.stack
    if not stack:
        raise RuntimeError("scopes.pop(): no scope is open")
    _state.stack = stack[:-1]


def current_scope() -> tuple[tuple[str, str], ...]:
    """The open scopes as ``(qualified_name, class_name)`` pairs, outermost first; () outside any."""
    return tuple((name, kind) for name, kind, _ in _state.stack)


def is_recording() -> bool:
    """True inside `record_scopes()` (in this thread): only then are ops tagged with their scope."""
    return _state.recording > 0


class scope:
    """Context manager: ops created inside belong to a scope (a cluster in `draw_graph`).

    ``with scope("encoder.layers.0", "TransformerEncoderLayer"): ...`` is what `Module.__call__`
    does for a module; use it to group the ops of any block of code.
    """

    def __init__(self, name: str, kind: str = "") -> None:
        self.name = name
        self.kind = kind or name

    def __enter__(self) -> scope:
        push(self.name, self.kind)
        return self

    def __exit__(self, *exc: object) -> None:
        pop()


def scope_tag(ctx: Any) -> tuple[ScopeEntry, ...] | None:
    """The scope stack recorded for the op `ctx` (entries outermost first), or None if unrecorded."""
    try:
        return _tags.get(ctx)
    except TypeError:  # not weak-referenceable, so never recorded
        return None


class StackedInstrument(Instrument):
    """An `Instrument` used as a context manager; instruments entered inside one another all run.

    Entering installs it for the current thread; if another instrument is installed it is kept and
    chained: the one entered first is outermost, the one entered last sits nearest the op. Exiting
    restores the previous one. Subclasses override `on_apply` and `on_backward`, calling the `run`
    they are given exactly once.
    """

    _outer: Instrument | None = None
    _active = False

    def __enter__(self) -> Any:
        if self._active:
            raise RuntimeError(f"{type(self).__name__} is already active; create a new one to nest")
        self._outer = _grad_state.instrument
        self._active = True
        _grad_state.instrument = self
        return self

    def __exit__(self, *exc: object) -> None:
        if _grad_state.instrument is self:
            _grad_state.instrument = self._outer
        else:  # exited out of order: unlink self from the chain above it
            inner = _grad_state.instrument
            while isinstance(inner, StackedInstrument) and inner._outer is not self:
                inner = inner._outer
            if isinstance(inner, StackedInstrument):
                inner._outer = self._outer
        self._outer = None
        self._active = False

    def apply(self, cls: type, inputs: tuple, params: dict, run: Callable) -> Any:
        outer = self._outer
        if outer is None:
            return self.on_apply(cls, inputs, params, run)
        return outer.apply(cls, inputs, params, lambda c, i, p: self.on_apply(c, i, p, run))

    def backward(self, ctx: Function, g: Any, run: Callable) -> Any:
        outer = self._outer
        if outer is None:
            return self.on_backward(ctx, g, run)
        return outer.backward(ctx, g, lambda grad: self.on_backward(ctx, grad, run))

    def backward_pass(self, run: Callable) -> Any:
        outer = self._outer
        if outer is None:
            return self.on_backward_pass(run)
        return outer.backward_pass(lambda: self.on_backward_pass(run))

    def inplace(self, target: Any, result: Any) -> None:
        self.on_inplace(target, result)
        if self._outer is not None:
            self._outer.inplace(target, result)

    def on_inplace(self, target: Any, result: Any) -> None:
        """Observe an in-place op: `target` now holds `result`'s values (and is what later ops use)."""

    def on_backward_pass(self, run: Callable) -> Any:
        """Observe a whole backward pass: call ``run()`` and return its result."""
        return run()

    def on_apply(self, cls: type, inputs: tuple, params: dict, run: Callable) -> Any:
        """Observe one forward op: call ``run(cls, inputs, params)`` and return its result."""
        return run(cls, inputs, params)

    def on_backward(self, ctx: Function, g: Any, run: Callable) -> Any:
        """Observe one backward rule: call ``run(g)`` and return its result."""
        return run(g)

    def chain(self) -> Iterator[Instrument]:
        """This instrument and those it wraps, innermost (nearest the op) first."""
        inst: Instrument | None = self
        while inst is not None:
            yield inst
            inst = inst._outer if isinstance(inst, StackedInstrument) else None


class record_scopes(StackedInstrument):
    """Context manager: tag each op created inside with its module scope, for `draw_graph`.

    >>> with record_scopes():
    ...     loss = model(x).sum()
    >>> draw_graph(loss, params=model)      # ops clustered by module
    """

    def __enter__(self) -> record_scopes:
        super().__enter__()
        if not _state.recording:
            _log.clear()  # a new outermost recording: the previous one's log is no longer needed
        _state.recording += 1
        return self

    def __exit__(self, *exc: object) -> None:
        _state.recording -= 1
        super().__exit__(*exc)

    def on_apply(self, cls: type, inputs: tuple, params: dict, run: Callable) -> Any:
        out = run(cls, inputs, params)
        _log.setdefault(_state.stack, []).append(cls.__name__)
        ctx = getattr(out, "_ctx", None)
        if ctx is not None:
            _tags[ctx] = _state.stack
        return out


def has_tags() -> bool:
    """True if any op alive now was recorded by `record_scopes()`."""
    return len(_tags) > 0
