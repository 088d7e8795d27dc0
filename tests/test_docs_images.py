"""The README's pictures match today's library: each committed `docs/images/NAME.dot` equals the DOT
text `docs/make_images.py` builds now. When this fails, run `python docs/make_images.py` and commit
the pictures and their .dot files together.

Numbers (values, gradients, statistics, timings) are masked before comparing: float32 sums may
round differently on another CPU, and the profiler's timings and heat colours change every run.
What the pictures are about (ops, tensors, shapes, names, clusters, edges) is compared exactly.
"""

from __future__ import annotations

import difflib
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
_NUMBER = re.compile(r"-?\d+\.\d+(?:e[+-]?\d+)?")
_TIME = re.compile(r"<num> [mu]s\b")
_HEAT = re.compile(r'fillcolor="#[0-9a-f]{6}"')


def _make_images():
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_images = _make_images()


def normalized(dot: str, name: str) -> str:
    text = _TIME.sub("<time>", _NUMBER.sub("<num>", dot))
    if name == "profile_heatmap":  # an op's colour is its measured time
        text = "\n".join(
            _HEAT.sub('fillcolor="<heat>"', line) if "fwd " in line else line for line in text.splitlines()
        )
    return text


@pytest.mark.parametrize("name", sorted(make_images.PICTURES))
def test_committed_picture_matches_what_make_images_draws_today(name):
    committed = IMAGES / f"{name}.dot"
    assert committed.exists(), f"{committed} is missing: run python docs/make_images.py"
    want = normalized(committed.read_text(encoding="utf-8"), name)
    got = normalized(make_images.build(name).source, name)
    if got != want:
        diff = "\n".join(
            difflib.unified_diff(
                want.splitlines(),
                got.splitlines(),
                f"committed {name}.dot",
                "make_images.py today",
                lineterm="",
                n=1,
            )
        )
        pytest.fail(f"docs/images/{name} is stale: run python docs/make_images.py\n{diff[:4000]}")


@pytest.mark.parametrize("name", sorted(make_images.PICTURES))
def test_every_picture_is_rendered_in_its_formats(name):
    for fmt in make_images.PICTURES[name][1]:
        assert (IMAGES / f"{name}.{fmt}").stat().st_size > 0


def test_the_readme_shows_only_pictures_that_make_images_draws():
    """Every graph picture the README links to is one this script makes (the benchmark charts
    come from `python -m benchmarks --plot` and `--scaling`)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"docs/images/([\w]+)\.(?:png|svg)", readme))
    made = set(make_images.PICTURES).union(*(pics for _, pics in make_images.EXAMPLE_PICTURES.values()))
    assert linked and linked - {"benchmark_ratios", "scaling"} <= made


def test_the_micrograd_picture_shows_the_roots_grad_of_one():
    """As micrograd draws it: after backward the root's grad is 1."""
    dot = make_images.build("micrograd_expression").source
    root = next(line for line in dot.splitlines() if "<B>L</B>" in line)
    assert 'grad</TD><TD ALIGN="LEFT">1.0000' in root, root


def test_the_cnn_picture_draws_linear_as_one_op():
    dot = make_images.build("digits_cnn_graph").source
    assert "<B>Linear</B>" in dot and "<B>MatMul</B>" not in dot and "<B>Permute</B>" not in dot
