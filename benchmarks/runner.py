"""The parent side of a benchmark run: one persistent worker process per library, interleaved timing.

Why processes: in one process PyTorch's OpenMP pool and OpenBLAS's pthreads pool share the cores,
and the idle threads of one spin while the other is timed (one such run measured PyTorch's GEMM at
101 GFLOP/s instead of 255, and an attention step at 257 ms instead of 2-3 ms). Here each library
runs in its own `worker.py`, started once per thread count and kept for every row, so its pools and
caches stay warm.

Why alternate: the machine may be shared, and load comes in bursts. For each row the parent asks
the workers for short batches of samples in the order A, B, C, C, B, A, A, B, C, ... so a burst hits
every library alike, and reports medians and interquartile ranges. Between two batches of different
workers it pauses `settle` seconds: a library's idle threads keep spinning for a while after its
last parallel region (OpenBLAS about 35 ms after a multi-threaded call, measured here; GNU OpenMP
less), and that spinning must not land on the next library's timing.

Environment of every worker: the parent's, without any inherited thread-count variable, plus
OMP_NUM_THREADS=N. All three libraries read it (PyTorch for its intra-op pool, OpenBLAS when
OPENBLAS_NUM_THREADS is unset, autograd_nn for `set_num_threads`). Nothing else is set: no
OMP_WAIT_POLICY, no OpenBLAS thread timeout, no pinning: each library runs as a user gets it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from .harness import Row, Stats, Workload, agree, calibrate, fill_metric

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class WorkerError(RuntimeError):
    pass


class WorkerProcess:
    """`python -m benchmarks.worker IMPL` with OMP_NUM_THREADS=threads; `ask` sends one command."""

    def __init__(self, impl: str, threads: int) -> None:
        self.impl, self.threads = impl, threads
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
        env["OMP_NUM_THREADS"] = str(threads)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        # the worker's stderr, read back on failure; closed in close()
        self.log = tempfile.TemporaryFile(mode="w+", prefix=f"bench-{impl}-")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", impl],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )

    def ask(self, **cmd: Any) -> dict[str, Any]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None  # opened with PIPE
        try:
            stdin.write(json.dumps(cmd) + "\n")
            stdin.flush()
            line = stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self.log.seek(0)
            tail = self.log.read().strip().splitlines()[-3:]
            raise WorkerError(f"{self.impl} worker died: {' | '.join(tail)}")
        return json.loads(line)

    def close(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None  # opened with PIPE
        try:
            stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.log.close()


def start_workers(threads: int, with_torch: bool) -> dict[str, WorkerProcess]:
    impls = ("ours", "torch", "numpy") if with_torch else ("ours", "numpy")
    return {impl: WorkerProcess(impl, threads) for impl in impls}


def close_workers(workers: dict[str, WorkerProcess]) -> None:
    for w in workers.values():
        w.close()


def alternating(impls: list[str], rounds: int) -> list[str]:
    """A, B, C, C, B, A, A, B, C, ...: each round reverses the last one's order."""
    order: list[str] = []
    for r in range(rounds):
        order += impls if r % 2 == 0 else impls[::-1]
    return order


def measure(
    key: str,
    workers: dict[str, WorkerProcess],
    threads: int,
    *,
    quick: bool,
    repeats: int,
    batch: int,
    warmup: int,
    min_time: float,
    settle: float,
    budget: float = 120.0,
) -> list[Row]:
    """One row (plus its one-time-cost row, if the workload asks) timed across the workers.

    Sampling stops early, after whole rounds, once the row has run for `budget` seconds (a loaded
    machine can make one library's calls very slow); the note then says how many samples it got.
    """
    row = Row(key, key, threads=threads)
    built: dict[str, dict[str, Any]] = {}
    work: Workload | None = None
    try:
        for impl, w in workers.items():
            reply = w.ask(cmd="build", key=key, quick=quick, warmup=warmup)
            if "error" in reply:
                raise WorkerError(f"{impl}: {reply['error']}")
            work = work or Workload.described(reply["work"])
            if not reply.get("absent"):
                built[impl] = reply
            time.sleep(settle)
        assert work is not None
        row.name, row.target, row.note = work.name, str(work.target) if work.target else None, work.note
        if "ours" in built and built["ours"].get("check"):
            row.note = "; ".join(s for s in (row.note, built["ours"]["check"]) if s)
        row.agree = agree({k: v["summary"] for k, v in built.items()}, work.baseline)
        numbers = {k: calibrate(v["warm_s"], min_time) for k, v in built.items()}
        n = min(repeats, work.repeats or repeats)
        per = max(1, min(batch, n))
        samples: dict[str, list[float]] = {k: [] for k in built}
        previous = None
        started = time.perf_counter()
        for turn, impl in enumerate(alternating(list(built), math.ceil(n / per))):
            if turn and turn % len(built) == 0 and time.perf_counter() - started > budget:
                row.note = "; ".join(
                    s
                    for s in (
                        row.note,
                        f"stopped after {budget:.0f} s: {min(map(len, samples.values()))} samples",
                    )
                    if s
                )
                break
            if previous is not None and previous != impl:
                time.sleep(settle)
            want = min(per, n - len(samples[impl]))
            if want <= 0:
                continue
            reply = workers[impl].ask(cmd="time", key=key, number=numbers[impl], samples=want)
            if "error" in reply:
                raise WorkerError(f"{impl}: {reply['error']}")
            samples[impl] += reply["samples"]
            previous = impl
        row.times = {k: Stats.of(v) for k, v in samples.items()}
        fill_metric(row, work, samples)
    except Exception as err:
        row.error = f"{type(err).__name__}: {err}"
        return [row]
    finally:
        for w in workers.values():
            with contextlib.suppress(WorkerError):
                w.ask(cmd="drop", key=key)
    rows = [row]
    if work.one_time:
        rows.append(one_time_row(row, built))
    return rows


def one_time_row(row: Row, built: dict[str, dict[str, Any]]) -> Row:
    """The first call's extra cost over the median call, per library (compiling, caches, buffers)."""
    extra = Row(
        row.key + "0",
        f"{row.name}: first run's extra cost (compile / load, once)",
        threads=row.threads,
        unit="s",
    )
    for impl, reply in built.items():
        if impl in row.times:
            extra.times[impl] = Stats.of([max(0.0, reply["first_s"] - row.times[impl].median)])
    if "ours" in extra.times:
        extra.metric = extra.times["ours"].median
    extra.note = (
        "first call minus the median call; autograd_nn's includes loading (or, on an "
        "empty cache, compiling) the Numba kernels this workload runs"
    )
    return extra


def worker_threads(workers: dict[str, WorkerProcess]) -> dict[str, Any]:
    """What each worker reports about its libraries' thread counts."""
    out = {}
    for impl, w in workers.items():
        reply = w.ask(cmd="hello")
        out[impl] = reply.get("threads", reply.get("error"))
    return out
