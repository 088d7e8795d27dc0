"""`DataParallel`: PyTorch's single-process multi-GPU wrapper, as it behaves without GPUs.

On a CPU-only PyTorch build `DataParallel(model)` keeps `model` as `.module` and calls it directly;
so does this one (state_dict keys gain the `module.` prefix, as in PyTorch). Asking for GPU ids is
refused with a DeviceError. For data parallelism across processes, see `nn.parallel`'s
DistributedDataParallel.
"""

from __future__ import annotations

from typing import Any

from ..devices import unavailable
from .module import Module


class DataParallel(Module):
    """Wraps `module` and runs it in this process (there are no GPUs to scatter to)."""

    def __init__(
        self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0
    ) -> None:
        super().__init__()
        if device_ids:
            raise unavailable(f"cuda:{next(iter(device_ids))}", "DataParallel")
        self.module = module
        self.device_ids: list = []
        self.output_device, self.dim = output_device, dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
