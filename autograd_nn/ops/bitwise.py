"""Non-differentiable pointwise ops on arrays: bitwise, logical, and float classification.

Their results are integer or bool, so they never join the graph: the Tensor methods wrap the array
these functions return in a Tensor that does not require grad. Each checks dtypes and shapes itself
and raises an error that names the op.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError, describe

_BITWISE = {
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
    "bitwise_left_shift": np.left_shift,
    "bitwise_right_shift": np.right_shift,
}
_LOGICAL = {
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
}


def _call(op: str, ufunc: Any, *arrays: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(ufunc(*arrays))
    except ValueError as err:
        raise ShapeError(f"{op}: {err} (inputs: {describe(arrays)})") from None


def _check_integral(op: str, arrays: tuple, kinds: str = "biu") -> None:
    for a in arrays:
        if a.dtype.kind not in kinds:
            allowed = "integer" if kinds == "iu" else "integer and bool"
            raise DTypeError(f"{op}: only {allowed} tensors are supported, got {describe(arrays)}")


def bitwise(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`op` is one of bitwise_and/or/xor (integer or bool) and bitwise_left/right_shift (integer)."""
    _check_integral(op, (a, b), "iu" if op.endswith("shift") else "biu")
    return _call(op, _BITWISE[op], a, b)


def bitwise_not(a: np.ndarray) -> np.ndarray:
    """~a: bit complement of integers, negation of bools."""
    _check_integral("bitwise_not", (a,))
    return np.invert(a)


def logical(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """logical_and/or/xor of any dtypes (nonzero is true); the result is bool."""
    return _call(op, _LOGICAL[op], a, b)


def logical_not(a: np.ndarray) -> np.ndarray:
    return np.logical_not(a)


def isnan(a: np.ndarray) -> np.ndarray:
    return np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, dtype=bool)


def isinf(a: np.ndarray) -> np.ndarray:
    return np.isinf(a) if a.dtype.kind == "f" else np.zeros(a.shape, dtype=bool)


def isfinite(a: np.ndarray) -> np.ndarray:
    return np.isfinite(a) if a.dtype.kind == "f" else np.ones(a.shape, dtype=bool)
