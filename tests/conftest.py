"""Shared fixtures. PyTorch parity tests use the `torch` fixture and skip cleanly without it.

Under pytest-xdist each worker gets one BLAS thread and one Numba thread: the workers already use
every core, and more threads than cores make small ops tens of times slower.
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

import autograd_nn as ag

if os.environ.get("PYTEST_XDIST_WORKER"):
    import numba

    numba.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # threadpoolctl comes with scikit-learn; without it BLAS keeps its default
        pass


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
