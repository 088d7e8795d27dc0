"""`python -m autograd_nn`: train the digits CNN (or `--example NAME`) and report the results."""
from __future__ import annotations

import argparse
import json
import sys
import time

from .examples import all_examples, get
from .examples.options import parse_example_options, settable_options


def main(argv: list[str] | None = None) -> int:
    examples = all_examples()
    parser = argparse.ArgumentParser(prog="python -m autograd_nn", description=__doc__)
    parser.add_argument("--example", default="cnn", help="which example to run (default: cnn)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/NAME)")
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.epilog = ("Options of the example's run() can follow: --example gpt --tokenizer bpe "
                     "(--list shows them).")
    args, extra = parser.parse_known_args(argv)
    if args.list:
        for name, ex in examples.items():
            print(f"  {name:16s} {ex.description}")
            defaults = " ".join(f"--{k.replace('_', '-')} {v}"
                                for k, v in settable_options(ex.run).items())
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
    _one_blas_thread()
    print(f"autograd_nn: running example {ex.name!r}: {ex.description}")
    start = time.perf_counter()
    result = ex.run(out_dir=args.out or f"runs/{ex.name}", quick=args.quick, **options)
    elapsed = time.perf_counter() - start
    shown = {k: v for k, v in result.items() if k != "confusion_matrix"}
    print(json.dumps(shown, indent=2, default=str))
    print(f"done in {elapsed:.1f} s. Other examples (python -m autograd_nn --example NAME):")
    for name, other in examples.items():
        if name != ex.name:
            print(f"  {name:16s} {other.description}")
    return 0


def _one_blas_thread() -> None:
    """The examples' matrices are small: one BLAS thread is faster than several (measured ~10x
    on a busy 2-core machine, where extra BLAS threads only contend for the cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1, user_api="blas")


if __name__ == "__main__":
    sys.exit(main())
