"""SyncBatchNorm: BatchNorm whose training statistics cover every rank's batch, not just this one's.

With DistributedDataParallel each rank sees 1/N of the batch; plain BatchNorm would normalise with
the statistics of that shard (noisier, and not what one process would compute). SyncBatchNorm
gathers the per-channel statistics of every shard (see `distributed/sync_batch_norm.py`). Outside
a process group of two or more ranks, or in eval mode, it is exactly BatchNorm.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch norm of (N, C, *) inputs with statistics over all ranks (PyTorch's names and
    state_dict keys; `process_group` must be None: the default group)."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)
        if process_group is not None:
            raise ValueError("SyncBatchNorm: only the default process group (None) is supported")
        self.process_group = process_group

    def _check_input(self, x: Tensor) -> None:
        require_tensor(type(self).__name__, "input", x, 1)
        if x.ndim < 2:
            raise ShapeError(
                f"SyncBatchNorm({self.num_features}): expected an input of at least 2 "
                f"dims (N, C, *), got shape {x.shape}"
            )
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"SyncBatchNorm({self.num_features}): expected {self.num_features} "
                f"channels in dim 1, got input of shape {x.shape}"
            )

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and _world_size() > 1):
            return super().forward(x)
        self._check_input(x)
        from ..distributed.sync_batch_norm import sync_batch_norm

        factor = self._factor()
        mean, var = self._running()
        return sync_batch_norm(x, self.weight, self.bias, mean, var, factor, self.eps)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replace every BatchNorm1d/2d/3d in `module` by a SyncBatchNorm sharing its parameters
        and buffers (returns the new module when `module` itself is one, else `module`)."""
        if type(module) in (BatchNorm1d, BatchNorm2d, BatchNorm3d):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            if module.affine:
                converted.weight, converted.bias = module.weight, module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.train(module.training)
            return converted
        for name, child in list(module._modules.items()):
            if child is not None:
                setattr(module, name, cls.convert_sync_batchnorm(child, process_group))
        return module


def _world_size() -> int:
    """Ranks in the default group; 1 when no group is running (then this is plain BatchNorm)."""
    from .. import distributed

    return distributed.get_world_size() if distributed.is_initialized() else 1
