"""Argument checks shared by the F.* functions (and the layers built on them), as PyTorch's.

PyTorch's functions take Tensors, not lists or arrays: `F.relu([1.0])` raises
``TypeError: relu(): argument 'input' (position 1) must be Tensor, not list``, and a layer whose
parameters are float32 refuses a float64 input (``RuntimeError: mat1 and mat2 must have the same
dtype``) rather than quietly computing in float64. The checks are written once, here:

    @tensor_args("input", "weight", "bias", same_dtype=True)
    def linear(input, weight, bias=None): ...

`tensor_args` checks the named arguments on every call (a parameter whose default is None may be
None) and, with `same_dtype`, that they all share one dtype. Layers that look at their input before
calling an F function use `require_tensor` / `require_same_dtype` directly.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from .._tensor import Tensor
from ..errors import DTypeError

__all__ = ["require_same_dtype", "require_tensor", "tensor_args"]

Fn = TypeVar("Fn", bound=Callable[..., Any])
_MISSING = object()


def require_tensor(op: str, name: str, value: Any, position: int | None = None) -> Tensor:
    """`value` itself if it is a Tensor, else PyTorch's TypeError naming `op` and the argument."""
    if isinstance(value, Tensor):
        return value
    where = f" (position {position})" if position is not None else ""
    kind = (
        type(value).__name__
        if type(value).__module__ == "builtins"
        else f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    )
    hint = (
        " (wrap it: autograd_nn.tensor(...))"
        if isinstance(value, (list, tuple)) or kind == "numpy.ndarray"
        else ""
    )
    raise TypeError(f"{op}(): argument '{name}'{where} must be Tensor, not {kind}{hint}")


def require_same_dtype(op: str, **tensors: Tensor | None) -> None:
    """DTypeError (a RuntimeError, as PyTorch's) unless the given tensors share one dtype.

    PyTorch: "mat1 and mat2 must have the same dtype, but got Double and Float". An input is never
    converted to a layer's dtype behind the user's back: convert it (`x.float()`) or the layer
    (`layer.double()`)."""
    given = {name: t for name, t in tensors.items() if t is not None}
    dtypes = {t.dtype for t in given.values()}
    if len(dtypes) > 1:
        listed = ", ".join(f"{name} {t.dtype}" for name, t in given.items())
        raise DTypeError(
            f"{op}(): expected tensors of one dtype, got {listed}; convert the "
            "input (e.g. x.float()) or the module (e.g. module.double())"
        )


def tensor_args(*names: str, same_dtype: bool | tuple[str, ...] = False) -> Callable[[Fn], Fn]:
    """Decorator: the arguments `names` of an F function must be Tensors; those annotated as
    optional (`Tensor | None`) may also be None. `same_dtype=True` requires all of them to share
    one dtype, a tuple of names only those. The positions are worked out once, so a call costs a
    few comparisons (about a microsecond)."""

    def decorate(fn: Fn) -> Fn:
        params = inspect.signature(fn).parameters
        order = list(params)
        matched = names if same_dtype is True else tuple(same_dtype or ())
        slots = [
            (
                name,
                order.index(name),
                params[name].default is None or "None" in str(params[name].annotation),
                name in matched,
            )
            for name in names
        ]
        op = fn.__name__

        def mixed(args: tuple, kwargs: dict) -> None:
            given = {
                name: args[i] if i < len(args) else kwargs.get(name) for name, i, _, match in slots if match
            }
            require_same_dtype(op, **given)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            dtype = None
            for name, index, optional, match in slots:
                value = args[index] if index < len(args) else kwargs.get(name, _MISSING)
                if value is _MISSING or (value is None and optional):
                    continue
                if not isinstance(value, Tensor):
                    require_tensor(op, name, value, index + 1)  # raises
                if match:
                    if dtype is None:
                        dtype = value._data.dtype
                    elif value._data.dtype != dtype:
                        mixed(args, kwargs)  # raises, naming every dtype
            return fn(*args, **kwargs)

        checked.__tensor_args__ = names  # type: ignore[attr-defined]  # read by the tests
        return checked  # type: ignore[return-value]

    return decorate
