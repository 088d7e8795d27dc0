"""Port tests: complete PyTorch training scripts (tests/port_programs/*.py, written against `torch` the
way PyTorch's tutorials write them) run with only their imports changed, and give PyTorch's numbers
step by step: every loss that `backward()` was called on, and every model's final state_dict.

PyTorch's random draws are routed through NumPy in autograd_nn's order for the comparison (see
tests/port_harness.py), so both runs see the same initial weights, shuffles, masks and samples.
Each script runs under autograd_nn even without PyTorch installed; the comparison needs PyTorch.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.port_harness import PROGRAMS, ported_source, run_script

SCRIPTS = sorted(p for p in PROGRAMS.glob("*.py"))


def _tolerance(text: str) -> float:
    """A script may widen the float32 comparison with a `# port-test: rtol=...` line."""
    m = re.search(r"#\s*port-test:\s*rtol=([0-9.eE+-]+)", text)
    return float(m.group(1)) if m else 1e-4


def _modules(namespace: dict, module_cls: type) -> dict:
    return {k: v for k, v in namespace.items() if isinstance(v, module_cls)}


def test_a_port_changes_only_import_lines():
    for path in SCRIPTS:
        text = path.read_text()
        ported = ported_source(text)
        changed = [(a, b) for a, b in zip(text.splitlines(), ported.splitlines()) if a != b]
        assert changed, path.name
        for before, after in changed:
            assert re.match(r"\s*(import|from) torch\b", before), (path.name, before)
            assert "autograd_nn" in after and "torch" in before


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_port_program_matches_pytorch(path, request):
    text = path.read_text()
    if "sklearn" in text:
        pytest.importorskip("sklearn")
    ours = run_script(path, "autograd_nn")
    assert ours["losses"], f"{path.name}: no backward() ran"
    assert all(np.isfinite(ours["losses"])), f"{path.name}: non-finite loss"
    torch = request.getfixturevalue("torch")
    theirs = run_script(path, "torch")
    rtol = _tolerance(text)
    assert len(ours["losses"]) == len(theirs["losses"]), path.name
    np.testing.assert_allclose(
        ours["losses"],
        theirs["losses"],
        rtol=rtol,
        atol=rtol * 1e-2,
        err_msg=f"{path.name}: loss curves differ",
    )
    import autograd_nn as ag

    mine = _modules(ours["globals"], ag.nn.Module)
    reference = _modules(theirs["globals"], torch.nn.Module)
    assert set(mine) == set(reference), path.name
    for name, module in reference.items():
        want = module.state_dict()
        got = mine[name].state_dict()
        assert list(got) == list(want), f"{path.name}: {name} state_dict keys differ"
        for key, value in want.items():
            np.testing.assert_allclose(
                got[key].numpy(),
                value.detach().numpy(),
                rtol=rtol * 10,
                atol=rtol,
                err_msg=f"{path.name}: {name}.{key}",
            )
