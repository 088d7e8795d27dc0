"""`python -m benchmarks --scaling PATH`: how the time per step grows with batch, length and width.

For the MLP (W2), CNN (W4), LSTM (W5) and attention (W6) rows, one size at a time is swept around
the row's own size (the others stay fixed), and both libraries are timed in their worker processes
exactly as the main table does (`runner.py`). Drawn on log-log axes, each curve shows where a library's
fixed per-step cost (Python, dispatch, thread hand-offs: the flat left part) ends and its arithmetic
(the slope-1 part) begins.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from .harness import Workload

# family -> (the row it extends, its fixed sizes, {swept size: values})
SWEEPS: dict[str, tuple[str, dict[str, int], dict[str, list[int]]]] = {
    "MLP": (
        "W2: 784-w-w-10 relu, CE + SGD step",
        {"batch": 128, "width": 256},
        {"batch": [1, 8, 32, 128, 512, 2048], "width": [32, 64, 128, 256, 512, 1024]},
    ),
    "CNN": (
        "W4: conv(1->w)-pool-conv(w->2w)-pool-linear on 28x28, CE + SGD step",
        {"batch": 64, "width": 8},
        {"batch": [1, 4, 16, 64, 256], "width": [4, 8, 16, 32, 64]},
    ),
    "LSTM": (
        "W5: LSTM(64, w), fwd + bwd",
        {"batch": 32, "length": 32, "width": 128},
        {"batch": [1, 4, 16, 64, 256], "length": [4, 16, 64, 256], "width": [32, 64, 128, 256, 512]},
    ),
    "attention": (
        "W6: MHA (4 heads) + residual + LayerNorm, fwd + bwd",
        {"batch": 8, "length": 64, "width": 128},
        {"batch": [1, 2, 8, 32], "length": [16, 32, 64, 128, 256], "width": [32, 64, 128, 256, 512]},
    ),
}
DIMENSIONS = ("batch", "length", "width")


def keys() -> list[str]:
    """Every point as a row key, SCALE:family:dimension:value."""
    return [
        f"SCALE:{fam}:{dim}:{v}"
        for fam, (_, _, sweeps) in SWEEPS.items()
        for dim, values in sweeps.items()
        for v in values
    ]


def _step(family: str, size: dict[str, int]) -> Callable[[str], Callable[[], Any]]:
    from .common import labels, randn, sgd_step
    from .workloads import _mlp, cnn
    from .workloads_more import attention_step, lstm_step

    b, w = size["batch"], size["width"]
    if family == "MLP":
        x, y = randn(b, 784), labels(b, 10)
        return lambda impl: sgd_step(impl, _mlp([784, w, w, 10], "relu"), "CrossEntropyLoss", x, y, 0.01)
    if family == "CNN":
        x, y = randn(b, 1, 28, 28), labels(b, 10)
        return lambda impl: sgd_step(impl, cnn(28, w, 2 * w), "CrossEntropyLoss", x, y, 0.01)
    if family == "LSTM":
        return lambda impl: lstm_step(impl, b, size["length"], 64, w)
    return lambda impl: attention_step(impl, b, size["length"], w, 4)


def builder(key: str) -> Callable[[bool], Workload]:
    """The workload of one point (what `worker.py` builds for a SCALE: key)."""
    _, family, dim, value = key.split(":")
    fixed = dict(SWEEPS[family][1], **{dim: int(value)})

    def build(quick: bool = False) -> Workload:
        from .common import per_library

        size = {k: max(1, v // 8) if quick and k != "batch" else v for k, v in fixed.items()}
        if quick:
            size["batch"] = min(size["batch"], 4)
        if family == "attention":
            size["width"] = max(4, size["width"] // 4 * 4)  # divisible by the 4 heads
        make = per_library(_step(family, size))
        return Workload(key, f"{family} {dim}={value}", make=make)

    return build


def measure_all(threads: int, args: Any) -> dict[str, Any]:
    """{key: {impl: median seconds}} over every point, one worker per library."""
    from . import runner
    from .common import have_torch

    workers = runner.start_workers(threads, have_torch())
    workers.pop("numpy", None)
    results: dict[str, Any] = {}
    try:
        for key in keys():
            row = runner.measure(
                key,
                workers,
                threads,
                quick=args.quick,
                repeats=min(args.repeats, 6),
                batch=3,
                warmup=2,
                min_time=min(args.min_time, 0.02),
                settle=args.settle,
            )[0]
            results[key] = (
                {"error": row.error} if row.error else {impl: st.median for impl, st in row.times.items()}
            )
            print(
                f"  {key:28s} "
                + (
                    "ERROR " + row.error
                    if row.error
                    else "  ".join(f"{impl} {t * 1e3:8.2f} ms" for impl, t in results[key].items())
                ),
                file=sys.stderr,
                flush=True,
            )
    finally:
        runner.close_workers(workers)
    return results


def plot(path: str, results: dict[str, Any], threads: int) -> bool:
    """The 4 x 3 grid of log-log panels; False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        return False
    fig, axes = plt.subplots(len(SWEEPS), len(DIMENSIONS), figsize=(12, 13))
    styles = {"ours": ("tab:blue", "o", "-", "autograd_nn"), "torch": ("tab:orange", "s", "--", "PyTorch")}
    for r, (family, (what, fixed, sweeps)) in enumerate(SWEEPS.items()):
        for c, dim in enumerate(DIMENSIONS):
            ax = axes[r][c]
            if dim not in sweeps:
                ax.axis("off")
                continue
            for impl, (color, marker, line, label) in styles.items():
                pts = [(v, results.get(f"SCALE:{family}:{dim}:{v}", {}).get(impl)) for v in sweeps[dim]]
                pts = [(v, t) for v, t in pts if isinstance(t, float)]
                if pts:
                    ax.plot(
                        [v for v, _ in pts],
                        [t * 1e3 for _, t in pts],
                        color=color,
                        marker=marker,
                        ls=line,
                        label=label,
                    )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
            ax.grid(True, which="both", alpha=0.3)
            others = ", ".join(f"{k} {v}" for k, v in fixed.items() if k != dim)
            title = f"{family} vs {dim} ({others})"
            ax.set_title(title if c else f"{what}\n{title}", fontsize=8)
            ax.set_xlabel(dim)
            ax.set_ylabel("ms per step")
            ax.legend(fontsize=8)
    fig.suptitle(
        f"time per step (log-log), {threads} thread(s) each, every library in its own "
        "process: autograd_nn vs PyTorch CPU",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(args: Any) -> int:
    threads = max(args.thread_counts)
    print(
        f"scaling sweeps: {len(keys())} points, {threads} thread(s), each library in its own worker process",
        flush=True,
    )
    results = measure_all(threads, args)
    base = os.path.splitext(args.scaling)[0]
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump(
            {
                "threads": threads,
                "sweeps": {k: [v[0], v[1], v[2]] for k, v in SWEEPS.items()},
                "results": results,
            },
            f,
            indent=1,
        )
    if not plot(args.scaling, results, threads):
        print("--scaling: matplotlib is not installed; data written to " + base + ".json", file=sys.stderr)
    else:
        print(f"wrote {args.scaling} and {base}.json")
    return 1 if any("error" in v for v in results.values()) else 0
