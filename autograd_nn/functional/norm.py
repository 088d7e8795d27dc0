"""Normalisation functions (batch, layer, group, instance, RMS norm and `normalize`).

Each is composed from Tensor ops (mean, subtraction, power), so gradients of gradients work
(`create_graph=True`); batch and layer norm take the fused Numba kernels (`ops/fused/norm.py`) for
float32/float64. The Tensor-op maths of batch, instance and layer norm is `ops.fused.norm`'s
(`moments`, `standardize`, `normalize_channels`), the same that the fused ops' composites use.
Statistics use the biased variance, as PyTorch does for normalising; the running variance that
`batch_norm` and `instance_norm` keep is the unbiased one, also as in PyTorch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import ShapeError
from ..grad_mode import no_grad
from ..ops import fused
from ..ops.fused.norm import moments as _moments
from ..ops.fused.norm import normalize_channels, standardize
from .arguments import tensor_args

_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fusable(input: Tensor, *others: Tensor | None) -> bool:
    """The fused kernels take float32/float64 with every operand in the input's dtype."""
    return input.dtype in _FUSED_DTYPES and all(o is None or o.dtype == input.dtype for o in others)


__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "normalize"]


def _channel_shape(x: Tensor) -> tuple:
    """(1, C, 1, ...): how a per-channel vector broadcasts against (N, C, *)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_channels(op: str, x: Tensor, **vectors: Any) -> None:
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected an input of shape (N, C, *), got {x.shape}")
    for name, v in vectors.items():
        if v is not None and tuple(v.shape) != (x.shape[1],):
            raise ShapeError(
                f"{op}: {name} has shape {tuple(v.shape)} but the input {x.shape} has "
                f"{x.shape[1]} channels (dim 1)"
            )


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def update_running_stats(
    running: Tensor | None, value: np.ndarray, momentum: float, op: str = "batch_norm"
) -> None:
    """running <- (1 - momentum) * running + momentum * value, in place and outside the graph
    (through the in-place door, so the version is stamped). Package-internal: batch and instance
    norm here and `distributed.SyncBatchNorm` keep their running statistics with it."""
    if running is None:
        return
    with no_grad(), running._inplace(op) as stats:
        stats *= 1.0 - momentum
        stats += (momentum * value).astype(stats.dtype, copy=False)


def _writing(running: Tensor | None, op: str) -> contextlib.AbstractContextManager[Any]:
    """The in-place door of a running statistic that a fused kernel updates (or nothing)."""
    return contextlib.nullcontext() if running is None else running._inplace(op)


@tensor_args("input", "running_mean", "running_var", "weight", "bias", same_dtype=True)
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) of an (N, C, *) input over the batch and spatial dims.

    In training the batch statistics are used and the running statistics (if given) are updated in
    place with `momentum` (running_var with the unbiased variance). Otherwise the running ones are
    used.
    """
    _check_channels(
        "batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    dims = (0,) + tuple(range(2, input.ndim))
    shape = _channel_shape(input)
    if training:
        count = input.numel() // input.shape[1]
        if count <= 1:
            raise ShapeError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        if _fusable(input, weight, bias, running_mean, running_var):  # one Numba pass each way
            # (benchmarked ~5x faster than the ops below, which are the same maths)
            with _writing(running_mean, "batch_norm"), _writing(running_var, "batch_norm"):
                return fused.batch_norm_train(input, weight, bias, running_mean, running_var, momentum, eps)
        mean, var = _moments(input, dims)  # (1, C, 1, ...) each
        update_running_stats(running_mean, mean._data.reshape(-1), momentum)
        update_running_stats(running_var, var._data.reshape(-1) * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training")
        mean = running_mean.detach().reshape(shape)
        var = running_var.detach().reshape(shape)
    return normalize_channels(input, mean, var, weight, bias, eps)  # (N, C, *)


@tensor_args("input", "running_mean", "running_var", "weight", "bias", same_dtype=True)
def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each (sample, channel) of an (N, C, *) input over its spatial dims.

    With `use_input_stats` the running statistics (if given) are updated with the batch average of
    the per-instance mean and unbiased variance; otherwise they are used to normalise.
    """
    _check_channels(
        "instance_norm", input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    if input.ndim < 3:
        raise ShapeError(f"instance_norm: expected an input of shape (N, C, L, ...), got {input.shape}")
    shape = _channel_shape(input)
    if use_input_stats:
        dims = tuple(range(2, input.ndim))
        count = int(np.prod(input.shape[2:]))
        if count <= 1:
            raise ShapeError(
                f"instance_norm: expected more than 1 spatial element per channel, got input of "
                f"shape {input.shape}"
            )
        mean, var = _moments(input, dims)  # (N, C, 1, ...) each
        if input.shape[0]:  # an empty batch leaves the running stats as they are
            flat_mean = mean._data.reshape(input.shape[:2]).mean(axis=0)
            flat_var = var._data.reshape(input.shape[:2]).mean(axis=0) * (count / (count - 1))
            update_running_stats(running_mean, flat_mean, momentum, "instance_norm")
            update_running_stats(running_var, flat_var, momentum, "instance_norm")
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running stats are needed when use_input_stats=False")
        mean = running_mean.detach().reshape(shape)
        var = running_var.detach().reshape(shape)
    return normalize_channels(input, mean, var, weight, bias, eps)  # (N, C, *)


def _normalized_dims(op: str, x: Tensor, normalized_shape: Sequence[int] | int) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k :] != shape or k > x.ndim:
        raise ShapeError(
            f"{op}: normalized_shape {shape} does not match the trailing dims of the input {x.shape}"
        )
    return tuple(range(x.ndim - k, x.ndim))


@tensor_args("input", "weight", "bias", same_dtype=True)
def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims, then scale and shift elementwise."""
    dims = _normalized_dims("layer_norm", input, normalized_shape)
    if _fusable(input, weight, bias):  # fused Numba kernel (benchmarked ~2x the ops below); same maths
        return fused.layer_norm(input, input.shape[dims[0] :], weight, bias, eps)
    y = standardize(input, *_moments(input, dims), eps)  # same shape as input
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


@tensor_args("input", "weight", same_dtype=True)
def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing dims (eps=None: the dtype's machine epsilon)."""
    dims = _normalized_dims("rms_norm", input, normalized_shape)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps) ** -0.5  # same shape as input
    return y * weight if weight is not None else y


@tensor_args("input", "weight", "bias", same_dtype=True)
def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the C channels into `num_groups` groups; normalise each (sample, group) together."""
    _check_channels("group_norm", input, weight=weight, bias=bias)
    n, c = input.shape[:2]
    if c % num_groups != 0:
        raise ShapeError(f"group_norm: {c} channels do not split into {num_groups} groups")
    grouped = input.reshape(n, num_groups, -1)  # (N, G, C/G * spatial)
    mean, var = _moments(grouped, (2,))  # (N, G, 1) each
    y = standardize(grouped, mean, var, eps).reshape(input.shape)  # (N, C, *)
    return _affine(y, weight, bias, _channel_shape(input))


@tensor_args("input")
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along `dim` (unit vectors, as `torch.nn.functional.normalize`)."""
    input = input if isinstance(input, Tensor) else as_tensor(input)
    if p == 2:
        powered = (input * input).sum(dim=dim, keepdim=True)
    else:
        powered = (input.abs() ** p).sum(dim=dim, keepdim=True)
    # max(s^(1/p), eps) == max(s, eps^p)^(1/p), whose gradient is clean where s == 0
    norm = powered.clamp(min=eps**p) ** (1.0 / p)  # (..., 1, ...)
    return input / norm
