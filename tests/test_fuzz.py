"""Random differentiable programs checked against finite differences and PyTorch.

Each hypothesis example is a program of 5-30 ops over random broadcastable shapes (see
`tests/fuzz_programs.py` for the vocabulary and the JSON form). It is run in float64 and float32
(dtypes must be kept), its gradients are checked with `autograd_nn.gradcheck`, and, when torch is
installed, every intermediate value and every input gradient is compared with PyTorch running the
same program.

CI runs AUTOGRAD_NN_FUZZ_EXAMPLES programs (default 40); set it higher for a long run, or run
`python tests/fuzz_programs.py -n 2000` (plain random programs, no shrinking, a summary at the end).
A failure prints the (shrunk) program as one line of JSON: save it in `tests/fuzz_corpus/` and it is
replayed by `test_corpus_program` on every run.
"""

from __future__ import annotations

import json
import os

import fuzz_programs as fp
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import autograd_nn as ag

try:
    import torch as _torch
except ImportError:  # the finite-difference checks still run
    _torch = None

EXAMPLES = int(os.environ.get("AUTOGRAD_NN_FUZZ_EXAMPLES", "40"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(st.data())
def test_random_program(data):
    """A random program's values and gradients match finite differences and PyTorch."""
    program = fp.generate(fp.HypothesisChooser(data))
    note(f"program: {fp.to_json(program)}")
    try:
        fp.check_program(program, _torch)
    except fp.Degenerate:
        assume(False)


@pytest.mark.parametrize("name,program", fp.load_corpus(), ids=[n for n, _ in fp.load_corpus()])
def test_corpus_program(name, program):
    """Programs that once failed (or cover a tricky case) still pass."""
    fp.check_program(program, _torch)


def test_corpus_is_not_empty_and_well_formed():
    corpus = fp.load_corpus()
    assert len(corpus) >= 5
    for name, program in corpus:
        assert set(program) >= {"seed", "ops"}, name
        assert all(e["op"] == "input" or e["op"] in fp.NAMES for e in program["ops"]), name


def test_generator_uses_the_whole_vocabulary():
    """Every op in the vocabulary appears in a few hundred random programs (no dead entries)."""
    seen = set()
    for seed in range(300):
        seen.update(e["op"] for e in fp.generate(fp.RandomChooser(seed))["ops"])
    assert set(fp.NAMES) <= seen, sorted(set(fp.NAMES) - seen)


def test_generator_respects_the_op_count_and_is_reproducible():
    for seed in range(20):
        program = fp.generate(fp.RandomChooser(seed), min_ops=5, max_ops=30)
        n_ops = sum(e["op"] != "input" for e in program["ops"])
        assert 5 <= n_ops <= 30
        assert fp.generate(fp.RandomChooser(seed)) == program


def test_program_survives_a_json_round_trip():
    program = fp.generate(fp.RandomChooser(11))
    again = json.loads(fp.to_json(program))
    a = fp.interpret(program, ag, ag.functional, [ag.tensor(x) for x in fp.make_inputs(program)])
    b = fp.interpret(again, ag, ag.functional, [ag.tensor(x) for x in fp.make_inputs(again)])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_checker_catches_a_wrong_gradient(monkeypatch):
    """Mutation test of the harness: a 1% error in tanh's backward must be reported, with JSON."""
    from autograd_nn.ops import unary

    right = unary.Tanh.backward
    monkeypatch.setattr(unary.Tanh, "backward", lambda self, g: right(self, g) * 1.01)
    program = {
        "seed": 3,
        "ops": [
            {"op": "input", "shape": [2, 3]},
            {"op": "tanh", "args": [0]},
            {"op": "sum", "args": [1], "dims": [1], "keepdim": False},
        ],
    }
    with pytest.raises(fp.FuzzFailure, match=r'"op":"tanh"'):
        fp.check_program(program, None)


def test_checker_catches_a_wrong_value_against_torch(monkeypatch, torch):
    from autograd_nn.ops import unary

    right = unary.Tanh.forward
    monkeypatch.setattr(unary.Tanh, "forward", lambda self, x: right(self, x) * (1 + 1e-5))
    program = {"seed": 3, "ops": [{"op": "input", "shape": [4]}, {"op": "tanh", "args": [0]}]}
    with pytest.raises(fp.FuzzFailure, match="value differs from torch"):
        fp.compare_with_torch(program, torch)
