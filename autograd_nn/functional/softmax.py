"""F.softmax, F.log_softmax, F.softmin: PyTorch's signatures over the stable ops in `ops/softmax.py`.

As in PyTorch, leaving `dim` out picks it implicitly (0 for 0-, 1- and 3-d inputs, else 1) and warns,
because the implicit choice is rarely what is meant; pass `dim` explicitly.
"""

from __future__ import annotations

import warnings
from typing import Any

from .._tensor import Tensor, as_tensor
from .arguments import tensor_args

__all__ = ["softmax", "log_softmax", "softmin"]


def _implicit_dim(op: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to "
        "include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


@tensor_args("input")
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along `dim`; stable for large logits (the row max is subtracted)."""
    input = _as_tensor(input)
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return input.softmax(dim, dtype=dtype)


@tensor_args("input")
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """x_i - logsumexp(x) along `dim`; finite even where softmax underflows to 0."""
    input = _as_tensor(input)
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return input.log_softmax(dim, dtype=dtype)


@tensor_args("input")
def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x) along `dim`: weights that favour the smallest entries."""
    input = _as_tensor(input)
    if dim is None:
        dim = _implicit_dim("softmin", input.ndim, _stacklevel)
    x = input if dtype is None else input.astype(dtype)
    return (-x).softmax(dim)
