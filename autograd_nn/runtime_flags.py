"""Process-wide switches that PyTorch scripts set at the top, under PyTorch's names.

- `use_deterministic_algorithms(True)`: every op here is deterministic for a fixed thread count, so
  the flag is recorded (and reported by `are_deterministic_algorithms_enabled`) and changes nothing.
- `set_float32_matmul_precision(...)`: float32 products always run in float32 (no TF32 here).
- `compile(model)`: returns `model` (or the function) unchanged; there is no compiler to run, and
  the result computes the same values.
- `set_num_interop_threads` / `get_num_interop_threads`: recorded only (there is one pool; the
  thread count itself is `threads.set_num_threads`).
- `inference_mode()`: `no_grad`.
"""

from __future__ import annotations

import functools
from typing import Any

from .grad_mode import _state as _grad_state

_flags: dict[str, bool | str | int] = {
    "deterministic": False,
    "warn_only": False,
    "matmul_precision": "highest",
    "interop": 1,
}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    _flags["deterministic"], _flags["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return bool(_flags["deterministic"])


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise ValueError(
            f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}"
        )
    _flags["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return str(_flags["matmul_precision"])


def compile(
    model: Any = None,
    *,
    fullgraph: bool = False,
    dynamic: Any = None,
    backend: Any = "inductor",
    mode: Any = None,
    options: Any = None,
    disable: bool = False,
) -> Any:
    """`model` itself (see the module docstring); `compile()` with only options is a decorator."""
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a function, got {type(model).__name__}")
    return model


def set_num_interop_threads(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive int, got {n!r}")
    _flags["interop"] = n


def get_num_interop_threads() -> int:
    return int(_flags["interop"])


class inference_mode:
    """`with inference_mode():` / `@inference_mode()`: PyTorch's faster `no_grad` for inference. Here
    it is `no_grad` (tensors made inside are ordinary tensors that record no graph);
    `inference_mode(False)` leaves the grad mode as it is."""

    def __init__(self, mode: bool = True) -> None:
        self._active = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_grad_state.enabled)
        if self._active:
            _grad_state.enabled = False

    def __exit__(self, *exc: object) -> None:
        _grad_state.enabled = self._previous.pop()

    def __call__(self, func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(self._active):
                return func(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    return False
