"""The specific bad-input cases of tests/bad_input_catalogue.py::CASES, one test each."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from tests.bad_input_catalogue import CASES, assert_clear


@pytest.fixture(autouse=True)
def _restore_global_state():
    dtype, enabled = ag.get_default_dtype(), ag.is_grad_enabled()
    yield
    ag.set_default_dtype(dtype)
    ag.set_grad_enabled(enabled)


@pytest.mark.parametrize("name, what, call, expect", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_case(name, what, call, expect):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if expect[0] == "ok":
            out = call()
            if expect[1] is not None:
                expect[1](out)
            return
        _, exc, fragments = expect
        with pytest.raises(Exception) as err:
            call()
    assert isinstance(err.value, exc), (
        f"{name} ({what}): expected {exc.__name__}, got {type(err.value).__name__}: {err.value}"
    )
    assert_clear(err.value, name, *fragments)
