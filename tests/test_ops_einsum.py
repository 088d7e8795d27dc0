"""einsum: NumPy values, float64 gradchecks (incl. 'ii' and '...'), torch parity, errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from tests.helpers import check_torch_parity, rand

# (equation, operand shapes)
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba,ab", [(2, 3), (3, 2)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ij", [(2, 2, 3)]),
    ("ij,jj->i", [(2, 3), (3, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->...", [(2, 3, 4)]),
    ("...i,...i", [(2, 3), (3,)]),
    ("i,j,k->ijk", [(2,), (3,), (2,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 2), (2, 2)]),
    (",i->i", [(), (3,)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
    ("ij,ij->i", [(2, 1), (2, 3)]),
]


def _run(lib):
    return lambda eq: lambda *xs: lib.einsum(eq, *xs)


@pytest.mark.parametrize("eq,shapes", CASES)
def test_forward_matches_numpy(eq, shapes):
    xs = [rand(s, np.float32, requires_grad=False) for s in shapes]
    out = ag.einsum(eq, *xs)
    assert out.dtype == np.float32
    ref = np.einsum(eq.replace(" ", ""), *[x.numpy().astype(np.float64) for x in xs])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("eq,shapes", CASES)
def test_gradcheck(eq, shapes):
    xs = [rand(s) for s in shapes]
    assert ag.gradcheck(_run(ag)(eq), xs)


@pytest.mark.parametrize("eq,shapes", CASES)
def test_gradgradcheck(eq, shapes):
    xs = [rand(s) for s in shapes]
    assert ag.gradgradcheck(lambda *a: ag.einsum(eq, *a) ** 2, xs)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("eq,shapes", CASES)
def test_torch_parity(eq, shapes, dtype, tol, torch):
    xs = [rand(s, dtype) for s in shapes]
    check_torch_parity(_run(ag)(eq), _run(torch)(eq), xs, torch, rtol=tol, atol=tol)
    grads = ag.grad(ag.einsum(eq, *xs).sum(), xs)
    assert all(g.dtype == dtype for g in grads)


def test_same_tensor_twice_and_list_form():
    x = rand((3, 3))
    out = ag.einsum("ij,jk->ik", [x, x])
    np.testing.assert_allclose(out.numpy(), x.numpy() @ x.numpy())
    assert ag.gradcheck(lambda a: ag.einsum("ij,jk->ik", a, a), [x])


def test_mixed_dtypes_promote_and_ints_work():
    a = ag.arange(6).reshape(2, 3)
    assert ag.einsum("ij->i", a).tolist() == [3, 12]
    assert ag.einsum("ij,j->i", a, ag.ones(3)).dtype == np.float32


ERRORS = [
    ("ij,jk->ik", [(2, 3)], "2 operand terms but 1 operands"),
    ("ijk->i", [(2, 3)], "term 'ijk' does not fit operand of shape \\(2, 3\\)"),
    ("ij,jk->ik", [(2, 3), (4, 2)], "letter 'j' has sizes 3 and 4"),
    ("ij->k", [(2, 3)], "output letters \\['k'\\] appear in no operand"),
    ("ij->ii", [(2, 3)], "repeat a letter"),
    ("i1->i", [(2, 3)], "invalid subscripts"),
    ("......->", [(2, 3)], "invalid subscripts"),
    ("ii->i", [(1, 3)], "repeated in 'ii' needs equal sizes"),
]


@pytest.mark.parametrize("eq,shapes,match", ERRORS)
def test_clear_errors(eq, shapes, match):
    with pytest.raises(ag.ShapeError, match=match):
        ag.einsum(eq, *[rand(s) for s in shapes])


def test_no_operands():
    with pytest.raises(ag.ShapeError, match="at least one operand"):
        ag.einsum("->")
