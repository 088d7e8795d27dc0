"""Cold start: `import autograd_nn` plus the first conv training step, in fresh interpreters.

Each measurement runs in a child process (`python -m benchmarks.coldstart child-step` or
`child-kernels`) that prints one JSON line. The parent points `NUMBA_CACHE_DIR` at a new empty
temporary directory: the first child there compiles every kernel it touches (cold cache), the next
ones load them from that directory (warm cache). Rows:

- COLDw: import + first step with a warm Numba cache (target <= 1.5 s), median of the runs.
- COLDc: the same with an empty cache (compile included; target <= 2.5 s).
- KERN:  every kernel in `autograd_nn.kernels` compiled from an empty cache on tiny inputs, the
         compile time (Numba's own compile events) reported apart from the run time.

Times are measured inside the child from just before `import autograd_nn`; interpreter start-up is
in the note. This module imports only the standard library at top level, so the child's clock
starts before NumPy loads.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from .harness import Target  # the standard library only


# ---- children ----------------------------------------------------------------------------------
def _compile_seconds(buffer: list) -> tuple[float, dict[str, float]]:
    """Wall time covered by top-level Numba compile events, in total and per dispatcher."""
    per: dict[str, float] = {}
    total, depth, start, name = 0.0, 0, 0.0, ""
    for stamp, event in sorted(buffer, key=lambda e: e[0]):
        if event.is_start:
            if depth == 0:
                func = getattr(event.data.get("dispatcher"), "py_func", None)
                start, name = stamp, getattr(func, "__qualname__", "?")
            depth += 1
        elif event.is_end:
            depth -= 1
            if depth == 0:
                total += stamp - start
                per[name] = per.get(name, 0.0) + stamp - start
    return total, per


def _first_conv_step(batch: int) -> float:
    """One training step of the W4 CNN; returns the loss."""
    import autograd_nn as an
    from autograd_nn import nn

    an.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 10),
    )
    opt = an.optim.SGD(model.parameters(), lr=0.01)
    x, y = an.randn(batch, 1, 28, 28), an.randint(0, 10, (batch,))
    loss = nn.CrossEntropyLoss()(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.item())


def child_step(batch: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import autograd_nn  # noqa: F401

    t1 = time.perf_counter()
    from numba.core import event

    with event.install_recorder("numba:compile") as rec:
        _first_conv_step(batch)
    t2 = time.perf_counter()
    compile_s, _ = _compile_seconds(rec.buffer)
    return {
        "import_s": t1 - t0,
        "step_s": t2 - t1,
        "total_s": t2 - t0,
        "compile_s": compile_s,
        "cpu_s": time.process_time(),
    }


def _exercise_kernels() -> None:
    """Forward + backward of every op family backed by a kernel, float32, tiny shapes.

    The fused ops are called directly from `autograd_nn.ops.fused`, whether or not `functional`
    routes through them yet.
    """
    import numpy as np

    import autograd_nn as an
    from autograd_nn import nn
    from autograd_nn.kernels import scatter_add_rows
    from autograd_nn.kernels import special as kspecial
    from autograd_nn.ops import fused

    def fb(module: Any, *shape: int) -> None:
        out = module(an.randn(*shape, requires_grad=True))
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()

    fb(nn.Conv2d(2, 3, 3, padding=1), 2, 2, 5, 5)
    fb(nn.MaxPool2d(2), 2, 2, 4, 4)
    fb(nn.AvgPool2d(2), 2, 2, 4, 4)
    fb(nn.AdaptiveAvgPool2d(2), 2, 2, 5, 5)
    fb(nn.LSTMCell(3, 4), 2, 3)
    fb(nn.GRUCell(3, 4), 2, 3)
    fb(nn.LSTM(3, 4), 2, 2, 3)  # the fused layers (kernels/rnn_layer.py)
    fb(nn.GRU(3, 4), 2, 2, 3)
    fb(nn.RNN(3, 4), 2, 2, 3)
    fb(nn.RNN(3, 4, nonlinearity="relu"), 2, 2, 3)
    fb(lambda x: fused.layer_norm(x, 4, an.ones(4), an.zeros(4)), 3, 4)
    fb(lambda x: fused.batch_norm_train(x, an.ones(2), an.zeros(2)), 3, 2, 2)
    fb(lambda x: fused.cross_entropy_indices(x, an.tensor([0, 1, 4])), 3, 5)  # NumPy rows
    big = np.random.default_rng(0).integers(0, 5, 4000)  # 20,000 entries: the one-pass kernels
    fb(lambda x: fused.cross_entropy_indices(x, an.tensor(big)), 4000, 5)
    from autograd_nn.kernels import softmax as ksoftmax

    x2 = np.ones((2, 3), np.float32)  # the ops take their exp passes from NumPy now
    ksoftmax.softmax_from_lse(x2, *ksoftmax.logsumexp_rows(x2))
    scatter_add_rows(
        np.zeros((3, 2), np.float32), np.array([0, 2, 0]), np.ones((3, 2), np.float32)
    )  # not used by any op yet
    kspecial.erf(np.ones(4, np.float32))  # the erf op uses the kernel only on large arrays


def _dispatchers() -> dict[str, Any]:
    """Every Numba dispatcher defined in a module of autograd_nn.kernels, by module.name."""
    import importlib
    import pkgutil

    from numba.core.dispatcher import Dispatcher

    import autograd_nn.kernels as pkg

    found = {}
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__:
                found[f"{info.name.rsplit('.', 1)[1]}.{name}"] = obj
    return found


def child_kernels() -> dict[str, Any]:
    t0 = time.perf_counter()
    from numba.core import event

    import autograd_nn  # noqa: F401

    dispatchers = _dispatchers()
    t1 = time.perf_counter()
    with event.install_recorder("numba:compile") as rec:
        _exercise_kernels()
    t2 = time.perf_counter()
    compile_s, per = _compile_seconds(rec.buffer)
    missing = sorted(k for k, d in dispatchers.items() if not d.signatures)
    return {
        "import_s": t1 - t0,
        "compile_s": compile_s,
        "run_s": t2 - t1 - compile_s,
        "cpu_s": time.process_time(),
        "kernels": len(dispatchers),
        "compiled": len(dispatchers) - len(missing),
        "missing": missing,
        "slowest": sorted(per.items(), key=lambda kv: -kv[1])[:3],
    }


# ---- parent ------------------------------------------------------------------------------------
COLD_TARGET = Target("<=", 2.5)  # the target for a first run on a fresh machine


def _spawn(mode: str, cache_dir: str, threads: int, batch: int) -> dict[str, Any]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.coldstart", mode, str(batch)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed: {proc.stderr.strip().splitlines()[-1:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def rows(threads: int, quick: bool = False, warm_runs: int = 3) -> list[Any]:
    """The COLDc, COLDw and KERN rows (each a `harness.Row`; failures become error rows)."""
    from .harness import Row, Stats

    batch = 4 if quick else 64
    warm_runs = 1 if quick else warm_runs
    target = Target("<=", 1.5)
    name = f"import + first conv train step (CNN, batch {batch})"
    cold = Row("COLDc", f"{name}, cold Numba cache", unit="s", target=str(COLD_TARGET))
    warm = Row("COLDw", f"{name}, warm Numba cache", unit="s", target=str(target))
    kern = Row("KERN", "compile every kernel from an empty cache (tiny inputs)", unit="s")
    with tempfile.TemporaryDirectory(prefix="agnn-numba-") as cache:
        try:
            c = _spawn("child-step", cache, threads, batch)
            cold.metric, cold.times = c["total_s"], {"ours": Stats.of([c["total_s"]])}
            cold.met = COLD_TARGET.met(cold.metric)
            cold.note = (
                f"import {c['import_s']:.2f} s, step {c['step_s']:.2f} s of which "
                f"Numba compile {c['compile_s']:.2f} s; whole process {c['process_s']:.2f} s "
                f"wall, {c['cpu_s']:.2f} s CPU"
            )
            w = [_spawn("child-step", cache, threads, batch) for _ in range(warm_runs)]
            totals = [r["total_s"] for r in w]
            warm.metric, warm.times = statistics.median(totals), {"ours": Stats.of(totals)}
            warm.met = target.met(warm.metric)
            warm.note = (
                f"import {statistics.median(r['import_s'] for r in w):.2f} s, step "
                f"{statistics.median(r['step_s'] for r in w):.2f} s, whole process "
                f"{statistics.median(r['process_s'] for r in w):.2f} s wall, "
                f"{statistics.median(r['cpu_s'] for r in w):.2f} s CPU; {len(w)} run(s)"
            )
        except Exception as err:
            for row in (cold, warm):
                row.error = row.error or f"{type(err).__name__}: {err}"
    with tempfile.TemporaryDirectory(prefix="agnn-numba-") as cache:
        try:
            k = _spawn("child-kernels", cache, threads, batch)
            kern.metric, kern.times = k["compile_s"], {"ours": Stats.of([k["compile_s"]])}
            slow = ", ".join(f"{n} {s:.1f}s" for n, s in k["slowest"])
            kern.note = (
                f"compile {k['compile_s']:.2f} s, run {k['run_s']:.2f} s, process CPU "
                f"{k['cpu_s']:.2f} s; "
                f"{k['compiled']}/{k['kernels']} kernels compiled; slowest: {slow}"
            )
            if k["missing"]:
                kern.note += f"; NOT exercised: {', '.join(k['missing'])}"
        except Exception as err:
            kern.error = f"{type(err).__name__}: {err}"
    return [warm, cold, kern]


if __name__ == "__main__":
    mode, arg = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 64
    out = child_step(arg) if mode == "child-step" else child_kernels()
    print(json.dumps(out))
