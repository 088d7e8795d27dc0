"""A benchmark worker: one library per process, timing what the parent process asks for.

    python -m benchmarks.worker IMPL        IMPL is ours, torch or numpy

`runner.py` starts one worker per implementation and keeps it for the whole run, so each library
keeps its thread pool, caches and compiled kernels warm, and no two libraries' thread pools share a
process. The parent writes one JSON command per line to the worker's stdin; the worker answers with
one JSON line on the protocol stream (its original stdout; anything a library prints goes to stderr):

    {"cmd": "hello"}                                 -> versions and the thread counts in effect
    {"cmd": "build", "key": K, "quick": Q}           -> builds row K's callable for IMPL, runs it
                                                        `warmup` times: first-call seconds, the last
                                                        warm-up call's seconds, an output summary
    {"cmd": "time", "key": K, "number": N, "samples": S}  -> S samples of N calls each (seconds/call)
    {"cmd": "drop", "key": K}                        -> forget row K
    {"cmd": "quit"}

Every answer is {"error": "..."} instead when the command failed; the worker keeps serving.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from .harness import Workload, summary


def _registry_builder(key: str) -> Callable[[bool], Workload]:
    if key.startswith("SCALE:"):
        from .scaling import builder

        return builder(key)
    from .workloads_more import REGISTRY

    return REGISTRY[key]


def _time(fn: Callable[[], Any], number: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _threads(impl: str) -> dict[str, Any]:
    """The thread counts each loaded library will use in this process."""
    info: dict[str, Any] = {"pid": os.getpid()}
    if impl == "ours":
        import autograd_nn

        info["autograd_nn"] = autograd_nn.get_num_threads()
    if impl == "torch":
        import torch

        info["torch"] = torch.get_num_threads()
        info["torch_version"] = torch.__version__
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = {
            f"{pool['internal_api']} ({pool['prefix']})": pool["num_threads"] for pool in threadpool_info()
        }
    except ImportError:
        pass
    info["loaded"] = sorted(m for m in ("autograd_nn", "torch", "numba") if m in sys.modules)
    info["versions"] = {
        m: getattr(sys.modules.get(m), "__version__", None)
        for m in ("numpy", "numba", "torch")
        if m in sys.modules
    }
    return info


class Worker:
    def __init__(self, impl: str) -> None:
        self.impl = impl
        self.built: dict[str, Callable[[], Any]] = {}

    def handle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        kind = cmd["cmd"]
        if kind == "hello":
            return {"threads": _threads(self.impl)}
        if kind == "build":
            return self.build(cmd["key"], cmd.get("quick", False), cmd.get("warmup", 3))
        if kind == "time":
            fn = self.built[cmd["key"]]
            return {"samples": [_time(fn, cmd["number"]) for _ in range(cmd["samples"])]}
        if kind == "drop":
            self.built.pop(cmd["key"], None)
            gc.collect()
            return {}
        raise ValueError(f"unknown command {kind!r}")

    def build(self, key: str, quick: bool, warmup: int) -> dict[str, Any]:
        work = _registry_builder(key)(quick)
        reply: dict[str, Any] = {"work": work.describe()}
        factory = work.factory(self.impl)
        if factory is None:
            reply["absent"] = True
            return reply
        fn = factory()
        start = time.perf_counter()
        out = fn()
        reply["first_s"] = time.perf_counter() - start
        reply["summary"] = summary(out)
        last = reply["first_s"]
        for _ in range(max(0, warmup - 1)):
            start = time.perf_counter()
            fn()
            last = time.perf_counter() - start
        reply["warm_s"] = last
        if self.impl == "ours" and work.check is not None:
            reply["check"] = work.check(fn)
        self.built[key] = fn
        return reply


def main(impl: str) -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # libraries' prints (and C-level writes) go to stderr, not into the protocol
    sys.stdout = sys.stderr
    worker = Worker(impl)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        try:
            reply = worker.handle(cmd)
        except Exception as err:
            where = traceback.extract_tb(err.__traceback__)[-1]
            reply = {
                "error": f"{type(err).__name__}: {err} (at {os.path.basename(where.filename)}:{where.lineno})"
            }
        proto.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
