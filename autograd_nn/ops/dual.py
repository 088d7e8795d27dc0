"""Functions that work on ndarrays and on Tensors alike, for backward rules.

A first-order backward runs on plain arrays (fast, no graph); under `create_graph=True` the same rule
runs on Tensors and records a graph. Operators (`+ * / @`, comparisons) and the methods both types
share (`sum(axis=, keepdims=)`, `reshape`, `transpose`, `swapaxes`, `astype`) need no help; the
functions here cover the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import TensorBase
from .gemm import matmul_any


def is_tensor(x: Any) -> bool:
    return isinstance(x, TensorBase)


def exp(x: Any) -> Any:
    return x.exp() if is_tensor(x) else np.exp(x)


def log(x: Any) -> Any:
    return x.log() if is_tensor(x) else np.log(x)


def sqrt(x: Any) -> Any:
    return x.sqrt() if is_tensor(x) else np.sqrt(x)


def sign(x: Any) -> Any:
    return x.sign() if is_tensor(x) else np.sign(x)


def tanh(x: Any) -> Any:
    return x.tanh() if is_tensor(x) else np.tanh(x)


def sigmoid(x: Any) -> Any:
    if is_tensor(x):
        return x.sigmoid()
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def cos(x: Any) -> Any:
    return x.cos() if is_tensor(x) else np.cos(x)


def sin(x: Any) -> Any:
    return x.sin() if is_tensor(x) else np.sin(x)


def where(cond: Any, a: Any, b: Any) -> Any:
    """`cond` is a constant mask (array); `a`/`b` may be Tensors, arrays or scalars."""
    if is_tensor(a) or is_tensor(b):
        from .elementwise import Where  # elementwise imports this module

        ref = a if is_tensor(a) else b
        a, b = (
            x if is_tensor(x) else ref._make(np.asarray(x, dtype=g.dtype), False) for x, g in ((a, b), (b, a))
        )
        return Where.apply(ref._make(np.asarray(cond._data if is_tensor(cond) else cond), False), a, b)
    return np.where(cond, a, b)


def zeros_like(x: Any) -> Any:
    return x._make(np.zeros(x.shape, x.dtype), False) if is_tensor(x) else np.zeros_like(x)


def broadcast_to(x: Any, shape: tuple) -> Any:
    return x.expand(*shape) if is_tensor(x) else np.broadcast_to(x, shape)


def swapaxes(x: Any, a: int, b: int) -> Any:
    return x.transpose(a, b) if is_tensor(x) else np.swapaxes(x, a, b)


def matmul(a: Any, b: Any) -> Any:
    """a @ b; two arrays are multiplied over the thread pool when large (`ops/gemm.py`)."""
    return matmul_any(a, b)
