"""`checkpoint(function, *args)`: PyTorch's activation-checkpointing API.

PyTorch recomputes `function` during backward to save memory; the values and gradients are the same as
calling it directly, which is what this does (the memory saving is not implemented: the graph keeps the
activations, as without checkpointing). Scripts that wrap blocks in `checkpoint` run unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Any = None,
    determinism_check: str = "default",
    debug: bool = False,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """`function(*args, **kwargs)`: same outputs and gradients as PyTorch's checkpoint."""
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    return function(*args, **kwargs)


def checkpoint_sequential(
    functions: Any, segments: int, input: Any, use_reentrant: bool | None = None, **kwargs: Any
) -> Any:
    """Run a Sequential (or a list of modules) on `input`, as `checkpoint_sequential` computes it."""
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")
    for fn in functions.children() if hasattr(functions, "children") else functions:
        input = fn(input)
    return input
