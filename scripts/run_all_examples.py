"""Run every registered example at its default settings and write the headline metrics as JSON.

    python scripts/run_all_examples.py [out.json]

This is how the README's examples table was made (one BLAS thread; outputs under runs/all/).
"""

from __future__ import annotations

import json
import sys
import time


def main(path: str = "runs/all/results.json") -> None:
    from threadpoolctl import threadpool_limits

    from autograd_nn.examples import all_examples

    threadpool_limits(1, user_api="blas")
    results = {}
    for name, ex in all_examples().items():
        start = time.perf_counter()
        metrics = ex.run(out_dir=f"runs/all/{name}", quick=False)
        metrics["seconds"] = round(time.perf_counter() - start, 1)
        results[name] = metrics
        print(name, json.dumps(metrics, default=str)[:300], flush=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:])
