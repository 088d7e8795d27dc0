"""Normalisation layers: BatchNorm, GhostBatchNorm, InstanceNorm, LayerNorm, GroupNorm, RMSNorm.

Parameter and buffer names (weight, bias, running_mean, running_var, num_batches_tracked) and their
defaults follow PyTorch, so state dicts load across. The maths is in `functional/norm.py`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from .._tensor import Tensor, as_tensor, cat, ones, zeros
from ..devices import as_device
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "GhostBatchNorm1d",
    "GhostBatchNorm2d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
]


class _NormBase(Module):
    """Per-channel affine parameters and (optionally) running statistics."""

    _dims: tuple[int, ...] = ()  # accepted input ranks
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", as_tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x: Tensor) -> None:
        name = f"{type(self).__name__}({self.num_features})"
        require_tensor(type(self).__name__, "input", x, 1)
        if x.ndim not in self._dims:
            raise ShapeError(f"{name}: expected {self._layout} input, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"{name}: expected {self.num_features} channels in dim 1, got input of shape {x.shape}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Normalise each channel over the batch (and spatial dims) with batch statistics in training
    and the running averages in eval; momentum=None keeps a cumulative average instead."""

    def _factor(self) -> float:
        """Count this batch and return the weight of its statistics in the running averages."""
        if not (self.training and self.track_running_stats):
            return 0.0 if self.momentum is None else self.momentum
        self.num_batches_tracked.add_(1)
        if self.momentum is None:
            return 1.0 / float(self.num_batches_tracked.item())
        return self.momentum

    def _use_batch_stats(self) -> bool:
        return self.training or (self.running_mean is None and self.running_var is None)

    def _running(self) -> tuple[Tensor | None, Tensor | None]:
        if not self.training or self.track_running_stats:
            return self.running_mean, self.running_var
        return None, None

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        factor = self._factor()
        mean, var = self._running()
        return F.batch_norm(x, mean, var, self.weight, self.bias, self._use_batch_stats(), factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs."""

    _dims, _layout = (2, 3), "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs."""

    _dims, _layout = (4,), "4-D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch norm of (N, C, D, H, W) inputs."""

    _dims, _layout = (5,), "5-D (N, C, D, H, W)"


class _GhostBatchNorm(_BatchNorm):
    """Ghost batch norm (Hoffer et al., 2017): in training, split the batch into virtual batches of
    `virtual_batch_size` samples and normalise each with its own statistics, which regularises like
    small-batch BN while keeping large-batch throughput. The running statistics are updated once per
    virtual batch, in order (the paper's rule); eval mode uses them exactly like BatchNorm."""

    def __init__(
        self,
        num_features: int,
        virtual_batch_size: int = 32,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        if virtual_batch_size < 1:
            raise ValueError(
                f"{type(self).__name__}: virtual_batch_size must be >= 1, got {virtual_batch_size}"
            )
        self.virtual_batch_size = virtual_batch_size

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return super().forward(x)
        self._check_input(x)
        outs = []
        for chunk in x.split(self.virtual_batch_size, dim=0):  # (<= V, C, *) each
            mean, var = self._running()
            outs.append(
                F.batch_norm(chunk, mean, var, self.weight, self.bias, True, self._factor(), self.eps)
            )
        return outs[0] if len(outs) == 1 else cat(outs, dim=0)  # (N, C, *)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, virtual_batch_size={self.virtual_batch_size}"


class GhostBatchNorm1d(_GhostBatchNorm):
    """Ghost batch norm of (N, C) or (N, C, L) inputs."""

    _dims, _layout = (2, 3), "2-D (N, C) or 3-D (N, C, L)"


class GhostBatchNorm2d(_GhostBatchNorm):
    """Ghost batch norm of (N, C, H, W) inputs."""

    _dims, _layout = (4,), "4-D (N, C, H, W)"


class _InstanceNorm(_NormBase):
    """Normalise each (sample, channel) over its spatial dims. PyTorch's defaults: affine=False,
    track_running_stats=False. Unbatched inputs (C, *) are accepted."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        require_tensor(type(self).__name__, "input", x, 1)
        batched_rank = max(self._dims)
        unbatched = x.ndim == batched_rank - 1
        if x.ndim not in (batched_rank - 1, batched_rank):
            raise ShapeError(
                f"{type(self).__name__}({self.num_features}): expected "
                f"{self._layout} input, got shape {x.shape}"
            )
        if unbatched:
            x = x.unsqueeze(0)  # (1, C, *)
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                self._check_input(x)
            warnings.warn(
                f"{type(self).__name__}({self.num_features}) got {x.shape[1]} channels; "
                "without affine or running stats this is allowed",
                stacklevel=2,
            )
        momentum = self.momentum if self.momentum is not None else 0.0
        y = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            momentum,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) inputs."""

    _dims, _layout = (3,), "3-D (N, C, L) or 2-D (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) inputs."""

    _dims, _layout = (4,), "4-D (N, C, H, W) or 3-D (C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or (C, D, H, W) inputs."""

    _dims, _layout = (5,), "5-D (N, C, D, H, W) or 4-D (C, D, H, W)"


def _as_shape(normalized_shape: Sequence[int] | int) -> tuple[int, ...]:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` dims of each sample (transformers' norm)."""

    def __init__(
        self,
        normalized_shape: Sequence[int] | int,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        affine = elementwise_affine
        self.weight = Parameter(ones(self.normalized_shape, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype)) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        require_tensor("LayerNorm", "input", x, 1)
        k = len(self.normalized_shape)
        if x.shape[max(x.ndim - k, 0) :] != self.normalized_shape or x.ndim < k:
            raise ShapeError(
                f"LayerNorm{self.normalized_shape}: input shape {x.shape} does not "
                f"end in {self.normalized_shape}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Normalise groups of channels per sample: batch-size independent, good for small batches."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels, eps, affine)
        self.weight = Parameter(ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(zeros(num_channels, dtype=dtype)) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        require_tensor("GroupNorm", "input", x, 1)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ShapeError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected input "
                f"(N, {self.num_channels}, *), got shape {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Scale by the root mean square over the trailing dims (no centring); eps=None uses the
    dtype's machine epsilon, as PyTorch does."""

    def __init__(
        self,
        normalized_shape: Sequence[int] | int,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = Parameter(ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        require_tensor("RMSNorm", "input", x, 1)
        k = len(self.normalized_shape)
        if x.shape[max(x.ndim - k, 0) :] != self.normalized_shape or x.ndim < k:
            raise ShapeError(
                f"RMSNorm{self.normalized_shape}: input shape {x.shape} does not "
                f"end in {self.normalized_shape}"
            )
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
