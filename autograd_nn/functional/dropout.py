"""Dropout: zero random elements (or whole channels) in training and rescale the rest by 1/(1-p).

Masks are drawn from `autograd_nn.random.generator()`, so `autograd_nn.manual_seed` makes them
reproducible. A mask is a constant of the graph: the gradient is the same mask times the output grad.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..random import generator
from .._tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_SELU_ALPHA = 1.7580993408473766  # -SELU's saturation value (scale * alpha), PyTorch's constant


def _check_p(op: str, p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)):
        raise TypeError(f"{op}: dropout probability must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _keep_mask(shape: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    """1 with probability 1 - p, else 0 (Bernoulli(1 - p)), in the input's dtype."""
    return (generator().random(shape) >= p).astype(dtype)


def _scaled_mask(x: Tensor, shape: tuple, p: float) -> Tensor:
    if p == 1.0:
        return x * Tensor(np.zeros(shape, dtype=x.dtype))
    mask = _keep_mask(shape, p, x.dtype) * (1.0 / (1.0 - p))
    return x * Tensor(mask.astype(x.dtype, copy=False))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the survivors by 1/(1-p); identity in eval.

    `inplace` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    p, input = _check_p("dropout", p), _as_tensor(input)
    if not training or p == 0.0:
        return input
    return _scaled_mask(input, input.shape, p)


def _feature_dropout(op: str, input: Tensor, p: float, training: bool) -> Tensor:
    """PyTorch's feature dropout: one draw per (sample, channel) of an (N, C, *) input, broadcast
    over the rest (a 2-D input thus drops single elements). Identity in eval, for p = 0 and for an
    empty input; p = 1 multiplies by zero (NaN stays NaN)."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input * 0.0
    if input.ndim < 2:
        raise ShapeError(f"{op}: feature dropout requires at least 2 dimensions in the input, got "
                         f"shape {input.shape}")
    return _scaled_mask(input, input.shape[:2] + (1,) * (input.ndim - 2), p)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, L) or unbatched (C, L) input with probability p."""
    p, input = _check_p("dropout1d", p), _as_tensor(input)
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{input.shape}")
    if input.ndim == 3:
        return _feature_dropout("dropout1d", input, p, training)
    return _feature_dropout("dropout1d", input.unsqueeze(0), p, training).squeeze(0)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, H, W) input with probability p.

    Exactly PyTorch's behaviour on other ranks: any rank but 3 or 4 warns (deprecated) and runs
    feature dropout on dims (0, 1) (a 2-D (N, C) input drops single elements); a 3-D input warns that
    it is taken as (N, C, L) (channel-wise 1-D dropout), not as an unbatched (C, H, W).
    """
    p, input = _check_p("dropout2d", p), _as_tensor(input)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, D, H, W) or unbatched (C, D, H, W) input with probability p.

    As in PyTorch, other ranks warn (deprecated) and are treated as unbatched: a batch dim is added,
    feature dropout runs on dims (0, 1) of that, and the batch dim is removed again.
    """
    p, input = _check_p("dropout3d", p), _as_tensor(input)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", stacklevel=2)
    if input.ndim == 5:
        return _feature_dropout("dropout3d", input, p, training)
    return _feature_dropout("dropout3d", input.unsqueeze(0), p, training).squeeze(0)


def _alpha(op: str, input: Tensor, p: float, training: bool, mask_shape: tuple) -> Tensor:
    """Set dropped values to SELU's saturation value, then restore zero mean and unit variance."""
    p, input = _check_p(op, p), _as_tensor(input)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    a = 1.0 / np.sqrt((_SELU_ALPHA**2 * p + 1.0) * (1.0 - p))
    keep = _keep_mask(mask_shape, p, input.dtype)
    shift = (keep - 1.0) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p
    return input * Tensor((keep * a).astype(input.dtype)) + Tensor(shift.astype(input.dtype))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the mean and variance of self-normalising activations."""
    input = _as_tensor(input)
    return _alpha("alpha_dropout", input, p, training, input.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of an (N, C, *) input."""
    input = _as_tensor(input)
    if input.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: expected (N, C, *), got shape {input.shape}")
    return _alpha("feature_alpha_dropout", input, p, training,
                  input.shape[:2] + (1,) * (input.ndim - 2))
