"""Per-rank thread defaults: ranks on one machine share its cores instead of fighting over them.

Two processes each running a BLAS pool and a Numba pool as wide as the machine measure the fight,
not the work. So each rank takes (cores it may run on) / (ranks on this machine that may run on
any of those cores) threads: with `mpirun --bind-to core` that is its own core(s), without binding
an equal share of the machine. Explicit OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS or
NUMBA_NUM_THREADS in the environment win: then nothing is changed.
"""

from __future__ import annotations

import os
from typing import Any

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def usable_cores() -> set[int]:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


def share_of_cores(mine: set[int], everyone_on_this_machine: list[set[int]]) -> int:
    """Threads for a rank that may use `mine`, given every local rank's cores (its own included)."""
    sharing = sum(1 for other in everyone_on_this_machine if mine & other)
    return max(1, len(mine) // max(sharing, 1))


def set_rank_threads(comm: Any, MPI: Any) -> int | None:
    """Set this rank's BLAS and Numba thread counts to its share of the cores; returns the count
    (None when the environment fixes thread counts and nothing was changed)."""
    mine = usable_cores()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this machine
    try:
        everyone = [set(c) for c in local.allgather(sorted(mine))]
    finally:
        local.Free()
    if any(v in os.environ for v in THREAD_VARIABLES):
        return None
    threads = share_of_cores(mine, everyone)
    limit_threads(threads)
    return threads


def limit_threads(threads: int) -> None:
    """BLAS/OpenMP pools (through threadpoolctl, when installed) and Numba's pool to `threads`."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:  # threadpoolctl comes with the examples/distributed extras
        pass
    import numba

    limit = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set by numba at import
    numba.set_num_threads(max(1, min(threads, limit)))
