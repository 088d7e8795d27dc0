"""Argument normalisation shared by Tensor methods: axes, shapes, PyTorch/NumPy keyword aliases."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from .errors import OpIndexError, ShapeError


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    """A single axis as a non-negative int; a clear error when out of range."""
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(axis).__name__}")
    n = max(ndim, 1)
    if not -n <= axis < n:
        raise OpIndexError(f"{op}: dim {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % n


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple | None:
    """None (all axes) or a sorted tuple of distinct non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, int):
        axis = (axis,)
    axes = tuple(sorted({normalize_axis(a, ndim, op) for a in axis}))
    if len(axes) != len(tuple(axis)):
        raise ShapeError(f"{op}: dim {tuple(axis)} repeats an axis")
    return axes if ndim > 0 else None


def pick(op: str, dim: Any, axis: Any, default: Any = None) -> Any:
    """PyTorch's `dim` or NumPy's `axis`: whichever was given (not both)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: give dim or axis, not both")
        return axis
    return default if dim is None else dim


def shape_arg(op: str, args: Sequence[Any]) -> tuple:
    """Accept both f(2, 3) and f((2, 3)) / f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    try:
        return tuple(operator.index(s) for s in args)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: sizes must be ints, got {args!r}") from None
