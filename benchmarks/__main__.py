"""`python -m benchmarks`: autograd_nn against PyTorch CPU and NumPy, each in its own worker process.

For every thread count (default: 1, then every usable core) one persistent worker process per library
is started with OMP_NUM_THREADS set to that count and nothing else changed (see `runner.py`), and the
rows are timed in alternating short batches across the workers. One table per thread count, then a
summary of the ratios side by side. `--scaling PATH` draws how time per step grows with batch size,
sequence length and width instead (`scaling.py`).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import Any

from . import harness, runner


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_threads(text: str) -> list[int]:
    counts = []
    for part in text.split(","):
        part = part.strip().lower()
        n = usable_cores() if part in ("all", "max") else int(part)
        if n < 1:
            raise ValueError(f"thread counts must be >= 1, got {n}")
        if n not in counts:
            counts.append(n)
    return counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument(
        "--threads",
        default="1,all",
        help="comma-separated thread counts, 'all' = every usable core (default 1,all)",
    )
    p.add_argument(
        "--only", default="", help="comma-separated row keys or prefixes, e.g. W1,W3 (W3 = W3f and W3b), COLD"
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes, 1 repeat: checks every row runs end to end (for CI)"
    )
    p.add_argument("--repeats", type=int, default=None, help="timed samples (default 20; quick 1)")
    p.add_argument(
        "--batch",
        type=int,
        default=4,
        help="samples per turn of a library before the next one's turn (default 4)",
    )
    p.add_argument("--warmup", type=int, default=None, help="warm-up calls (default 3; quick 1)")
    p.add_argument(
        "--min-time",
        type=float,
        default=None,
        help="seconds per timed sample; short calls are looped (default 0.05; quick 0)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=None,
        help="pause between two libraries' turns, seconds (default 0.05; quick 0)",
    )
    p.add_argument("--no-coldstart", action="store_true", help="skip the subprocess rows")
    p.add_argument(
        "--no-distributed",
        action="store_true",
        help="skip the multi-process rows (DDPt, DDPo: mpirun children)",
    )
    p.add_argument(
        "--overhead-detail",
        action="store_true",
        help="also print the forward/backward per-op split (benchmarks.overhead)",
    )
    p.add_argument("--json", metavar="PATH", help="write rows and metadata as JSON")
    p.add_argument("--plot", metavar="PATH", help="bar chart of the ratios (needs matplotlib)")
    p.add_argument(
        "--scaling",
        metavar="PATH",
        help="instead of the table: time per step against batch, length and width, "
        "both libraries, log-log (PNG; needs matplotlib; data as PATH.json)",
    )
    args = p.parse_args(argv)
    try:
        args.thread_counts = parse_threads(args.threads)
    except ValueError as err:
        p.error(f"--threads: {err}")
    args.repeats = args.repeats or (1 if args.quick else 20)
    args.warmup = args.warmup or (1 if args.quick else 3)
    args.min_time = (0.0 if args.quick else 0.05) if args.min_time is None else args.min_time
    args.settle = (0.0 if args.quick else 0.05) if args.settle is None else args.settle
    return args


def selected(key: str, only: list[str]) -> bool:
    return not only or any(key.startswith(o) for o in only)


def metadata(args: argparse.Namespace) -> dict[str, Any]:
    meta = {
        "threads": args.thread_counts,
        "quick": args.quick,
        "repeats": args.repeats,
        "batch": args.batch,
        "warmup": args.warmup,
        "min_time": args.min_time,
        "settle": args.settle,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "usable_cores": usable_cores(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "workers": {},
    }
    if hasattr(os, "getloadavg"):
        meta["loadavg_start"] = os.getloadavg()
    return meta


def no_verdict_in_quick_mode(rows: list[harness.Row], quick: bool) -> None:
    """Tiny sizes: the ratios mean nothing, so no verdict is recorded either."""
    if quick:
        for r in rows:
            r.met = None


def registry_keys() -> list[str]:
    """Row keys in table order (imports the builders, not the libraries they time)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # this parent process only ever waits
    from .workloads_more import REGISTRY

    return list(REGISTRY)


def timed_rows(args: argparse.Namespace, only: list[str], meta: dict[str, Any]) -> list[harness.Row]:
    from .common import have_torch

    keys = [k for k in registry_keys() if selected(k, only)]
    rows: list[harness.Row] = []
    for threads in args.thread_counts:
        if not keys:
            break
        print(f"-- {threads} thread(s): starting one worker per library", file=sys.stderr, flush=True)
        workers = runner.start_workers(threads, have_torch())
        try:
            for key in keys:
                got = runner.measure(
                    key,
                    workers,
                    threads,
                    quick=args.quick,
                    repeats=args.repeats,
                    batch=args.batch,
                    warmup=args.warmup,
                    min_time=args.min_time,
                    settle=args.settle,
                )
                for row in got:
                    print(
                        f"  {threads}t {row.key:6s} {harness.status(row, args.quick)}",
                        file=sys.stderr,
                        flush=True,
                    )
                rows += got
            meta["workers"][str(threads)] = runner.worker_threads(workers)  # after: what got loaded
        finally:
            runner.close_workers(workers)
    return rows


def print_report(rows: list[harness.Row], args: argparse.Namespace) -> None:
    for threads in args.thread_counts + [0]:
        part = [r for r in rows if r.threads == threads]
        if part:
            title = f"{threads} thread(s)" if threads else "fresh processes (cold start, multi-process)"
            print(f"\n== {title} ==")
            print(harness.format_table(part, args.quick))
    timed = [r for r in rows if r.threads > 0]
    if len({r.threads for r in timed}) > 1:
        print("\n== summary: ratio per thread count ==")
        print(harness.format_summary(timed, args.quick))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scaling:
        from . import scaling

        return scaling.main(args)
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    meta = metadata(args)
    print(
        f"autograd_nn benchmarks: threads {args.thread_counts}, "
        f"{'quick' if args.quick else 'full'} mode, {args.repeats} sample(s) per library and row, "
        f"each library in its own worker process",
        flush=True,
    )
    rows = timed_rows(args, only, meta)
    if not args.no_coldstart and any(selected(k, only) for k in ("COLDw", "COLDc", "KERN")):
        from . import coldstart

        cold = coldstart.rows(max(args.thread_counts), args.quick)
        for r in cold:
            r.threads = 0
        rows += [r for r in cold if selected(r.key, only)]
    if not args.no_distributed and any(selected(k, only) for k in ("DDPt", "DDPo")):
        from . import distributed  # fixes its own thread counts: 1 x 2 against 2 x 1

        ddp = distributed.rows(args.quick)
        for r in ddp:
            r.threads = 0
        rows += [r for r in ddp if selected(r.key, only)]
    no_verdict_in_quick_mode(rows, args.quick)
    if hasattr(os, "getloadavg"):
        meta["loadavg_end"] = os.getloadavg()
    print_report(rows, args)
    if args.overhead_detail:
        from . import overhead

        print("\n" + overhead.report(repeats=5 if args.quick else 30))
    if args.json:
        harness.write_json(args.json, rows, meta)
    if args.plot and not harness.plot_ratios(args.plot, rows):
        print("--plot: matplotlib is not installed; no chart written", file=sys.stderr)
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
