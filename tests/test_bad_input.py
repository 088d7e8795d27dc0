"""Bad input to every public callable: a correct result or a clear error (bad_input_catalogue.py).

A clear error is a project exception (autograd_nn.errors) or a standard one, raised on purpose by
autograd_nn code (a `raise` line in the library, not in NumPy/Numba) or naming the op; never a raw
NumPy/Numba error from deep inside, never a crash.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from tests.bad_input_catalogue import (
    BINARY,
    DIM,
    EXEMPT,
    INT_BINARY,
    INT_UNARY,
    UNARY,
    assert_clear,
    catalogued,
    public_names,
)


def test_every_public_callable_is_catalogued():
    missing = sorted(set(public_names()) - catalogued() - set(EXEMPT))
    assert not missing, f"public callables missing from tests/bad_input_catalogue.py: {missing}"


def test_catalogue_names_are_public_api():
    stale = sorted(catalogued() - set(public_names()))
    assert not stale, f"tests/bad_input_catalogue.py lists names that are not public API: {stale}"


def test_the_check_notices_new_api(monkeypatch):
    def brand_new_op(x):
        return x

    brand_new_op.__module__ = "autograd_nn._tensor.functions"
    monkeypatch.setattr(ag, "brand_new_op", brand_new_op, raising=False)
    assert "ag.brand_new_op" in set(public_names()) - catalogued() - set(EXEMPT)


def test_exempt_names_exist_and_have_reasons():
    names = set(public_names())
    for name, reason in EXEMPT.items():
        assert name in names, f"EXEMPT lists {name}, which is not public API"
        assert reason.strip(), name


def _close(a, b):
    a = a[0] if isinstance(a, tuple) else a
    b = b[0] if isinstance(b, tuple) else b
    np.testing.assert_allclose(np.asarray(a.numpy(), float), np.asarray(b.numpy(), float), equal_nan=True)


# ---- pointwise: one tensor ------------------------------------------------------------------
X = np.array([[0.3, -0.7, 0.2], [0.9, -0.1, 0.5]], np.float32)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_accepts_lists_views_readonly_empty_and_nonfinite(name):
    with np.errstate(all="ignore"):
        _unary_checks(name, UNARY[name])


def _unary_checks(name, f):
    ref = f(ag.tensor(X))
    if name.startswith("F."):  # PyTorch's F.* take Tensors only: a list is a TypeError
        with pytest.raises(TypeError, match="must be Tensor, not list"):
            f(X.tolist())
    else:
        _close(f(X.tolist()), ref)  # Python list
    base = np.zeros((2, 6), np.float32)
    base[:, ::2] = X
    _close(f(ag.as_tensor(base[:, ::2])), ref)  # non-contiguous view
    _close(f(ag.as_tensor(np.ascontiguousarray(X.T)).T), ref)  # transposed view
    ro = X.copy()
    ro.flags.writeable = False
    _close(f(ag.as_tensor(ro)), ref)  # read-only array
    assert f(ag.zeros(0, 3)).shape == (0, 3)  # empty
    out = f(ag.tensor([np.nan, np.inf, -np.inf, 0.0]))  # NaN/Inf: values, no error
    assert out.shape == (4,)
    x = ag.tensor(X, requires_grad=True)
    f(x).sum().backward() if f(x).requires_grad else None
    with pytest.raises(Exception) as err:  # wrong argument type
        f("abc")
    assert_clear(err.value, name)


@pytest.mark.parametrize("name", sorted(INT_UNARY))
def test_int_unary_rejects_floats_clearly(name):
    f = INT_UNARY[name]
    assert f([[1, 2], [3, 4]]).shape == (2, 2)
    with pytest.raises(Exception) as err:
        f(ag.tensor(X))
    assert_clear(err.value, name, "float32")


def test_integer_tensor_cannot_require_grad():
    for make in (
        lambda: ag.tensor([1, 2], requires_grad=True),
        lambda: ag.arange(3).requires_grad_(),
        lambda: ag.tensor(np.array([True]), requires_grad=True),
    ):
        with pytest.raises(ag.DTypeError) as err:
            make()
        assert_clear(err.value, "requires_grad")


# ---- pointwise: two tensors -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BINARY) + sorted(INT_BINARY))
def test_binary_incompatible_shapes_name_both(name):
    f = {**BINARY, **INT_BINARY}[name]
    if name in INT_BINARY:
        a, b = ag.ones(2, 3, dtype=ag.int64), ag.ones(4, dtype=ag.int64)
    else:
        a, b = ag.ones(2, 3), ag.ones(4)
    with pytest.raises(ag.ShapeError) as err:
        f(a, b)
    assert_clear(err.value, name, "(2, 3)", "(4,)")
    assert f(a.numpy().tolist(), b[:3]).shape == (2, 3)  # lists broadcast with tensors
    assert f(a[:0], b[:3]).shape == (0, 3)  # empty


# ---- functions with a dim argument ----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(DIM))
@pytest.mark.parametrize("dim", [5, -4])
def test_dim_out_of_range(name, dim):
    with pytest.raises(ag.OpIndexError) as err:
        DIM[name](ag.tensor(X), dim)
    assert_clear(err.value, name, str(dim))


@pytest.mark.parametrize("name", sorted(DIM))
def test_dim_wrong_type(name):
    with pytest.raises((TypeError, ValueError, IndexError)) as err:
        DIM[name](ag.tensor(X), "x")
    assert_clear(err.value, name)


@pytest.mark.parametrize("name", sorted(DIM))
def test_dim_functions_take_lists_or_fail_clearly(name):
    try:
        out = DIM[name](X.tolist(), 1)
    except Exception as err:
        assert_clear(err, name)
    else:
        _close(out, DIM[name](ag.tensor(X), 1))
