"""Collectives on Tensors, in place, as in `torch.distributed`: MPI reads and writes the tensors'
own arrays (no copies, except where MPI needs one buffer for several tensors: `all_gather`).

Every call is a non-blocking MPI collective; `async_op=True` returns its `Work` (`wait()` later),
otherwise it is waited for here. Waiting is bounded by the group's timeout (see `process_group`).
As with MPI, every rank must call the same collectives in the same order, on tensors of the same
shape and dtype.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import TensorBase
from .process_group import group as default_group
from .process_group import mpi, wait_all


class ReduceOp(enum.Enum):
    """How `all_reduce` and `reduce` combine the ranks' tensors."""

    SUM = "sum"
    AVG = "avg"  # floating point only: the sum divided by the world size
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"  # integers and bool
    BOR = "bor"
    BXOR = "bxor"


class Work:
    """A collective in flight: `wait()` blocks until it is done (then the tensors hold the result)."""

    def __init__(self, requests: list, what: str, done: Callable[[], None] | None = None) -> None:
        self._requests, self._what, self._done = requests, what, done
        self._finished = False

    def is_completed(self) -> bool:
        """True once the collective has completed (and its result is written); never blocks."""
        if not self._finished and mpi().Request.Testall(self._requests):
            self._finish()
        return self._finished

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (at most `timeout` seconds, default the group's, then abort the job)."""
        if not self._finished:
            wait_all(self._requests, self._what, timeout)
            self._finish()
        return True

    def _finish(self) -> None:
        self._finished = True
        if self._done is not None:
            self._done()


def _array(op: str, tensor: Any) -> np.ndarray:
    """The tensor's own array, which MPI will read and write: contiguous, writable, MPI-typed."""
    if not isinstance(tensor, TensorBase):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    arr = tensor._data
    if not arr.flags.c_contiguous:
        raise ShapeError(
            f"{op}: the tensor of shape {arr.shape} is not contiguous (strides "
            f"{arr.strides}); MPI works on whole buffers: pass tensor.contiguous()"
        )
    if arr.dtype == np.float16:
        raise DTypeError(f"{op}: float16 has no MPI datatype; cast the tensor to float32")
    if not arr.flags.writeable:
        raise ValueError(f"{op}: the tensor's memory is read-only, so it cannot receive the result")
    return arr


def _written(tensor: TensorBase, op: str) -> None:
    """Stamp the version of a tensor whose array MPI has filled (in-place door, after the fact;
    `_array` made the checks before MPI was given the array)."""
    with tensor._inplace(op, check=False):
        pass


def _mpi_op(op: str, reduce_op: ReduceOp, dtype: np.dtype) -> Any:
    MPI = mpi()
    if not isinstance(reduce_op, ReduceOp):
        raise TypeError(f"{op}: op must be a ReduceOp (ReduceOp.SUM, AVG, ...), got {reduce_op!r}")
    if dtype == np.bool_:  # MPI has only logical operations on booleans
        table = {
            ReduceOp.SUM: MPI.LOR,
            ReduceOp.MAX: MPI.LOR,
            ReduceOp.BOR: MPI.LOR,
            ReduceOp.MIN: MPI.LAND,
            ReduceOp.PRODUCT: MPI.LAND,
            ReduceOp.BAND: MPI.LAND,
            ReduceOp.BXOR: MPI.LXOR,
        }
    else:
        table = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
            ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR,
            ReduceOp.BXOR: MPI.BXOR,
        }
    if reduce_op is ReduceOp.AVG and dtype.kind != "f":
        raise DTypeError(f"{op}: ReduceOp.AVG needs a floating-point tensor, got {dtype}; use SUM")
    if reduce_op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind == "f":
        raise DTypeError(f"{op}: {reduce_op.name} needs an integer or bool tensor, got {dtype}")
    if reduce_op not in table:
        raise DTypeError(f"{op}: {reduce_op.name} is not defined for {dtype} tensors")
    return table[reduce_op]


def _check_rank(op: str, name: str, rank: int, size: int) -> int:
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
        raise ValueError(f"{op}: {name}={rank!r} is not a rank of this group (0 .. {size - 1})")
    return int(rank)


def _no_group_argument(op: str, group_arg: Any) -> None:
    if group_arg is not None:
        raise ValueError(f"{op}: only the default group (group=None) is supported")


def _run(work: Work, async_op: bool) -> Work | None:
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(
    tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Combine `tensor` across ranks with `op`; every rank's `tensor` then holds the result."""
    _no_group_argument("all_reduce", group)
    return _run(all_reduce_array(_array("all_reduce", tensor), op, "all_reduce", tensor), async_op)


def all_reduce_array(
    arr: np.ndarray, op: ReduceOp = ReduceOp.SUM, what: str = "all_reduce", owner: Any = None
) -> Work:
    """`all_reduce` on a contiguous array (for library code that keeps flat buffers: DDP, SyncBN)."""
    g = default_group()
    mpi_op = _mpi_op(what, op, arr.dtype)
    request = g.comm.Iallreduce(mpi().IN_PLACE, arr, op=mpi_op)

    def done() -> None:
        if op is ReduceOp.AVG:
            np.divide(arr, g.size, out=arr, casting="unsafe")
        if owner is not None:
            _written(owner, what)

    return Work([request], what, done)


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Copy rank `src`'s `tensor` into every other rank's `tensor`."""
    _no_group_argument("broadcast", group)
    arr = _array("broadcast", tensor)
    g = default_group()
    src = _check_rank("broadcast", "src", src, g.size)
    request = g.comm.Ibcast(arr, root=src)
    return _run(Work([request], "broadcast", lambda: _written(tensor, "broadcast")), async_op)


def reduce(
    tensor: Any, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Combine `tensor` across ranks with `op` into rank `dst`'s `tensor` (others keep theirs)."""
    _no_group_argument("reduce", group)
    arr = _array("reduce", tensor)
    g = default_group()
    dst = _check_rank("reduce", "dst", dst, g.size)
    mpi_op = _mpi_op("reduce", op, arr.dtype)
    if g.rank == dst:
        request = g.comm.Ireduce(mpi().IN_PLACE, arr, op=mpi_op, root=dst)
    else:
        request = g.comm.Ireduce(arr, None, op=mpi_op, root=dst)

    def done() -> None:
        if g.rank == dst:
            if op is ReduceOp.AVG:
                np.divide(arr, g.size, out=arr, casting="unsafe")
            _written(tensor, "reduce")

    return _run(Work([request], "reduce", done), async_op)


def all_gather(
    tensor_list: Sequence[Any], tensor: Any, group: Any = None, async_op: bool = False
) -> Work | None:
    """Fill `tensor_list[r]` with rank r's `tensor`, on every rank.

    MPI gathers into one buffer, which is then copied into the list's tensors; to gather without
    that copy use `all_gather_into_tensor`.
    """
    _no_group_argument("all_gather", group)
    arr = _array("all_gather", tensor)
    g = default_group()
    outs = list(tensor_list)
    if len(outs) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(outs)} tensors; the group has {g.size} ranks")
    for i, out in enumerate(outs):
        target = _array("all_gather", out)
        if target.shape != arr.shape or target.dtype != arr.dtype:
            raise ShapeError(
                f"all_gather: tensor_list[{i}] is {target.shape} {target.dtype}, the "
                f"input is {arr.shape} {arr.dtype}"
            )
    gathered = np.empty((g.size,) + arr.shape, dtype=arr.dtype)
    request = g.comm.Iallgather(arr, gathered)

    def done() -> None:
        for out, part in zip(outs, gathered):
            with out._inplace("all_gather", check=False) as target:  # checked above
                target[...] = part

    return _run(Work([request], "all_gather", done), async_op)


def all_gather_into_tensor(
    output_tensor: Any, input_tensor: Any, group: Any = None, async_op: bool = False
) -> Work | None:
    """Gather every rank's `input_tensor` into `output_tensor`, stacked ((world, *shape)) or
    concatenated along dim 0 ((world * n, ...)); MPI writes straight into the output."""
    _no_group_argument("all_gather_into_tensor", group)
    arr = _array("all_gather_into_tensor", input_tensor)
    out = _array("all_gather_into_tensor", output_tensor)
    g = default_group()
    stacked = (g.size,) + arr.shape
    concatenated = (g.size * arr.shape[0],) + arr.shape[1:] if arr.ndim else None
    if out.dtype != arr.dtype or out.shape not in (stacked, concatenated):
        raise ShapeError(
            f"all_gather_into_tensor: output {out.shape} {out.dtype} does not hold "
            f"{g.size} inputs of {arr.shape} {arr.dtype} (expected {stacked}"
            + (f" or {concatenated})" if concatenated else ")")
        )
    request = g.comm.Iallgather(arr, out)
    return _run(
        Work([request], "all_gather_into_tensor", lambda: _written(output_tensor, "all_gather_into_tensor")),
        async_op,
    )


def barrier(group: Any = None, async_op: bool = False) -> Work | None:
    """Wait until every rank has reached this call."""
    _no_group_argument("barrier", group)
    return _run(Work([default_group().comm.Ibarrier()], "barrier"), async_op)
