"""The default process group: this process's rank among `world_size` processes, over MPI.

MPI (through mpi4py) starts the processes (`mpirun -n 4 python train.py`), tells each its rank and
moves the bytes; this module wraps it in PyTorch's `torch.distributed` names. mpi4py is imported only
when `init_process_group` runs, so `import autograd_nn` never needs it.

A failed rank must not leave the others waiting forever. So, once the group exists:
- an exception that escapes on any rank prints its traceback and aborts every rank (MPI_Abort);
- a collective that has not completed within the group's `timeout` aborts every rank with a message
  naming the collective (a rank that died, hung or stopped calling collectives);
- a rank that is killed is noticed by `mpirun`, which ends the others.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

from ..errors import DistributedError

DEFAULT_TIMEOUT = timedelta(minutes=30)  # PyTorch's default for CPU process groups

MISSING_MPI = (
    "autograd_nn.distributed needs mpi4py and an MPI library: pip install 'autograd-nn[distributed]' "
    "and an MPI such as Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev), or run "
    "`bash scripts/install.sh distributed`"
)


def mpi() -> Any:
    """The `mpi4py.MPI` module (imported on first use), or an ImportError that says what to install."""
    try:
        import mpi4py
    except ImportError:
        raise ImportError(MISSING_MPI) from None
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.thread_level = "funneled"  # only the main thread calls MPI (Numba/BLAS threads don't)
    try:
        from mpi4py import MPI
    except (ImportError, RuntimeError) as err:  # mpi4py present but libmpi missing or broken
        raise ImportError(f"{MISSING_MPI} (loading MPI failed: {err})") from None
    return MPI


@dataclass
class ProcessGroup:
    """The processes that take part in collectives, and how long a collective may wait."""

    comm: Any  # our own duplicate of MPI's COMM_WORLD, so user MPI traffic never mixes with ours
    rank: int
    size: int
    timeout: float  # seconds
    threads: int | None  # BLAS/Numba threads set for this rank (None: left as the environment says)


class _State:
    group: ProcessGroup | None = None
    previous_excepthook: Callable[..., Any] | None = None


_state = _State()


def is_available() -> bool:
    """True when mpi4py and an MPI library can be loaded (without initialising anything)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized() -> bool:
    """True between `init_process_group` and `destroy_process_group`."""
    return _state.group is not None


def group() -> ProcessGroup:
    """The default group, or a clear error when `init_process_group` has not run."""
    g = _state.group
    if g is None:
        raise DistributedError(
            "Default process group has not been initialized: call "
            "autograd_nn.distributed.init_process_group() first (and launch with mpirun -n N or "
            "python -m autograd_nn.distributed.run -n N)"
        )
    return g


def init_process_group(
    backend: str = "mpi",
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join the job that `mpirun` started: rank and world size come from MPI.

    `timeout` bounds how long any collective may wait (default 30 minutes) before every rank is
    aborted. `world_size` and `rank`, when given, are checked against MPI's. Unless
    OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS / NUMBA_NUM_THREADS is set, each rank
    then uses its share of the cores it may run on for BLAS and Numba (cores / ranks sharing them).
    """
    if str(backend).lower() != "mpi":
        raise ValueError(
            f"init_process_group: backend {backend!r} is not available; autograd_nn "
            "runs on MPI: use backend='mpi'"
        )
    if init_method not in (None, "env://"):
        raise ValueError(
            f"init_process_group: init_method {init_method!r} is not used with MPI: "
            "mpirun tells every process where the others are"
        )
    if _state.group is not None:
        raise DistributedError("init_process_group: the default process group is already initialized")
    seconds = (timeout or DEFAULT_TIMEOUT).total_seconds()
    if seconds <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout}")
    MPI = mpi()
    comm = MPI.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, size) or rank not in (-1, me):
        comm.Free()
        raise ValueError(
            f"init_process_group: world_size={world_size}, rank={rank} given, but MPI "
            f"started this process as rank {me} of {size}"
        )
    from .threads import set_rank_threads

    threads = set_rank_threads(comm, MPI)
    _state.group = ProcessGroup(comm, me, size, seconds, threads)
    _state.previous_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught_exception


def destroy_process_group() -> None:
    """Leave the group (MPI itself stays up until the process exits, as MPI requires)."""
    g = group()
    _state.group = None
    if sys.excepthook is _abort_on_uncaught_exception and _state.previous_excepthook is not None:
        sys.excepthook = _state.previous_excepthook
    g.comm.Free()


def get_rank() -> int:
    """This process's rank, 0 .. world_size - 1."""
    return group().rank


def get_world_size() -> int:
    """How many processes the job has."""
    return group().size


def is_main_process() -> bool:
    """True on rank 0, or when no process group is running: the process that writes files and prints."""
    g = _state.group
    return g is None or g.rank == 0


def abort(message: str, code: int = 1) -> None:
    """Print `message` (with this rank) and end every process of the job (MPI_Abort)."""
    g = _state.group
    who = f"rank {g.rank} of {g.size}" if g is not None else "this process"
    sys.stderr.write(f"autograd_nn.distributed: {who}: {message}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    if g is not None:
        g.comm.Abort(code)
    mpi().COMM_WORLD.Abort(code)


def _abort_on_uncaught_exception(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    previous = _state.previous_excepthook or sys.__excepthook__
    previous(kind, value, tb)
    g = _state.group
    if g is not None and g.size > 1:
        abort(f"stopped on an uncaught {kind.__name__}; aborting every rank (MPI_Abort) so none waits for it")


# How a rank waits for a collective (see `wait_all`): spinning answers fastest when the other ranks
# are running too; yielding lets them run when the machine has more busy processes than cores.
SPIN_SECONDS = 2e-4
YIELD_SECONDS = 0.02


def wait_all(requests: list, what: str, timeout: float | None = None) -> None:
    """Wait for MPI requests, aborting the job when they take longer than the group's timeout.

    Polls, because Open MPI moves a non-blocking collective forward only while a rank calls into
    MPI: busily for SPIN_SECONDS, then yielding the core between polls (a peer rank that shares it
    can run) until YIELD_SECONDS, then every millisecond, so a rank waiting long for a slow peer
    (rank 0 writing a checkpoint) leaves it the core.
    """
    MPI = mpi()
    if MPI.Request.Testall(requests):
        return
    limit = group().timeout if timeout is None else timeout
    start = time.monotonic()
    while not MPI.Request.Testall(requests):
        waited = time.monotonic() - start
        if waited < SPIN_SECONDS:
            continue
        if waited < YIELD_SECONDS:
            os.sched_yield()
            continue
        time.sleep(1e-3)
        if waited > limit:
            abort(
                f"{what} did not complete within the {limit:g} s timeout: another rank has "
                "probably died, hung, or stopped calling the same collectives in the same "
                "order; aborting every rank"
            )
