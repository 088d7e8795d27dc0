"""Multi-process tests: programs in tests/mpi_programs/ launched with mpirun (2 and 3 ranks) as
subprocesses, each with a timeout, so a hang fails the test instead of the suite.

Skipped, with the reason, when mpirun or mpi4py is missing (`bash scripts/install.sh test`
installs both). Ranks may outnumber this machine's cores (--oversubscribe).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd_nn as ag

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "tests" / "mpi_programs"

pytestmark = [
    pytest.mark.skipif(
        shutil.which("mpirun") is None,
        reason="mpirun not found: install Open MPI (bash scripts/install.sh test)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("mpi4py") is None,
        reason="mpi4py not installed: pip install 'autograd-nn[distributed]'",
    ),
]


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _env(fixed_threads: bool = True) -> dict[str, str]:
    """The ranks' environment: one thread each, or (fixed_threads=False) the library's default."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.pop("PYTEST_XDIST_WORKER", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if fixed_threads:
        env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    return env


def mpirun(
    n: int, *program: str, results_dir: Path | None = None, timeout: float = 240, fixed_threads: bool = True
) -> subprocess.CompletedProcess:
    """`mpirun -n N python PROGRAM...` with the flags a 2-core CI machine (as root) needs."""
    cmd = ["mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    env = _env(fixed_threads)
    if results_dir is not None:
        env["MPI_TEST_RESULTS"] = str(results_dir)
    return subprocess.run(
        cmd + [sys.executable, *program], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )


def launcher(n: int, *program: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """The same through `python -m autograd_nn.distributed.run`."""
    return subprocess.run(
        [sys.executable, "-m", "autograd_nn.distributed.run", "-n", str(n), *program],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=_env(),
    )


def run_program(n: int, folder: Path, *program: str, fixed_threads: bool = True) -> list[dict]:
    """Run an MPI test program on n ranks; each rank's JSON report, in rank order."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = mpirun(n, *program, results_dir=folder, fixed_threads=fixed_threads)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    reports = [json.loads((folder / f"rank{r}.json").read_text()) for r in range(n)]
    assert [r["rank"] for r in reports] == list(range(n))
    return reports


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_match_numpy(n: int, tmp_path: Path) -> None:
    """Also: without thread variables in the environment, the ranks split the cores between them."""
    share = max(1, len(os.sched_getaffinity(0)) // n)
    for r in run_program(n, tmp_path, str(PROGRAMS / "check_collectives.py"), fixed_threads=False):
        assert r["size"] == n and r["checked"] > 300
        assert r["failures"] == [], r["failures"][:10]
        assert r["threads"] == share and r["numba_threads"] == share


@pytest.fixture(scope="module")
def equivalence_2_ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return run_program(2, tmp_path_factory.mktemp("ddp2"), str(PROGRAMS / "check_equivalence.py"))


# float64: equal to one process within 1e-12; float32: within its rounding after 3 steps
TOLERANCE = {"float64": 1e-12, "float32": 5e-6}
CASES = [
    "mlp_float64",
    "mlp_float32",
    "cnn_batchnorm_float64",
    "cnn_syncbatchnorm_float64",
    "cnn_syncbatchnorm_float32",
    "lstm_float64",
    "unused_parameters_float64",
    "no_sync_accumulation_float64",
]


@pytest.mark.parametrize("case", CASES)
def test_ddp_on_2_ranks_equals_one_process(equivalence_2_ranks: list[dict], case: str) -> None:
    tol = TOLERANCE[case.rsplit("_", 1)[1]]
    for r in equivalence_2_ranks:
        got = r["cases"][case]
        assert got["ranks_identical"], f"rank {r['rank']}: replicas differ"
        assert got["max_param_diff"] <= tol, (r["rank"], got)
        if "max_buffer_diff" in got:  # SyncBatchNorm: running statistics of the global batch
            assert got["max_buffer_diff"] <= tol, (r["rank"], got)
        if "never_used_grad_is_none" in got:
            assert got["never_used_grad_is_none"]
    if case in ("mlp_float64", "cnn_syncbatchnorm_float64"):
        assert equivalence_2_ranks[0]["cases"][case]["buckets"] > 1  # the overlapping path ran


def test_ddp_on_3_ranks_equals_one_process(tmp_path: Path) -> None:
    cases = ["mlp_float64", "cnn_syncbatchnorm_float64", "unused_parameters_float64"]
    for r in run_program(3, tmp_path, str(PROGRAMS / "check_equivalence.py"), *cases):
        for case in cases:
            assert r["cases"][case]["ranks_identical"]
            assert r["cases"][case]["max_param_diff"] <= 1e-12, (case, r["cases"][case])


@pytest.mark.parametrize(
    "mode, message",
    [
        ("raise", "deliberate failure on rank 1"),
        ("kill", "signal 9"),
        ("hang", "did not complete within the 3 s timeout"),
        ("disagree", "received no gradient in this backward pass"),
    ],
)
def test_a_failing_rank_ends_the_job_with_a_clear_message(mode: str, message: str) -> None:
    start = time.monotonic()
    proc = launcher(2, str(PROGRAMS / "failures.py"), mode, timeout=120)
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert message in output, output[-3000:]
    assert "autograd_nn.distributed.run: the job failed" in proc.stderr
    assert "all steps done" not in output  # no rank carried on alone
    assert elapsed < 120


@pytest.mark.slow
def test_a_job_that_failed_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    program = str(PROGRAMS / "train_resumable.py")
    whole = launcher(2, program, str(tmp_path / "a.state"), str(tmp_path / "a.out"))
    assert whole.returncode == 0, whole.stderr[-3000:]
    failed = launcher(2, program, str(tmp_path / "b.state"), str(tmp_path / "b.out"), "--fail-at-epoch", "3")
    assert failed.returncode != 0 and "deliberate failure on rank 1 in epoch 3" in failed.stderr
    assert ag.load(tmp_path / "b.state")["epoch"] == 2  # written before the failure
    resumed = launcher(2, program, str(tmp_path / "b.state"), str(tmp_path / "b.out"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed from" in resumed.stdout and resumed.stdout.count("epoch   1") == 0
    a, b = ag.load(tmp_path / "a.out"), ag.load(tmp_path / "b.out")
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())


def test_launcher_reports_usage_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_nn.distributed.run", "-n", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "give a script" in proc.stderr


def _main_job(tmp_path: Path, example: str) -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograd_nn",
            "--example",
            example,
            "--quick",
            "--nproc",
            "2",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("running example") == 1  # rank 0 alone speaks
    assert "(on 2 processes)" in proc.stdout
    start = proc.stdout.index("{")
    return proc, json.loads(proc.stdout[start : proc.stdout.index("\n}", start) + 2])


@pytest.mark.slow
def test_main_job_trains_the_digits_cnn_on_2_processes(tmp_path: Path) -> None:
    proc, result = _main_job(tmp_path, "cnn")
    assert result["test_accuracy"] > 0.8
    assert proc.stdout.count("epoch   1") == 1
    assert (tmp_path / "best.ckpt").exists() and (tmp_path / "curves.png").exists()
    assert "module.features.1.running_mean" in ag.load(tmp_path / "best.ckpt")["model"]


@pytest.mark.slow
def test_transformer_example_trains_data_parallel(tmp_path: Path) -> None:
    _, result = _main_job(tmp_path, "bert")
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["num_params"] > 0


def test_sync_batch_norm_op_passes_gradcheck() -> None:
    """The op itself (allgather of statistics, all-reduce in backward) in a one-rank MPI job:
    float64 finite differences. On 2 and 3 ranks its gradients equal BatchNorm's on the whole
    batch (test_ddp_on_*_ranks_equals_one_process)."""
    code = """
import autograd_nn as ag, autograd_nn.distributed as dist
from autograd_nn.distributed.sync_batch_norm import sync_batch_norm
dist.init_process_group('mpi')
x = ag.randn(3, 2, 2, 2, dtype=ag.float64, requires_grad=True)
w = ag.randn(2, dtype=ag.float64, requires_grad=True)
b = ag.randn(2, dtype=ag.float64, requires_grad=True)
f = lambda x, w, b: sync_batch_norm(x * 3.0 + 1.0, w, b, None, None, 0.1, 1e-5)
assert ag.gradcheck(f, (x, w, b))
print('gradcheck ok')
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=_env()
    )
    assert proc.returncode == 0 and "gradcheck ok" in proc.stdout, proc.stderr[-3000:]
