"""Per-op overhead: microseconds per op of a tiny forward + backward, autograd_nn against PyTorch.

1,000 elementwise ops on (4,) tensors (`x = x * c` and `x = x + d` alternately, c and d constant
tensors), a sum, and backward. The arrays are so small that the time is all bookkeeping: creating
Function and Tensor objects, dtype promotion, the graph walk. The main table shows it as row OVH;
run this module for the forward / backward split and a cProfile of the autograd_nn side:

    python -m benchmarks.overhead [--ops 1000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

N_OPS = 1000
SIZE = 4


def _graph(lib: Any, n_ops: int) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    """(forward, backward) of the op chain in library `lib` (autograd_nn or torch)."""
    a = lib.tensor([0.5] * SIZE, requires_grad=True)
    c = lib.tensor([1.0001] * SIZE)
    d = lib.tensor([0.001] * SIZE)

    def forward() -> Any:
        a.grad = None
        x = a
        for i in range(n_ops):
            x = x * c if i % 2 == 0 else x + d
        return x.sum()

    return forward, lambda loss: loss.backward()


def chain_step(lib: Any, n_ops: int = N_OPS) -> Callable[[], Any]:
    """One forward + backward of the chain; returns the leaf's gradient."""
    forward, backward = _graph(lib, n_ops)

    def step() -> Any:
        loss = forward()
        backward(loss)
        return loss

    return step


def workload(quick: bool = False) -> Any:
    """The OVH row: microseconds per op in the note."""
    from .common import lib, per_library
    from .harness import Workload

    n_ops = 200 if quick else N_OPS
    return Workload(
        "OVH",
        f"per-op overhead: {n_ops} elementwise ops on ({SIZE},) fwd+bwd",
        make=per_library(lambda impl: chain_step(lib(impl), n_ops)),
        ops=n_ops + 1,
    )


def _split(lib: Any, n_ops: int, repeats: int) -> tuple[float, float]:
    """Median seconds of the forward and of the backward alone."""
    forward, backward = _graph(lib, n_ops)
    fwd, bwd = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        loss = forward()
        t1 = time.perf_counter()
        backward(loss)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
    return statistics.median(fwd), statistics.median(bwd)


def report(n_ops: int = N_OPS, repeats: int = 30, profile: bool = False) -> str:
    """Forward and backward microseconds per op for each library, interleaved repeats."""
    import autograd_nn as an

    from .common import have_torch
    from .common import lib as library

    libs = {"autograd_nn": an} | ({"torch": library("torch")} if have_torch() else {})
    for lib in libs.values():
        _split(lib, n_ops, 3)  # warm-up
    rows: list[str] = []
    results: dict[str, list[tuple[float, float]]] = {}
    for _ in range(5):  # interleave rounds so load spikes hit both libraries
        for name, lib in libs.items():
            results.setdefault(name, []).append(_split(lib, n_ops, max(1, repeats // 5)))
    for name, res in results.items():
        f = statistics.median(r[0] for r in res) / (n_ops + 1) * 1e6
        b = statistics.median(r[1] for r in res) / (n_ops + 1) * 1e6
        rows.append(f"{name:12s} forward {f:6.2f} us/op   backward {b:6.2f} us/op   total {f + b:6.2f}")
    text = f"per-op overhead, {n_ops} ops on ({SIZE},) tensors + sum\n" + "\n".join(rows)
    if profile:
        text += "\n\n" + profile_ours(n_ops)
    return text


def profile_ours(n_ops: int = N_OPS, top: int = 18) -> str:
    """cProfile of 20 autograd_nn forward+backward steps, sorted by own time."""
    import autograd_nn as an

    step = chain_step(an, n_ops)
    step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(20):
        step()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=N_OPS)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="add a cProfile of autograd_nn")
    args = parser.parse_args(argv)
    print(report(args.ops, args.repeats, args.profile))


if __name__ == "__main__":
    main()
