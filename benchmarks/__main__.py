"""`python -m benchmarks`: autograd_nn against PyTorch CPU and NumPy, in one process, one table.

Thread counts are fixed before NumPy, Numba or PyTorch is imported: `--threads N` (default: every
core this process may use) sets OMP/OpenBLAS/MKL/Numba threads through the environment, then
`torch.set_num_threads(N)` and `numba.set_num_threads(N)`, so every library runs with the same N.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import Any

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=_default_threads(),
                   help="threads for every library (default: all usable cores)")
    p.add_argument("--only", default="",
                   help="comma-separated row keys or prefixes, e.g. W1,W3 (W3 = W3f and W3b), COLD")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, 1 repeat: checks every row runs end to end (for CI)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (default 15; quick 1)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up calls (default 3; quick 1)")
    p.add_argument("--min-time", type=float, default=None,
                   help="seconds per timed sample; short calls are looped (default 0.05; quick 0)")
    p.add_argument("--no-coldstart", action="store_true", help="skip the subprocess rows")
    p.add_argument("--no-distributed", action="store_true",
                   help="skip the multi-process rows (DDPt, DDPo: mpirun children)")
    p.add_argument("--overhead-detail", action="store_true",
                   help="also print the forward/backward per-op split (benchmarks.overhead)")
    p.add_argument("--json", metavar="PATH", help="write rows and metadata as JSON")
    p.add_argument("--plot", metavar="PATH", help="bar chart of the ratios (needs matplotlib)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    args.repeats = args.repeats or (1 if args.quick else 15)
    args.warmup = args.warmup or (1 if args.quick else 3)
    args.min_time = (0.0 if args.quick else 0.05) if args.min_time is None else args.min_time
    return args


def set_threads(n: int) -> None:
    """Same thread count everywhere; environment first, since pools start at import."""
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def selected(key: str, only: list[str]) -> bool:
    return not only or any(key.startswith(o) for o in only)


def metadata(args: argparse.Namespace) -> dict[str, Any]:
    import numba
    import numpy as np

    meta = {"threads": args.threads, "quick": args.quick, "repeats": args.repeats,
            "warmup": args.warmup, "min_time": args.min_time, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "numba_threads":
            numba.get_num_threads(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        import torch

        meta.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    except ImportError:
        meta["torch"] = None
    if hasattr(os, "getloadavg"):
        meta["loadavg_start"] = os.getloadavg()
    return meta


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_threads(args.threads)
    from . import coldstart, harness, overhead
    from .workloads_more import REGISTRY

    only = [o.strip() for o in args.only.split(",") if o.strip()]
    meta = metadata(args)
    print(f"autograd_nn benchmarks: {args.threads} thread(s), numpy {meta['numpy']}, numba "
          f"{meta['numba']}, torch {meta['torch'] or 'not installed'}, "
          f"{'quick' if args.quick else 'full'} mode, {args.repeats} repeat(s)", flush=True)
    rows = []
    for key, build in REGISTRY.items():
        if not selected(key, only):
            continue
        try:
            work = build(args.quick)
        except Exception as err:  # noqa: BLE001 - a row that cannot be built still gets a line
            rows.append(harness.Row(key, build.__name__, error=f"{type(err).__name__}: {err}"))
            continue
        row = harness.measure(work, args.repeats, args.warmup, args.min_time)
        rows.append(row)
        print(f"  {key:5s} {harness.status(row, args.quick)}", file=sys.stderr, flush=True)
    if not args.no_coldstart and any(selected(k, only) for k in ("COLDw", "COLDc", "KERN")):
        rows += [r for r in coldstart.rows(args.threads, args.quick) if selected(r.key, only)]
    if not args.no_distributed and any(selected(k, only) for k in ("DDPt", "DDPo")):
        from . import distributed  # fixes its own thread counts: 1 x 2 against 2 x 1

        rows += [r for r in distributed.rows(args.quick) if selected(r.key, only)]
    if args.quick:  # tiny sizes: the ratios mean nothing, so no verdict is recorded either
        for r in rows:
            r.met = None
    if hasattr(os, "getloadavg"):
        meta["loadavg_end"] = os.getloadavg()
    print(harness.format_table(rows, args.quick))
    if args.overhead_detail:
        print("\n" + overhead.report(repeats=5 if args.quick else 30))
    if args.json:
        harness.write_json(args.json, rows, meta)
    if args.plot and not harness.plot_ratios(args.plot, rows):
        print("--plot: matplotlib is not installed; no chart written", file=sys.stderr)
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
