"""Dropout: zero random elements (or whole channels) in training and rescale the rest by 1/(1-p).

Masks are drawn from `autograd_nn.random.generator()`, so `autograd_nn.manual_seed` makes them
reproducible. A mask is a constant of the graph: the gradient is the same mask times the output grad.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import ShapeError
from ..inplace import apply_inplace
from ..random import generator
from .arguments import tensor_args

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_SELU_ALPHA = 1.7580993408473766  # -SELU's saturation value (scale * alpha), PyTorch's constant


def _check_p(op: str, p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)):
        raise TypeError(f"{op}: dropout probability must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(x)


def _keep_mask(shape: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    """1 with probability 1 - p, else 0 (Bernoulli(1 - p)), in the input's dtype."""
    return (generator().random(shape) >= p).astype(dtype)


def _scaled_mask(x: Tensor, shape: tuple, p: float, inplace: bool = False, op: str = "dropout") -> Tensor:
    """x times a mask of kept elements scaled by 1/(1-p); with `inplace`, written into x (PyTorch's
    `inplace=True`: x is returned, its version bumped)."""
    if p == 1.0:
        mask = as_tensor(np.zeros(shape, dtype=x.dtype))
    else:
        scaled = _keep_mask(shape, p, x.dtype) * (1.0 / (1.0 - p))
        mask = as_tensor(scaled.astype(x.dtype, copy=False))
    if inplace:
        return apply_inplace(x, op, lambda s: s * mask)
    return x * mask


@tensor_args("input")
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the survivors by 1/(1-p); identity in eval.

    With `inplace=True` the input itself is overwritten and returned, as in PyTorch.
    """
    p, input = _check_p("dropout", p), _as_tensor(input)
    if not training or p == 0.0:
        return input
    return _scaled_mask(input, input.shape, p, inplace)


def _feature_dropout(
    op: str, input: Tensor, p: float, training: bool, inplace: bool = False, batched: bool = True
) -> Tensor:
    """PyTorch's feature dropout: one draw per (sample, channel) of an (N, C, *) input (per channel
    of an unbatched (C, *) one), broadcast over the rest (a 2-D batched input thus drops single
    elements). Identity in eval, for p = 0 and for an empty input; p = 1 multiplies by zero (NaN
    stays NaN)."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    lead = 2 if batched else 1
    if input.ndim < lead:  # an unbatched input counts with the batch dim PyTorch adds to it
        shape = input.shape if batched else (1, *input.shape)
        raise ShapeError(
            f"{op}: feature dropout requires at least 2 dimensions in the input, got shape {shape}"
        )
    return _scaled_mask(input, input.shape[:lead] + (1,) * (input.ndim - lead), p, inplace, op)


@tensor_args("input")
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, L) or unbatched (C, L) input with probability p."""
    p, input = _check_p("dropout1d", p), _as_tensor(input)
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {input.shape}")
    return _feature_dropout("dropout1d", input, p, training, inplace, batched=input.ndim == 3)


@tensor_args("input")
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, H, W) input with probability p.

    Exactly PyTorch's behaviour on other ranks: any rank but 3 or 4 warns (deprecated) and runs
    feature dropout on dims (0, 1) (a 2-D (N, C) input drops single elements); a 3-D input warns that
    it is taken as (N, C, L) (channel-wise 1-D dropout), not as an unbatched (C, H, W).
    """
    p, input = _check_p("dropout2d", p), _as_tensor(input)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
            "deprecated and will result in an error in a future release. To retain the "
            "behavior and silence this warning, please use dropout instead. Note that "
            "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
            "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
            "or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
            "where C is the channel dim. This behavior will change in a future release "
            "to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
            "to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout("dropout2d", input, p, training, inplace)


@tensor_args("input")
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, D, H, W) or unbatched (C, D, H, W) input with probability p.

    As in PyTorch, other ranks warn (deprecated) and are treated as unbatched: a batch dim is added,
    feature dropout runs on dims (0, 1) of that, and the batch dim is removed again.
    """
    p, input = _check_p("dropout3d", p), _as_tensor(input)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
            "deprecated and will result in an error in a future release. To retain the "
            "behavior and silence this warning, please use dropout instead. Note that "
            "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
            "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
            "or 5D inputs).",
            stacklevel=2,
        )
    return _feature_dropout("dropout3d", input, p, training, inplace, batched=input.ndim == 5)


def _alpha(
    op: str, input: Tensor, p: float, training: bool, mask_shape: tuple, inplace: bool = False
) -> Tensor:
    """Set dropped values to SELU's saturation value, then restore zero mean and unit variance."""
    p, input = _check_p(op, p), _as_tensor(input)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        scale, shift = as_tensor(np.zeros((), input.dtype)), as_tensor(np.zeros((), input.dtype))
    else:
        a = 1.0 / np.sqrt((_SELU_ALPHA**2 * p + 1.0) * (1.0 - p))
        keep = _keep_mask(mask_shape, p, input.dtype)
        scale = as_tensor((keep * a).astype(input.dtype))
        shift = as_tensor(((keep - 1.0) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p).astype(input.dtype))
    if inplace:
        return apply_inplace(input, op, lambda s: s * scale + shift)
    return input * scale + shift


@tensor_args("input")
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the mean and variance of self-normalising activations."""
    input = _as_tensor(input)
    return _alpha("alpha_dropout", input, p, training, input.shape, inplace)


@tensor_args("input")
def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels of an (N, C, *) input."""
    input = _as_tensor(input)
    if input.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: expected (N, C, *), got shape {input.shape}")
    return _alpha(
        "feature_alpha_dropout", input, p, training, input.shape[:2] + (1,) * (input.ndim - 2), inplace
    )
