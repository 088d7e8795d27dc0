"""`python -m benchmarks --quick` runs every row end to end (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_ROWS = {"W1", "W2", "W3f", "W3b", "W4", "W5", "W6", "W7", "GEMM", "OVH", "CNNt", "LSTMt"}
ONE_TIME_ROWS = {"CNNt0", "LSTMt0"}
COLD_ROWS = {"COLDw", "COLDc", "KERN"}
DDP_ROWS = {"DDPt", "DDPo"}  # need mpirun + mpi4py; without them the rows say so and skip


def _run(tmp_path: Path, *extra: str) -> tuple[dict, str]:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--threads", "1", "--json", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"benchmarks failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(out.read_text()), proc.stdout


@pytest.mark.slow
def test_quick_run_every_row(tmp_path: Path) -> None:
    data, stdout = _run(tmp_path)
    rows = {r["key"]: r for r in data["rows"]}
    assert set(rows) == BENCH_ROWS | ONE_TIME_ROWS | COLD_ROWS | DDP_ROWS
    with_torch = "torch" in data["meta"]["workers"]["1"]  # without torch there is no ratio
    with_mpi = shutil.which("mpirun") is not None and importlib.util.find_spec("mpi4py") is not None
    for key, row in rows.items():
        assert row["error"] is None, f"{key}: {row['error']}"
        if with_torch or key in COLD_ROWS or key == "GEMM" or (key in DDP_ROWS and with_mpi):
            assert row["metric"] is not None, f"{key} produced no metric"
        if key in DDP_ROWS and not with_mpi:
            assert row["note"].startswith("skipped:")
        assert row["met"] is None  # quick mode gives no verdict
    for key in BENCH_ROWS:
        assert rows[key]["times"]["ours"]["n"] >= 1
        assert rows[key]["agree"] is not False, f"{key}: outputs differ from the baseline"
    for key in ("W1", "W2", "W3f", "W3b", "W7"):
        assert "numpy" in rows[key]["times"], f"{key} has no NumPy baseline"
    assert "no RecursionError" in rows["W7"]["note"]
    assert "NOT exercised" not in rows["KERN"]["note"], rows["KERN"]["note"]
    assert data["meta"]["threads"] == [1]
    workers = data["meta"]["workers"]["1"]  # each library in its own process, at one thread
    assert workers["ours"]["autograd_nn"] == 1
    assert set(workers["numpy"]["blas"].values()) == {1} and set(workers["ours"]["blas"].values()) == {1}
    assert "torch" not in workers["ours"]["loaded"] and "autograd_nn" not in workers["numpy"]["loaded"]
    if with_torch:
        assert workers["torch"]["torch"] == 1 and "autograd_nn" not in workers["torch"]["loaded"]
    assert "W7" in stdout and "quick: no verdict" in stdout
    assert "<=" not in stdout and ">=" not in stdout  # no target is shown next to a cold ratio


def test_only_filter_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "ratios.png"
    data, stdout = _run(tmp_path, "--only", "W1,W3", "--no-coldstart", "--plot", str(png))
    assert [r["key"] for r in data["rows"]] == ["W1", "W3f", "W3b"]
    assert png.stat().st_size > 0
    table = stdout[stdout.index("key ") :]
    assert "ratio vs target" in table and "target <=" not in table
    for key in ("W1", "W3f", "W3b"):
        row = next(line for line in table.splitlines() if line.startswith(key + " "))
        assert "quick: no verdict" in row and "ran" in row, row


def test_full_mode_table_shows_ratio_and_target() -> None:
    """Outside quick mode the same row shows its ratio, its target and a verdict."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import harness

    row = harness.Row("W1", "mlp step", times={}, metric=0.5, target="<= 0.7", met=True)
    table = harness.format_table([row], quick=False)
    assert "0.50" in table and "<= 0.7" in table and "met" in table
    assert "no verdict" not in table
    quick = harness.format_table([row], quick=True)
    assert "0.50" not in quick and "<= 0.7" not in quick and "quick: no verdict" in quick
