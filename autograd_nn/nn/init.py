"""Weight initialisers with PyTorch's names, formulas and gains. Each fills a tensor in place."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..grad_mode import no_grad
from ..random import generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = {
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    }
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _shape(op: str, tensor: Any) -> tuple:
    """The shape of the floating-point Tensor an initialiser fills; a clear error for anything else."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor to fill in place, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got {tensor.dtype}")
    return tensor.shape


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    _shape("fan in/out", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"fan in/out needs a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    with no_grad(), tensor._inplace("init") as data:  # refuses a read-only array
        data[...] = values.astype(tensor.dtype, copy=False)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    shape = _shape("uniform_", tensor)
    if not a <= b:
        raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
    return _fill(tensor, generator().uniform(a, b, shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    shape = _shape("normal_", tensor)
    if not std >= 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, generator().normal(mean, std, shape))


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Tensor:
    """Normal(mean, std) truncated to [a, b] (absolute bounds, as in PyTorch), by resampling."""
    shape = _shape("trunc_normal_", tensor)
    if not (a < b and std >= 0):  # else resampling never ends
        raise ValueError(f"trunc_normal_: expects a < b and std >= 0, got a={a}, b={b}, std={std}")
    rng = generator()
    values = rng.normal(mean, std, shape)
    bad = (values < a) | (values > b)
    for _ in range(1000):
        if not bad.any():
            break
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    else:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] is too far from mean={mean} "
            f"(std={std}) to sample by resampling"
        )
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.full(_shape("constant_", tensor), val))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    if len(_shape("eye_", tensor)) != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, as in PyTorch."""
    if len(_shape("orthogonal_", tensor)) < 2:
        raise ValueError(f"orthogonal_: needs at least 2 dims, got shape {tensor.shape}")
    rows, cols = tensor.shape[0], int(np.prod(tensor.shape[1:]))
    flat = generator().normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def default_bound(fan_in: int) -> float:
    """PyTorch's default bias/weight bound for Linear and Conv layers: 1/sqrt(fan_in)."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def uniform_array(shape: tuple, bound: float, dtype: Any = np.float32) -> np.ndarray:
    """U(-bound, bound) samples as an array (for building parameters before they exist)."""
    if any(n < 0 for n in shape):
        raise ValueError(f"uniform_array: negative size in shape {tuple(shape)}")
    return generator().uniform(-bound, bound, shape).astype(dtype)
