"""Shared fixtures. PyTorch parity tests use the `torch` fixture and skip cleanly without it.

Under pytest-xdist each worker runs autograd_nn with one thread (its pool and BLAS): the workers
already use every core, and more threads than cores make small ops tens of times slower. The tests
of the thread pool set their own thread count.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import settings

# CI sees the same examples every run (a fixed seed per test); widen with HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

import autograd_nn as ag  # noqa: E402  (after the profile, so imports see it)

if os.environ.get("PYTEST_XDIST_WORKER"):
    ag.set_num_threads(1)  # autograd_nn's pool; BLAS is single-threaded under autograd_nn anyway


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch", exc_type=ImportError)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
    return torch


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state, whatever ran before it (xdist reorders)."""
    ag.manual_seed(0)
    np.random.seed(0)
    for name in ("helpers", "tests.helpers"):
        module = sys.modules.get(name)
        if module is not None:
            module.RNG.bit_generator.state = np.random.default_rng(1234).bit_generator.state
    yield
