"""Gradient clipping and flat-vector views of parameters (PyTorch's `torch.nn.utils`).

The clipping functions work on each parameter's `.grad` array in place, outside the graph, like an
optimizer step: they are called between `backward()` and `optimizer.step()`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor, cat
from ..errors import DTypeError, ShapeError
from . import packed_sequence as rnn  # PyTorch's torch.nn.utils.rnn

sys.modules[__name__ + ".rnn"] = rnn  # so `from autograd_nn.nn.utils.rnn import ...` works too

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]

Params = Tensor | Iterable[Tensor]


def _as_list(parameters: Params) -> list[Tensor]:
    """A single Tensor or an iterable of them, as a list (generators are consumed once)."""
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"expected an iterable of Tensors, element {i} is {type(p).__name__}")
    return params


def _vector_norm(x: np.ndarray, norm_type: float) -> np.ndarray:
    """The p-norm of the flattened array, in the array's dtype (what `torch.linalg.vector_norm` gives)."""
    flat = x.reshape(-1)
    if norm_type == math.inf:
        return np.max(np.abs(flat), initial=0.0).astype(x.dtype)
    if norm_type == -math.inf:
        if flat.size == 0:
            raise ShapeError("clip_grad_norm_: the -inf norm of an empty gradient is undefined")
        return np.min(np.abs(flat)).astype(x.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(flat), dtype=x.dtype)
    if norm_type == 2:
        return np.sqrt(np.dot(flat, flat)).astype(x.dtype)
    if norm_type == 1:
        return np.sum(np.abs(flat)).astype(x.dtype)
    return (np.sum(np.abs(flat) ** norm_type) ** (1.0 / norm_type)).astype(x.dtype)


def _float(op: str, name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}") from None


def get_total_norm(
    tensors: Params, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach: bool | None = None
) -> Tensor:
    """The norm of the norms of `tensors` (as if all were concatenated into one vector), a 0-d Tensor."""
    arrays = [t._data for t in _as_list(tensors)]
    norm_type = _float("get_total_norm", "norm_type", norm_type)
    if not arrays:
        return as_tensor(np.asarray(0.0, dtype=np.float32))
    dtype = np.result_type(*arrays)
    if dtype.kind != "f":
        raise DTypeError(f"get_total_norm: gradients must be floating point, got {dtype}")
    norms = np.stack([_vector_norm(a.astype(dtype, copy=False), norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
            "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
            "norm anyway, set `error_if_nonfinite=False`"
        )
    return as_tensor(np.asarray(total, dtype=dtype))


def clip_grad_norm_(
    parameters: Params,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their total `norm_type`-norm is at most `max_norm`.

    Returns the total norm *before* clipping, as a 0-d Tensor in the gradients' dtype (handy to log).
    The scale is `max_norm / (total + 1e-6)` clamped to 1, as in PyTorch; parameters whose grad is None
    are skipped. `foreach` is accepted for PyTorch compatibility and ignored.
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = _float("clip_grad_norm_", "max_norm", max_norm)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    dtype = total.dtype
    coef = np.asarray(max_norm, dtype=dtype) / (total._data + np.asarray(1e-6, dtype=dtype))
    coef = np.minimum(coef, np.asarray(1.0, dtype=dtype))
    if coef < 1.0 or not np.isfinite(coef):  # multiplying by exactly 1 would change nothing
        with np.errstate(invalid="ignore"):  # inf * 0 -> nan, as in PyTorch
            _scale_grads(grads, coef)
    return total


def _scale_grads(grads: list[Tensor], coef: np.ndarray) -> None:
    """Multiply every gradient by `coef` in place (or replace it when its array is read-only)."""
    for g in grads:
        with g._inplace("clip_grad_norm_", check=False) as arr:
            if arr.flags.writeable:
                np.multiply(arr, coef, out=arr, casting="unsafe")
            else:
                g._data = (arr * coef).astype(arr.dtype)


def clip_grad_value_(parameters: Params, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = _float("clip_grad_value_", "clip_value", clip_value)
    for p in _as_list(parameters):
        if p.grad is None:
            continue
        grad = p.grad
        with grad._inplace("clip_grad_value_", check=False) as arr:
            if arr.flags.writeable:
                np.clip(arr, -clip_value, clip_value, out=arr)
            else:
                grad._data = np.clip(arr, -clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D Tensor (differentiable, like PyTorch)."""
    params = _as_list(parameters)
    if not params:
        raise ShapeError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters' values, in place.

    The parameters keep their arrays (so optimizers and tied weights still see them); the copy is made
    outside the graph, like an optimizer update.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ShapeError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    params = _as_list(parameters)
    total = sum(p._data.size for p in params)
    if vec.shape[0] != total:
        raise ShapeError(
            f"vector_to_parameters: vec has {vec.shape[0]} elements, the parameters have {total}"
        )
    offset = 0
    for p in params:
        n = p._data.size
        with p._inplace("vector_to_parameters", check=False) as data:  # outside the graph, as .data
            np.copyto(data, vec._data[offset : offset + n].reshape(data.shape), casting="same_kind")
        offset += n
