"""The gradient reducer of DistributedDataParallel: buckets, hooks, overlap.

Parameters are packed into buckets of about `bucket_cap_mb` (the first one smaller, as in PyTorch),
in reverse registration order: roughly the order in which backward finishes their gradients. A
post-accumulate-grad hook on every parameter copies its finished gradient into its bucket's flat
buffer; when a bucket is full it is all-reduced with a non-blocking MPI collective while backward
goes on computing the gradients of earlier layers. When the pass ends (`autograd.queue_callback`),
the reducer waits for the last buckets and writes sum / world_size back into each `.grad`.

Every rank must launch the same collectives in the same order, so buckets are launched strictly in
index order (a full bucket waits for the ones before it), and a parameter that got no gradient is
either filled with zeros (`find_unused_parameters=True`) or a clear error, never a rank that waits
forever for a bucket another rank will not send.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...autograd import queue_callback
from ...distributed.collectives import ReduceOp, Work, all_reduce_array
from ...errors import DistributedError
from ...function import TensorBase

MB = 1024 * 1024
FIRST_BUCKET_BYTES = 1 * MB  # PyTorch's first bucket: small, so communication starts early


@dataclass
class Bucket:
    """Parameters whose gradients travel together in one flat buffer."""

    index: int
    params: list[Any]
    names: list[str]
    offsets: list[int]
    flat: np.ndarray
    pending: int = 0  # parameters still without a gradient in this backward pass
    work: Work | None = None
    ready: list[bool] = field(default_factory=list)


def assign_buckets(
    named_params: list[tuple[str, Any]], cap_bytes: int, first_cap_bytes: int = FIRST_BUCKET_BYTES
) -> list[Bucket]:
    """Buckets of at most ~`cap_bytes` (the first at most ~`first_cap_bytes`), one dtype each,
    filled in reverse order of `named_params`."""
    buckets: list[Bucket] = []
    open_: dict[np.dtype, tuple[list, list, int]] = {}  # dtype -> (params, names, bytes so far)

    def close(dtype: np.dtype) -> None:
        params, names, _ = open_.pop(dtype)
        sizes = [p._data.size for p in params]
        offsets = list(np.cumsum([0] + sizes[:-1]).astype(int))
        buckets.append(Bucket(len(buckets), params, names, offsets, np.zeros(sum(sizes), dtype=dtype)))

    for name, p in reversed(named_params):
        dtype = p._data.dtype
        params, names, size = open_.setdefault(dtype, ([], [], 0))
        params.append(p)
        names.append(name)
        size += p._data.nbytes
        open_[dtype] = (params, names, size)
        if size >= (min(first_cap_bytes, cap_bytes) if not buckets else cap_bytes):
            close(dtype)
    for dtype in list(open_):
        close(dtype)
    return buckets


class Reducer:
    """Averages the gradients of `named_params` across ranks during each synced backward pass."""

    def __init__(
        self,
        named_params: list[tuple[str, Any]],
        world_size: int,
        cap_bytes: int,
        find_unused_parameters: bool,
        first_cap_bytes: int = FIRST_BUCKET_BYTES,
    ) -> None:
        self.world_size = world_size
        self.find_unused_parameters = find_unused_parameters
        self.buckets = assign_buckets(named_params, cap_bytes, first_cap_bytes)
        self.where: dict[int, tuple[Bucket, int]] = {}
        for b in self.buckets:
            for i, p in enumerate(b.params):
                self.where[id(p)] = (b, i)
        self.armed = False  # a synced forward ran: the next backward reduces
        self.skip = False  # the last forward ran under no_sync(): hooks only accumulate
        self.started = False  # the current backward has sent its first gradient
        self.next_bucket = 0
        self.unused: set[int] = set()  # ids of parameters not in this forward's graph
        self.handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready) for _, p in named_params]

    # ---- one iteration --------------------------------------------------------------------------
    def prepare(self, sync: bool) -> None:
        """Called by each forward that records a graph: arm the next backward (or skip it)."""
        if self.started:
            raise DistributedError(
                "DistributedDataParallel: the previous backward pass did not finish reducing "
                "gradients (did it raise?); every rank must complete each backward before the next "
                "forward"
            )
        self.armed, self.skip = sync, not sync
        self.unused = set()

    def mark_unused_from(self, outputs: Any) -> None:
        """`find_unused_parameters`: the parameters this forward's outputs do not depend on."""
        reached = _leaves_reached(outputs)
        self.unused = {key for key in self.where if key not in reached}

    def _on_grad_ready(self, p: Any) -> None:
        if not self.armed:
            if self.skip:
                return
            raise DistributedError(
                "DistributedDataParallel: a backward pass reached the model's parameters without a "
                "forward through the DistributedDataParallel wrapper since the last backward; call "
                "the wrapped model (not .module) once per backward, or use no_sync() to accumulate"
            )
        if p.grad is not None and p.grad.requires_grad:
            raise DistributedError(
                "DistributedDataParallel does not support backward(create_graph="
                "True): the averaged gradient would not be differentiable"
            )
        if not self.started:
            self._start()
        bucket, i = self.where[id(p)]
        if bucket.ready[i]:
            raise DistributedError(
                f"DistributedDataParallel: parameter {bucket.names[i]!r} was "
                "marked ready twice in one backward pass"
            )
        self._fill(bucket, i)
        self._launch_full_buckets()

    def _start(self) -> None:
        self.started = True
        self.next_bucket = 0
        for b in self.buckets:
            b.pending, b.work, b.ready = len(b.params), None, [False] * len(b.params)
        queue_callback(self._finalize)
        for key in self.unused:  # nothing will arrive for these: they count as zero gradients now
            bucket, i = self.where[key]
            self._fill(bucket, i)

    def _fill(self, bucket: Bucket, i: int) -> None:
        """Copy parameter i's gradient (zeros if it has none) into the bucket."""
        p, start = bucket.params[i], bucket.offsets[i]
        view = bucket.flat[start : start + p._data.size]
        if p.grad is None:
            view.fill(0)
        else:
            view[...] = p.grad._data.reshape(-1)
        bucket.ready[i] = True
        bucket.pending -= 1

    def _launch_full_buckets(self) -> None:
        """Start the all-reduce of every full bucket whose predecessors have started (so that all
        ranks start them in the same order), and let MPI progress the ones in flight."""
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            b.work = all_reduce_array(b.flat, ReduceOp.SUM, f"DDP gradient bucket {b.index}")
            self.next_bucket += 1
        for b in self.buckets[: self.next_bucket]:
            b.work.is_completed()  # type: ignore[union-attr]  # MPI moves data only inside calls

    def _finalize(self) -> None:
        """End of the backward pass: reduce what is left, wait, and write the averages back."""
        missing = [(b, i) for b in self.buckets for i, r in enumerate(b.ready) if not r]
        if missing and not self.find_unused_parameters:
            self.started = self.armed = False
            names = ", ".join(b.names[i] for b, i in missing[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            raise DistributedError(
                f"DistributedDataParallel: {len(missing)} parameter(s) received no gradient in this "
                f"backward pass on this rank: {names}{more}. Every rank must produce a gradient for "
                "every parameter, or pass find_unused_parameters=True when some parameters are not "
                "used in every forward (the job is aborted so no rank waits for the others)"
            )
        for b, i in missing:
            self._fill(b, i)
        self._launch_full_buckets()
        used = self._globally_used() if self.find_unused_parameters else None
        for b in self.buckets:
            b.work.wait()  # type: ignore[union-attr]
            for p, start in zip(b.params, b.offsets):
                if used is not None and not used[id(p)]:
                    continue  # no rank used it: its .grad stays as it was, as in PyTorch
                _write_average(p, b.flat[start : start + p._data.size], self.world_size)
        self.started = self.armed = False

    def _globally_used(self) -> dict[int, bool]:
        """Which parameters some rank used in this iteration (one small all-reduce)."""
        keys = list(self.where)
        flags = np.array([key not in self.unused or self._has_grad(key) for key in keys], np.int32)
        all_reduce_array(flags, ReduceOp.MAX, "DDP used-parameter flags").wait()
        return dict(zip(keys, flags.astype(bool)))

    def _has_grad(self, key: int) -> bool:
        bucket, i = self.where[key]
        return bucket.params[i].grad is not None

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


def _write_average(p: Any, summed: np.ndarray, world_size: int) -> None:
    """p.grad = summed / world_size, into the existing gradient array when there is one."""
    shaped = summed.reshape(p._data.shape)
    if p.grad is None:
        p.grad = Tensor._make(shaped / world_size, False)
    else:
        np.divide(shaped, world_size, out=p.grad._data)


def _leaves_reached(outputs: Any) -> set[int]:
    """Ids of the leaf tensors that the graph behind `outputs` depends on (explicit stack)."""
    stack = [ctx for t in _tensors_in(outputs) if (ctx := t._ctx) is not None]
    seen: set[int] = set()
    leaves: set[int] = set()
    while stack:
        ctx = stack.pop()
        if id(ctx) in seen or ctx.parents is None:
            continue
        seen.add(id(ctx))
        for parent in ctx.parents:
            if parent._ctx is not None:
                stack.append(parent._ctx)
            elif parent.requires_grad:
                leaves.add(id(parent))
    return leaves


def _tensors_in(value: Any) -> Iterable[Any]:
    """Every Tensor in a (nested) output: tensors, tuples, lists, dicts."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, TensorBase):
            yield v
        elif isinstance(v, (tuple, list)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
