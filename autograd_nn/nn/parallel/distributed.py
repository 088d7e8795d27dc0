"""DistributedDataParallel: one replica of the model per process, gradients averaged across them.

Each rank runs the same script on its own shard of every batch (see `data.DistributedSampler`).
At construction the wrapper checks that every rank built the same model and copies rank 0's
parameters and buffers to all ranks; in each synced backward pass the gradients are averaged across
ranks in buckets, overlapping the rest of the backward (`reducer.py`), so every replica takes the
same optimizer step and stays identical. Names and semantics are PyTorch's:
`DistributedDataParallel(module, broadcast_buffers=True, bucket_cap_mb=25,
find_unused_parameters=False)`, `.module`, `no_sync()`, state_dict keys prefixed with `module.`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...distributed.collectives import Work
from ...distributed.process_group import ProcessGroup, group, mpi
from ...errors import DistributedError
from ...grad_mode import is_grad_enabled
from ..module import Module
from .reducer import MB, Reducer


class DistributedDataParallel(Module):
    """Data parallelism across the processes of the default group (launched with MPI).

    `bucket_cap_mb`: size of a gradient bucket (one all-reduce each; the first bucket is 1 MB at
    most). `broadcast_buffers`: copy rank 0's buffers (BatchNorm running statistics) to every rank
    at the start of each training forward. `find_unused_parameters`: find, after each forward, the
    parameters its output does not depend on, and count their gradient as zero on this rank (needed
    when ranks or iterations use different parts of the model; costs a walk of the graph).
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float = 25.0,
        find_unused_parameters: bool = False,
    ) -> None:
        mpi()  # ImportError naming the `distributed` extra when mpi4py is absent
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module).__name__}")
        if device_ids is not None or output_device is not None:
            raise ValueError(
                "DistributedDataParallel: device_ids/output_device are for GPUs; "
                "autograd_nn runs one CPU replica per process"
            )
        if dim != 0:
            raise ValueError("DistributedDataParallel: only dim=0 (batches split along dim 0)")
        if process_group is not None:
            raise ValueError("DistributedDataParallel: only the default process group is supported")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        g = group()
        self._group = g
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("DistributedDataParallel: the module has no parameter that requires grad")
        _check_same_model(module, g)
        _broadcast_coalesced(
            [p for _, p in module.named_parameters()] + [b for _, b in module.named_buffers()], g
        )
        self.reducer = Reducer(named, g.size, int(bucket_cap_mb * MB), find_unused_parameters)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        grad = is_grad_enabled()
        if grad:
            sync = self.require_backward_grad_sync
            if sync and self.broadcast_buffers:
                _broadcast_coalesced([b for _, b in self.module.named_buffers()], self._group)
            self.reducer.prepare(sync)
        out = self.module(*inputs, **kwargs)
        if grad and self.require_backward_grad_sync and self.find_unused_parameters:
            self.reducer.mark_unused_from(out)
        return out

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside only accumulate local gradients; the first synced
        backward after it averages the accumulated sums (gradient accumulation)."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    @property
    def bucket_sizes(self) -> list[int]:
        """Number of parameters in each gradient bucket, in all-reduce order."""
        return [len(b.params) for b in self.reducer.buckets]

    def extra_repr(self) -> str:
        return (
            f"world_size={self._group.size}, buckets={len(self.reducer.buckets)}, "
            f"find_unused_parameters={self.find_unused_parameters}"
        )


def _check_same_model(module: Module, g: ProcessGroup) -> None:
    """Every rank must hold the same parameter and buffer names, shapes and dtypes (a digest of
    them is gathered; a mismatch is a clear error on every rank instead of a hang later)."""
    signature = [(n, t.shape, str(t.dtype)) for n, t in module.named_parameters()]
    signature += [(n, t.shape, str(t.dtype)) for n, t in module.named_buffers()]
    digest = np.frombuffer(hashlib.sha256(repr(signature).encode()).digest(), dtype=np.uint8)
    everyone = np.empty((g.size, digest.size), dtype=np.uint8)
    Work([g.comm.Iallgather(digest, everyone)], "DDP model check").wait()
    differ = [r for r in range(g.size) if not np.array_equal(everyone[r], everyone[0])]
    if differ:
        raise DistributedError(
            f"DistributedDataParallel: rank(s) {differ} built a model whose parameter/buffer names, "
            "shapes or dtypes differ from rank 0's; every rank must construct the same model"
        )


def _broadcast_coalesced(tensors: list[Any], g: ProcessGroup) -> None:
    """Copy rank 0's values of `tensors` to every rank in one broadcast: their bytes packed into
    one flat buffer (one collective per call, whatever the number of tensors and dtypes)."""
    tensors = [t for t in tensors if t is not None and t._data.size]
    if not tensors:
        return
    sizes = [t._data.nbytes for t in tensors]
    if g.rank == 0:
        flat = np.concatenate([np.ascontiguousarray(t._data).reshape(-1).view(np.uint8) for t in tensors])
    else:
        flat = np.empty(sum(sizes), dtype=np.uint8)
    Work([g.comm.Ibcast(flat, root=0)], "DDP broadcast of parameters/buffers").wait()
    if g.rank != 0:
        start = 0
        for t, n in zip(tensors, sizes):
            with t._inplace("DDP broadcast", check=False) as data:  # parameters, outside the graph
                data[...] = flat[start : start + n].view(data.dtype).reshape(data.shape)
            start += n
