"""Shared fixtures. PyTorch parity tests use the `torch` fixture and skip cleanly without it."""
import numpy as np
import pytest

import autograd_nn as ag


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seed():
    ag.manual_seed(0)
    np.random.seed(0)
    yield
