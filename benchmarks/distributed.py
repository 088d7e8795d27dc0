"""Data parallelism over MPI: the DDPt and DDPo rows of `python -m benchmarks`.

- DDPt: samples per second training the digits CNN (DigitsCNN of the main job, Adam, global batch
  64 of 8x8 images), 2 processes x 1 thread (DistributedDataParallel + SyncBatchNorm, 32 samples
  per rank, as `--nproc 2` runs it) against 1 process x 2 threads (no DDP). Metric: the 2-process
  rate / the 1-process rate (higher is better). The note adds 2 processes with plain BatchNorm
  (no collectives in forward) and 1 process x 1 thread. Each configuration runs in its own
  processes, alternating, median of the repeats.
- DDPo: the share of the gradient all-reduce time that DDP hides behind the backward pass, on 2
  ranks: with T_serial the backward under `no_sync()` followed by the same buckets filled,
  all-reduced and written back (no overlap), T_ddp the synced DDP backward (hooks, overlapped
  all-reduces, final wait), both timed from a barrier, and T_comm the all-reduce alone,
  hidden = (T_serial - T_ddp) / T_comm, clipped to [0, 1]. Measured on the 784-256-
  256-10 MLP of W2 (batch 128, 1 MB of gradients in 0.25 MB buckets) and, in the note, the digits
  CNN (24 KB of gradients in 4 KB buckets; one 25 MB bucket could hide nothing).

Children: `python -m benchmarks.distributed train|overlap --out FILE ...` (under mpirun for 2
processes); rank 0 writes its JSON result to FILE, so nothing MPI prints on stdout can garble it.
Without mpirun or mpi4py the rows say so and carry no metric.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- children -----------------------------------------------------------------------------------
def _init() -> tuple[int, int]:
    """(rank, world size): joins the MPI job when mpirun started this process."""
    from autograd_nn.distributed.run import world_size_from_environment

    if world_size_from_environment() > 1:
        import autograd_nn.distributed as dist

        dist.init_process_group("mpi")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _sync() -> None:
    import autograd_nn.distributed as dist

    if dist.is_initialized():
        dist.barrier()


def child_train(batch: int, steps: int, warmup: int, sync_bn: bool) -> dict[str, Any]:
    """Samples/s of `steps` training steps of the digits CNN on a global batch of `batch`."""
    import numpy as np

    import autograd_nn as an
    from autograd_nn import nn, optim
    from autograd_nn.examples.cnn import DigitsCNN
    from autograd_nn.nn import functional as F

    rank, size = _init()
    an.manual_seed(0)
    model: Any = DigitsCNN()
    if size > 1:
        from autograd_nn.nn.parallel import DistributedDataParallel

        if sync_bn:  # as the main job runs it (examples/data_parallel.py)
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = DistributedDataParallel(model, broadcast_buffers=not sync_bn)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    local = batch // size
    x = an.tensor(rng.normal(size=(local, 1, 8, 8)).astype(np.float32))
    y = an.tensor(rng.integers(0, 10, local))

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    _sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync()
    elapsed = time.perf_counter() - start
    return {
        "rank": rank,
        "size": size,
        "samples_per_s": steps * batch / elapsed,
        "step_ms": 1e3 * elapsed / steps,
    }


def child_overlap(steps: int, quick: bool) -> dict[str, Any]:
    """T_ddp, T_local and T_comm (medians, seconds) for the MLP and the digits CNN on this job."""
    import numpy as np

    import autograd_nn as an
    from autograd_nn import nn
    from autograd_nn.examples.cnn import DigitsCNN
    from autograd_nn.nn.parallel import DistributedDataParallel

    rank, size = _init()
    if size < 2:
        raise SystemExit("the overlap child runs under mpirun -n 2")
    an.manual_seed(0)
    rng = np.random.default_rng(rank)
    sizes = [784, 64, 64, 10] if quick else [784, 256, 256, 10]
    mlp = nn.Sequential(
        nn.Linear(sizes[0], sizes[1]),
        nn.ReLU(),
        nn.Linear(sizes[1], sizes[2]),
        nn.ReLU(),
        nn.Linear(sizes[2], sizes[3]),
    )
    setups = {
        "mlp": (
            DistributedDataParallel(mlp, bucket_cap_mb=0.25),
            rng.normal(size=(128 // size, 784)).astype(np.float32),
        ),
        "cnn": (
            DistributedDataParallel(DigitsCNN(), bucket_cap_mb=4 / 1024),
            rng.normal(size=(64 // size, 1, 8, 8)).astype(np.float32),
        ),
    }
    out: dict[str, Any] = {"rank": rank}
    for name, (model, xs) in setups.items():
        out[name] = _overlap_times(model, an.tensor(xs), an.tensor(rng.integers(0, 10, len(xs))), steps)
    return out


def _overlap_times(model: Any, x: Any, y: Any, steps: int) -> dict[str, Any]:
    """Medians of: the synced DDP backward; the same work without overlap (backward under
    no_sync(), then the buckets filled, all-reduced and written back); the all-reduce alone. Each
    timed from a barrier, so waiting for a slower rank counts in both backward variants alike."""
    import numpy as np

    from autograd_nn.distributed.collectives import ReduceOp, all_reduce_array
    from autograd_nn.nn import functional as F

    buckets = model.reducer.buckets
    size = model.reducer.world_size

    def loss_of(sync: bool) -> Any:
        if sync:
            return F.cross_entropy(model(x), y)
        with model.no_sync():
            return F.cross_entropy(model(x), y)

    def ddp() -> float:
        loss = loss_of(True)
        model.zero_grad()
        _sync()
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    def serial() -> float:
        loss = loss_of(False)
        model.zero_grad()
        _sync()
        start = time.perf_counter()
        loss.backward()
        for b in buckets:
            for p, offset in zip(b.params, b.offsets):
                b.flat[offset : offset + p._data.size] = p.grad._data.reshape(-1)
        works = [all_reduce_array(b.flat, ReduceOp.SUM, "bucket") for b in buckets]
        for b, w in zip(buckets, works):
            w.wait()
            for p, offset in zip(b.params, b.offsets):
                np.divide(
                    b.flat[offset : offset + p._data.size].reshape(p._data.shape), size, out=p.grad._data
                )
        return time.perf_counter() - start

    def comm() -> float:
        _sync()
        start = time.perf_counter()
        works = [all_reduce_array(b.flat, ReduceOp.SUM, "bucket") for b in buckets]
        for w in works:
            w.wait()
        return time.perf_counter() - start

    times: dict[str, list[float]] = {"ddp": [], "serial": [], "comm": []}
    for i in range(steps + 2):  # the first two are warm-up
        samples = {"ddp": ddp(), "serial": serial(), "comm": comm()}
        if i >= 2:
            for k, v in samples.items():
                times[k].append(v)
    med = {k: statistics.median(v) for k, v in times.items()}
    hidden = (med["serial"] - med["ddp"]) / med["comm"] if med["comm"] > 0 else 0.0
    return {
        **{f"{k}_ms": 1e3 * v for k, v in med.items()},
        "hidden": min(1.0, max(0.0, hidden)),
        "buckets": len(buckets),
        "grad_kb": sum(b.flat.nbytes for b in buckets) / 1024,
    }


# ---- parent -------------------------------------------------------------------------------------
def available() -> str | None:
    """None when the rows can run, else why not."""
    if shutil.which("mpirun") is None:
        return "mpirun not found (install Open MPI: bash scripts/install.sh test)"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py not installed (pip install 'autograd-nn[distributed]')"
    return None


def _spawn(procs: int, threads: int, args: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    with tempfile.TemporaryDirectory(prefix="ddp-bench-") as folder:
        result = os.path.join(folder, "result.json")
        cmd = [sys.executable, "-m", "benchmarks.distributed", *args, "--out", result]
        if procs > 1:
            cmd = (
                ["mpirun", "-n", str(procs), "--oversubscribe", "--bind-to", "none"]
                + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
                + cmd
            )
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not os.path.exists(result):
            tail = (proc.stdout.strip().splitlines() + proc.stderr.strip().splitlines())[-4:]
            raise RuntimeError(
                f"{args[0]} child on {procs} process(es) exited {proc.returncode} without a result: {tail}"
            )
        with open(result, encoding="utf-8") as f:
            return json.load(f)


def rows(quick: bool = False, repeats: int = 3) -> list[Any]:
    """The DDPt and DDPo rows (`harness.Row`s; a missing MPI gives a note, a failure an error)."""
    from .harness import Row, Stats

    steps, warmup = (5, 2) if quick else (300, 20)
    repeats = 1 if quick else repeats
    thr = Row(
        "DDPt", "digits CNN samples/s, 2 procs x 1 thread vs 1 proc x 2 threads, batch 64", unit="2p/1p rate"
    )
    ovl = Row("DDPo", "share of DDP all-reduce time hidden by backward, 2 ranks (MLP of W2)", unit="share")
    missing = available()
    if missing:
        thr.note = ovl.note = f"skipped: {missing}"
        return [thr, ovl]
    try:
        one, two, two_plain, single = [], [], [], []
        train = ["train", "--steps", str(steps), "--warmup", str(warmup)]
        for _ in range(repeats):  # alternate, so load from other processes hits both alike
            one.append(_spawn(1, 2, train)["samples_per_s"])
            two.append(_spawn(2, 1, train)["samples_per_s"])
            two_plain.append(_spawn(2, 1, train + ["--plain-batchnorm"])["samples_per_s"])
            single.append(_spawn(1, 1, train)["samples_per_s"])
        one_m, two_m = statistics.median(one), statistics.median(two)
        thr.metric = two_m / one_m
        thr.metric_spread = (min(two) / max(one), max(two) / min(one))
        thr.times = {"ours": Stats.of([64 / s for s in two]), "numpy": Stats.of([64 / s for s in one])}
        thr.note = (
            f"samples/s: 1 proc x 2 threads {one_m:.0f}, 2 procs x 1 thread {two_m:.0f} "
            f"(DDP + SyncBatchNorm), {statistics.median(two_plain):.0f} (DDP, plain "
            f"BatchNorm); 1 proc x 1 thread {statistics.median(single):.0f}; median of "
            f"{repeats} alternating run(s) of {steps} steps; the "
            "'autograd_nn' column is seconds per step on 2 procs, 'numpy' on 1 proc"
        )
    except Exception as err:
        thr.error = f"{type(err).__name__}: {err}"
    try:
        runs = [
            _spawn(
                2,
                1,
                ["overlap", "--steps", str(steps // 3 if not quick else 3)] + (["--quick"] if quick else []),
            )
            for _ in range(repeats)
        ]
        mlp = [r["mlp"]["hidden"] for r in runs]
        ovl.metric = statistics.median(mlp)
        ovl.metric_spread = (min(mlp), max(mlp))
        m, c = runs[len(runs) // 2]["mlp"], runs[len(runs) // 2]["cnn"]
        ovl.times = {"ours": Stats.of([r["mlp"]["ddp_ms"] / 1e3 for r in runs])}
        ovl.note = (
            f"MLP: backward then all-reduce {m['serial_ms']:.2f} ms, DDP backward "
            f"{m['ddp_ms']:.2f} ms, all-reduce alone {m['comm_ms']:.2f} ms ({m['grad_kb']:.0f} "
            f"KB in {m['buckets']} buckets); digits CNN: {c['serial_ms']:.2f} / "
            f"{c['ddp_ms']:.2f} / {c['comm_ms']:.2f} ms ({c['grad_kb']:.0f} KB, {c['buckets']} "
            f"buckets), hidden {c['hidden']:.2f}; medians over steps, {repeats} run(s)"
        )
    except Exception as err:
        ovl.error = f"{type(err).__name__}: {err}"
    return [thr, ovl]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed")
    p.add_argument("mode", choices=["train", "overlap"])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--plain-batchnorm", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", required=True, help="rank 0 writes its JSON result here")
    args = p.parse_args(argv)
    if args.mode == "train":
        out = child_train(64, args.steps, args.warmup, not args.plain_batchnorm)
    else:
        out = child_overlap(args.steps, args.quick)
    if out["rank"] == 0:
        with open(args.out + ".part", "w", encoding="utf-8") as f:
            json.dump(out, f)
        os.replace(args.out + ".part", args.out)


if __name__ == "__main__":
    main()
