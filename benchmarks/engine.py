"""Engine numbers: a 100,000-op chain, per-op cost of a tiny graph, first-order vs create_graph.

    python -m benchmarks.engine

Each measurement runs autograd_nn and PyTorch (when installed) in this process, one thread each.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import autograd_nn as ag

torch: Any  # the module, or None without PyTorch
try:
    import torch
except ImportError:  # the autograd_nn rows still run
    torch = None


def _chain(lib: Any, n: int) -> tuple[Any, Any]:
    x = lib.tensor(0.5, requires_grad=True)
    t = x
    for _ in range(n // 2):
        t = t * 1.00001 + 0.0001
    return x, t


def _small_graph(lib: Any) -> None:
    xs = lib.ones(4, requires_grad=True)
    t = xs
    for i in range(500):
        t = (t * xs).tanh() if i % 2 else t + xs
    t.sum().backward()


def main() -> None:
    libs = [ag] + ([torch] if torch is not None else [])
    if torch is not None:
        torch.set_num_threads(1)
    for lib in libs:
        start = time.perf_counter()
        _, t = _chain(lib, 100_000)
        forward = time.perf_counter() - start
        start = time.perf_counter()
        t.backward()
        print(
            f"{lib.__name__:12s} 100,000-op chain: forward {forward * 1e3:.0f} ms, "
            f"backward {(time.perf_counter() - start) * 1e3:.0f} ms"
        )
    for lib in libs:
        _small_graph(lib)
        times = []
        for _ in range(15):
            start = time.perf_counter()
            _small_graph(lib)
            times.append(time.perf_counter() - start)
        print(f"{lib.__name__:12s} tiny graph forward+backward: {np.median(times) / 1001 * 1e6:.2f} us/op")
    for create_graph in (False, True):
        times = []
        for _ in range(5):
            x, t = _chain(ag, 10_000)
            start = time.perf_counter()
            ag.grad(t, x, create_graph=create_graph)
            times.append(time.perf_counter() - start)
        print(
            f"autograd_nn  backward of 10,000 ops, create_graph={create_graph}: "
            f"{np.median(times) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
