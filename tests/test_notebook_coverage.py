"""Every family of networks in the examples has a notebook: each example module is imported by at
least one notebook in notebooks/ (which the suite executes through nbmake)."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from autograd_nn.examples.registry import EXAMPLE_MODULES

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _imported_examples() -> set[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for names in re.findall(r"from autograd_nn\.examples import ([\w ,]+)", source):
                found |= {n.split(" as ")[0].strip() for n in names.split(",")}
            found |= set(re.findall(r"from autograd_nn\.examples\.(\w+) import", source))
    return found


@pytest.mark.parametrize("module", EXAMPLE_MODULES)
def test_every_example_family_has_a_notebook(module):
    name = module.rsplit(".", 1)[1]
    assert name in _imported_examples(), f"no notebook in notebooks/ imports examples.{name}"
