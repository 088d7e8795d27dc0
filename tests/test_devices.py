"""autograd_nn.device: the CPU under PyTorch's names; accelerators refused clearly."""

import pytest

import autograd_nn as ag
from autograd_nn.devices import as_device


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", ag.device("cpu"), None])
def test_cpu_spellings(spec):
    assert as_device(spec) == ag.device("cpu") == "cpu"


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "mps", 0])
def test_accelerators_are_refused_with_a_clear_error(spec):
    with pytest.raises(RuntimeError, match="CPU only"):
        as_device(spec)


def test_repr_and_str_match_pytorch():
    assert repr(ag.device("cpu")) == "device(type='cpu')"
    assert str(ag.device("cpu", 0)) == "cpu:0"
