"""Batch normalisation over the union of every rank's batch (what `nn.SyncBatchNorm` runs).

Forward: each rank computes its per-channel count, mean and sum of squared deviations (two passes,
so no cancellation), the ranks gather those three numbers per channel, and each combines them with
Chan's parallel formula into the statistics of the whole global batch. Backward needs two global
sums per channel (of g and of g * x_hat): one all-reduce. The result equals BatchNorm on the
concatenated batch, which is what makes a DDP run with SyncBatchNorm match one process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..function import Function
from ..functional.norm import update_running_stats
from .collectives import Work, all_reduce_array
from .process_group import group


class SyncBatchNormalize(Function):
    """(x - mean) / sqrt(var + eps) per channel of an (N, C, *) input, statistics over all ranks."""

    differentiable_backward = False  # the backward all-reduces arrays; no double backward

    def forward(
        self,
        x: np.ndarray,
        eps: float = 1e-5,
        running_mean: Any = None,
        running_var: Any = None,
        momentum: float = 0.1,
    ) -> np.ndarray:
        g = group()
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        count = x.size // x.shape[1]
        local = np.zeros(1 + 2 * x.shape[1], dtype=np.float64)  # [count, mean (C), M2 (C)]
        if count:
            mean = x.mean(axis=axes, dtype=np.float64)
            centred = x - mean.reshape(shape).astype(x.dtype)
            local[0] = count
            local[1 : 1 + x.shape[1]] = mean
            local[1 + x.shape[1] :] = (centred * centred).sum(axis=axes, dtype=np.float64)
        everyone = np.empty((g.size, local.size), dtype=np.float64)
        Work([g.comm.Iallgather(local, everyone)], "SyncBatchNorm statistics").wait()
        n_r, mean_r, m2_r = everyone[:, :1], everyone[:, 1 : 1 + x.shape[1]], everyone[:, 1 + x.shape[1] :]
        n = float(n_r.sum())
        if n <= 1:
            raise ValueError(
                f"SyncBatchNorm: expected more than 1 value per channel across all "
                f"ranks when training, got {int(n)}"
            )
        mean = (n_r * mean_r).sum(axis=0) / n  # (C,)
        m2 = m2_r.sum(axis=0) + (n_r * (mean_r - mean) ** 2).sum(axis=0)
        var = m2 / n  # biased: what normalises
        self.invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(shape)
        self.count, self.axes = n, axes
        for running, value in ((running_mean, mean), (running_var, m2 / (n - 1))):
            if running is not None:  # the running variance is the unbiased one, as in PyTorch
                update_running_stats(running, value, momentum, "SyncBatchNorm")
        xhat = (x - mean.astype(x.dtype).reshape(shape)) * self.invstd
        self.save(xhat)
        return xhat

    def backward(self, g: np.ndarray) -> np.ndarray:
        (xhat,) = self.saved
        channels = g.shape[1]
        sums = np.empty(2 * channels, dtype=np.float64)
        sums[:channels] = g.sum(axis=self.axes, dtype=np.float64)
        sums[channels:] = (g * xhat).sum(axis=self.axes, dtype=np.float64)
        all_reduce_array(sums, what="SyncBatchNorm backward").wait()
        shape = self.invstd.shape
        mean_g = (sums[:channels] / self.count).astype(g.dtype).reshape(shape)
        mean_gx = (sums[channels:] / self.count).astype(g.dtype).reshape(shape)
        return self.invstd * (g - mean_g - xhat * mean_gx)


def sync_batch_norm(
    x: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    momentum: float,
    eps: float,
) -> Tensor:
    """Training-mode batch norm of (N, C, *) `x` with statistics over every rank's batch."""
    y = SyncBatchNormalize.apply(
        x, eps=eps, running_mean=running_mean, running_var=running_var, momentum=momentum
    )
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
