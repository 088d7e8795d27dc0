"""How the MPI test programs hand their results back: one JSON file per rank in $MPI_TEST_RESULTS
(lines that several ranks print at once can interleave in mpirun's output), else a printed line."""

from __future__ import annotations

import json
import os
from typing import Any


def report(rank: int, payload: dict[str, Any]) -> None:
    folder = os.environ.get("MPI_TEST_RESULTS")
    text = json.dumps(payload)
    if folder:
        with open(os.path.join(folder, f"rank{rank}.json"), "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print("RESULT " + text, flush=True)
