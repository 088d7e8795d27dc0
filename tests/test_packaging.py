"""`pip install .` (not editable) ships autograd_nn.kernels and every subpackage, and no top-level
`kernels` package."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_regular_install_imports_kernels_under_the_project_namespace(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(tmp_path / "site"),
            str(ROOT),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    site = tmp_path / "site"
    assert (site / "autograd_nn" / "kernels" / "__init__.py").exists()
    assert not (site / "kernels").exists()
    code = (
        "import autograd_nn, autograd_nn.kernels, autograd_nn.nn, autograd_nn.optim; "
        "print(autograd_nn.kernels.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(site)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert str(site) in out
