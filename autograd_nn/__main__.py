"""`python -m autograd_nn`: train the digits CNN (or `--example NAME`) and report the results."""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time

from .distributed.run import launch, world_size_from_environment
from .examples import all_examples, get
from .examples.options import parse_example_options, settable_options


def main(argv: list[str] | None = None) -> int:
    examples = all_examples()
    parser = argparse.ArgumentParser(prog="python -m autograd_nn", description=__doc__)
    parser.add_argument("--example", default="cnn", help="which example to run (default: cnn)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/NAME)")
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument(
        "--export",
        metavar="PATH",
        default=None,
        help="also write the trained model as ONNX to PATH (needs the onnx extra)",
    )
    parser.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="train on N processes, data-parallel over MPI (needs the distributed "
        "extra; examples marked [nproc] in --list)",
    )
    parser.epilog = (
        "Options of the example's run() can follow: --example gpt --tokenizer bpe (--list shows them)."
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    args, extra = parser.parse_known_args(argv)
    if args.list:
        for name, ex in examples.items():
            print(f"  {name:16s} {ex.description}{' [nproc]' if ex.distributed else ''}")
            defaults = " ".join(
                f"--{k.replace('_', '-')} {v}" for k, v in settable_options(ex.run).items() if k != "export"
            )
            if defaults:
                print(f"  {'':16s} options (defaults): {defaults}")
        return 0
    try:
        ex = get(args.example)
        options = parse_example_options(ex.run, extra)
    except KeyError as err:
        print(err.args[0], file=sys.stderr)
        return 2
    except ValueError as err:
        parser.error(f"--example {args.example}: {err}")
    ranks = world_size_from_environment()  # > 0 when mpirun started this process
    if args.nproc < 1 or ((args.nproc > 1 or ranks > 1) and not ex.distributed):
        able = ", ".join(n for n, e in examples.items() if e.distributed)
        print(f"--nproc: example {ex.name!r} runs on one process; on several: {able}", file=sys.stderr)
        return 2
    if args.nproc > 1 and ranks == 0:  # start the job: this same command on N ranks
        try:
            return launch(args.nproc, ["-m", "autograd_nn", *argv])
        except FileNotFoundError as err:
            print(err, file=sys.stderr)
            return 2
    main_rank = _join_job(args.nproc) if ranks > 1 else True
    if main_rank:
        print(
            f"autograd_nn: running example {ex.name!r}: {ex.description}"
            + (f" (on {ranks} processes)" if ranks > 1 else "")
        )
    start = time.perf_counter()
    if args.export:
        if "export" not in inspect.signature(ex.run).parameters:
            print(f"example {ex.name!r} has no --export", file=sys.stderr)
            return 2
        options["export"] = args.export
    result = ex.run(out_dir=args.out or f"runs/{ex.name}", quick=args.quick, **options)
    elapsed = time.perf_counter() - start
    if not main_rank:
        return 0
    shown = {k: v for k, v in result.items() if k not in ("confusion_matrix", "headline")}
    print(json.dumps(shown, indent=2, default=str))
    if "headline" in result:  # the example's result in one labelled sentence
        print(f"\n{ex.name}: {result['headline']}\n")
    print(f"done in {elapsed:.1f} s. Other examples (python -m autograd_nn --example NAME):")
    for name, other in examples.items():
        if name != ex.name:
            print(f"  {name:16s} {other.description}")
    return 0


def _join_job(nproc: int) -> bool:
    """Inside an MPI job: set up the process group; True on rank 0 (the one that reports)."""
    from . import distributed

    distributed.init_process_group("mpi")
    size = distributed.get_world_size()
    if nproc > 1 and size != nproc:
        raise SystemExit(f"--nproc {nproc}, but mpirun started {size} processes")
    return distributed.get_rank() == 0


if __name__ == "__main__":
    sys.exit(main())
