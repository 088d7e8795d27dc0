"""Grad mode: whether operations record the graph.

The flag is thread-local, so `no_grad()` in one thread never switches off recording in another.
`no_grad`, `enable_grad` and `set_grad_enabled` are context managers and decorators that restore the
previous mode on exit, even when an exception escapes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    enabled = True
    # observes ops in this thread (profiler, anomaly mode): a `function.Instrument`, typed where the
    # engine reads it (this module sits below the engine)
    instrument: Any = None


_state = _GradState()


def is_grad_enabled() -> bool:
    """True when new operations record the graph (in this thread)."""
    return _state.enabled


class _GradMode:
    """Sets grad mode on enter, restores the previous mode on exit; also usable as a decorator."""

    mode: bool

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_state.enabled)
        _state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _state.enabled
            _state.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _state.enabled = previous

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Operations inside record no graph: for evaluation and parameter updates."""

    mode = False


class enable_grad(_GradMode):
    """Turns recording back on inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Sets the mode now (usable as a plain call), and restores the previous one when used with `with`."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._previous.append(_state.enabled)
        _state.enabled = self.mode

    def __enter__(self) -> None:  # the mode was already set by __init__
        pass

    def __call__(self, func: F) -> F:
        _state.enabled = self._previous.pop()  # decorating must not change the mode now
        return super().__call__(func)
