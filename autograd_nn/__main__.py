"""`python -m autograd_nn`: train the digits CNN (or `--example NAME`) and report the results."""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import time

from .examples import all_examples, get


def main(argv: list[str] | None = None) -> int:
    examples = all_examples()
    parser = argparse.ArgumentParser(prog="python -m autograd_nn", description=__doc__)
    parser.add_argument("--example", default="cnn", help="which example to run (default: cnn)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/NAME)")
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument("--export", metavar="PATH", default=None,
                        help="also write the trained model as ONNX to PATH (needs the onnx extra)")
    args = parser.parse_args(argv)
    if args.list:
        for name, ex in examples.items():
            print(f"  {name:16s} {ex.description}")
        return 0
    try:
        ex = get(args.example)
    except KeyError as err:
        print(err.args[0], file=sys.stderr)
        return 2
    _one_blas_thread()
    print(f"autograd_nn: running example {ex.name!r}: {ex.description}")
    start = time.perf_counter()
    kwargs = {"export": args.export} if args.export else {}
    if args.export and "export" not in inspect.signature(ex.run).parameters:
        print(f"example {ex.name!r} has no --export", file=sys.stderr)
        return 2
    result = ex.run(out_dir=args.out or f"runs/{ex.name}", quick=args.quick, **kwargs)
    elapsed = time.perf_counter() - start
    shown = {k: v for k, v in result.items() if k not in ("confusion_matrix", "headline")}
    print(json.dumps(shown, indent=2, default=str))
    if "headline" in result:  # the example's result in one labelled sentence
        print(f"\n{ex.name}: {result['headline']}\n")
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
