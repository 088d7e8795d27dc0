"""How many cores autograd_nn uses, and the small persistent pool that splits its kernels' work.

`set_num_threads(n)` is PyTorch's: the number of threads an op may use. The ops that are worth
splitting (a convolution over its batch, a large matrix product over its rows) cut their work into
blocks and hand them to `parallel_for`, which runs them on `n - 1` persistent worker threads and the
calling thread. The blocks run Numba kernels compiled with `nogil=True` and NumPy's BLAS, both of
which release the GIL, so the threads really run at once.

One pool, not two. NumPy's OpenBLAS keeps a pool of its own whose idle threads spin (about 35 ms after
each multi-threaded call, measured on this machine) before they sleep. With both pools on two cores,
every block of ours competed with a spinning OpenBLAS thread, and two-thread timings swung by 2-3x
from one run to the next. So autograd_nn runs BLAS single-threaded (through `threadpoolctl`, once,
when the thread count is first set) and parallelises itself; a large product is split by rows
(`ops/linalg.py`), which keeps NumPy's own GEMM speed on all cores. NumPy code of your own in the
same process then also gets one BLAS thread: `threadpoolctl.threadpool_limits(n, "blas")` gives it
more (autograd_nn's ops are not affected by that, other than competing for the cores).

Results are bit-identical for a fixed thread count: a block's result never depends on the thread that
ran it, and partial results (a weight gradient summed over blocks) are added in block order.

The default is the first positive integer among the environment variables `OMP_NUM_THREADS`,
`NUMBA_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS`, else the number of cores this
process may run on.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

ENV_VARS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_lock = threading.Lock()
_num_threads = 0  # 0: not set yet (read from the environment on first use)
_pool: _Pool | None = None
_blas_limited = False
_local = threading.local()  # .busy: this thread is running a block (nested calls run inline)


def usable_cores() -> int:
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_from_environment() -> int:
    """The thread count the environment asks for (see the module docstring for the order)."""
    for var in ENV_VARS:
        value = os.environ.get(var, "").strip().split(",")[0]
        if value.isdigit() and int(value) > 0:
            return int(value)
    return usable_cores()


def get_num_threads() -> int:
    """The number of threads autograd_nn's ops use (like `torch.get_num_threads`)."""
    if not _num_threads:
        set_num_threads(threads_from_environment())
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use `n` threads (the caller and n - 1 workers) in the ops that split their work.

    Also limits NumPy's BLAS to one thread (once): autograd_nn does the splitting, so BLAS threads
    would only compete with it for the same cores.
    """
    global _num_threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _lock:
        _num_threads = n
        if _pool is not None and _pool.workers != n - 1:
            _pool.close()
            _pool = None
        _limit_blas()


def _limit_blas() -> None:
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; BLAS then keeps its own threads
        return
    threadpool_limits(1, user_api="blas")


def parallel_for(n_tasks: int, task: Callable[[int], Any]) -> None:
    """Run task(0), ..., task(n_tasks - 1), spread over the pool; return when all are done.

    Tasks must write disjoint outputs (or return nothing the caller combines out of order). The
    calling thread runs tasks too. With one thread, one task, or when called from inside a task,
    everything runs here, in order. The first exception a task raises is re-raised here.
    """
    threads = get_num_threads()
    if threads == 1 or n_tasks <= 1 or getattr(_local, "busy", False):
        for i in range(n_tasks):
            task(i)
        return
    global _pool
    pool = _pool
    if pool is None:
        with _lock:
            if _pool is None:
                _pool = _Pool(threads - 1)
            pool = _pool
    pool.run(n_tasks, task)


def blocks(n: int, parts: int) -> list[tuple[int, int]]:
    """[start, stop) ranges splitting range(n) into at most `parts` near-equal contiguous blocks."""
    parts = max(1, min(parts, n))
    return [(n * k // parts, n * (k + 1) // parts) for k in range(parts)]


class _Job:
    """One `parallel_for` call: tasks are claimed from a shared counter by whichever thread is free."""

    def __init__(self, n_tasks: int, task: Callable[[int], Any]) -> None:
        self.n_tasks, self.task = n_tasks, task
        self.claim = itertools.count()  # next() is atomic under the GIL
        self.done = 0
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def work(self) -> None:
        _local.busy = True
        try:
            while True:
                i = next(self.claim)
                if i >= self.n_tasks:
                    return
                try:
                    if self.error is None:
                        self.task(i)
                except BaseException as err:
                    self.error = self.error or err
                with self.lock:
                    self.done += 1
                    if self.done == self.n_tasks:
                        self.finished.set()
        finally:
            _local.busy = False


class _Pool:
    """`workers` daemon threads that sleep on a queue (no spinning) until a job arrives."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._loop, name=f"autograd_nn-{k}", daemon=True) for k in range(workers)
        ]
        for t in self.threads:
            t.start()

    def _loop(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            job.work()

    def run(self, n_tasks: int, task: Callable[[int], Any]) -> None:
        job = _Job(n_tasks, task)
        for _ in range(min(self.workers, n_tasks - 1)):
            self.queue.put(job)
        job.work()
        job.finished.wait()
        if job.error is not None:
            raise job.error

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)


def _forget_pool_in_child() -> None:
    """A forked child has none of the parent's threads: start a pool of its own when needed."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


__all__ = [
    "blocks",
    "get_num_threads",
    "parallel_for",
    "set_num_threads",
    "threads_from_environment",
    "usable_cores",
]
