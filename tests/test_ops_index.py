"""Indexing ops: __getitem__, gather/scatter family, masks, triangles and diagonals, one_hot,
embedding. NumPy values, float64 gradchecks (repeated indices add up), PyTorch parity, errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from tests.helpers import check_torch_parity, rand

MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
ROWS = np.array([True, False, True])
AG = SimpleNamespace(lib=ag, F=F, t=lambda a: ag.tensor(np.asarray(a)))


def torch_ns(torch):
    return SimpleNamespace(lib=torch, F=torch.nn.functional, t=lambda a: torch.tensor(np.asarray(a)))


# (id, fn(ns, *inputs) written once for both libraries, input shapes); indices are constants.
CASES = [
    ("int", lambda m, x: x[1], [(3, 4)]),
    ("int_negative", lambda m, x: x[-1, 2], [(3, 4)]),
    ("int_0d_result", lambda m, x: x[1, 2, 0], [(2, 3, 2)]),
    ("slice", lambda m, x: x[1:, ::2], [(3, 4)]),
    ("slice_negative_bounds", lambda m, x: x[:, -3:-1], [(3, 4)]),
    ("slice_step_out_of_range", lambda m, x: x[::3, 10:], [(5, 4)]),
    ("none_ellipsis", lambda m, x: x[None, ..., 1], [(2, 3, 4)]),
    ("ellipsis_none_slice", lambda m, x: x[..., None, :2], [(2, 3)]),
    ("list_repeated", lambda m, x: x[[0, 0, 2, 0]], [(3, 4)]),
    ("list_negative", lambda m, x: x[[-1, 0, -1]], [(3, 2)]),
    ("tensor_2d_index", lambda m, x: x[m.t([[1, 0], [1, 1]])], [(2, 3)]),
    ("tensor_0d_index", lambda m, x: x[m.t(1)], [(3, 2)]),
    ("empty_list", lambda m, x: x[[]], [(3, 2)]),
    ("adv_pair_repeated", lambda m, x: x[[0, 1, 1], [2, 2, 2]], [(2, 3)]),
    ("adv_split_by_slice", lambda m, x: x[[0, 1, 1], :, [2, 2, 0]], [(2, 3, 4)]),
    ("adv_after_slice", lambda m, x: x[:, [1, 1], 1:], [(2, 3, 4)]),
    ("adv_with_int", lambda m, x: x[1, :, [0, 0, 3]], [(2, 3, 4)]),
    ("bool_mask_full", lambda m, x: x[m.t(MASK)], [(3, 4)]),
    ("bool_mask_rows", lambda m, x: x[m.t(ROWS)], [(3, 4)]),
    ("bool_mask_leading", lambda m, x: x[m.t(MASK)], [(3, 4, 2)]),
    ("bool_mask_after_slice", lambda m, x: x[:, m.t(ROWS)], [(2, 3)]),
    ("bool_and_int_array", lambda m, x: x[m.t(ROWS), m.t([1, 1])], [(3, 4)]),
    ("gather", lambda m, x: x.gather(1, m.t([[0, 0, 2], [1, 0, 1]])), [(2, 3)]),
    ("gather_small_index", lambda m, x: m.lib.gather(x, -2, m.t([[1, 1], [0, 1]])), [(3, 4)]),
    ("gather_0d", lambda m, x: x.gather(0, m.t(0)), [()]),
    ("scatter_add", lambda m, x, s: x.scatter_add(0, m.t([[0, 1, 0], [0, 0, 2]]), s), [(3, 3), (2, 3)]),
    ("scatter_add_fn", lambda m, x, s: m.lib.scatter_add(x, -1, m.t([[1, 1], [0, 1]]), s), [(2, 2), (2, 2)]),
    ("index_select", lambda m, x: x.index_select(1, m.t([2, 0, 2])), [(2, 3)]),
    ("index_select_fn", lambda m, x: m.lib.index_select(x, -1, m.t([1])), [(2, 2, 3)]),
    ("index_add", lambda m, x, s: x.index_add(1, m.t([0, 2, 0]), s, alpha=2.0), [(2, 3), (2, 3)]),
    ("masked_fill", lambda m, x: x.masked_fill(m.t(ROWS[:, None]), -2.5), [(3, 4)]),
    ("masked_fill_tensor_value", lambda m, x, v: m.lib.masked_fill(x, m.t(MASK), v), [(3, 4), ()]),
    ("masked_select", lambda m, x: x.masked_select(m.t(MASK)), [(3, 4)]),
    ("masked_select_broadcast", lambda m, x: m.lib.masked_select(x, m.t(MASK[0])), [(2, 4)]),
    ("take_along_dim", lambda m, x: x.take_along_dim(m.t([[0], [2], [2]]), 1), [(3, 4)]),
    ("take_along_dim_bcast", lambda m, x: m.lib.take_along_dim(x, m.t([[1, 1, 0]]), 0), [(2, 3)]),
    ("take_along_dim_flat", lambda m, x: x.take_along_dim(m.t([5, 0, 5])), [(2, 3)]),
    ("tril", lambda m, x: x.tril(), [(3, 4)]),
    ("tril_offset", lambda m, x: m.lib.tril(x, -1), [(2, 3, 3)]),
    ("triu", lambda m, x: x.triu(1), [(4, 3)]),
    ("triu_fn", lambda m, x: m.lib.triu(x, -1), [(2, 3, 2)]),
    ("diagonal", lambda m, x: x.diagonal(), [(3, 4)]),
    ("diagonal_offset_dims", lambda m, x: x.diagonal(1, -1, 0), [(3, 2, 4)]),
    ("diagonal_neg_offset", lambda m, x: m.lib.diagonal(x, -1), [(3, 3)]),
    ("diag_vector", lambda m, x: m.lib.diag(x), [(3,)]),
    ("diag_vector_offset", lambda m, x: x.diag(-2), [(2,)]),
    ("diag_matrix", lambda m, x: m.lib.diag(x, 1), [(3, 4)]),
    ("diag_embed", lambda m, x: x.diag_embed(), [(2, 3)]),
    ("diag_embed_dims", lambda m, x: m.lib.diag_embed(x, 1, 0, 2), [(2, 3)]),
    ("trace", lambda m, x: x.trace(), [(3, 4)]),
    ("embedding", lambda m, w: m.F.embedding(m.t([[0, 2], [2, 2]]), w), [(3, 4)]),
    ("embedding_padding", lambda m, w: m.F.embedding(m.t([[0, 2], [1, 2]]), w, padding_idx=2), [(3, 4)]),
]
IDS = [c[0] for c in CASES]
# PyTorch's padding_idx withholds a true gradient on purpose: checked in its own test instead
TRUE_GRAD = [c for c in CASES if c[0] != "embedding_padding"]


@pytest.mark.parametrize("name,fn,shapes", TRUE_GRAD, ids=[c[0] for c in TRUE_GRAD])
def test_gradcheck(name, fn, shapes):
    xs = [rand(s) for s in shapes]
    assert ag.gradcheck(lambda *a: fn(AG, *a), xs)


@pytest.mark.parametrize("name,fn,shapes", TRUE_GRAD, ids=[c[0] for c in TRUE_GRAD])
def test_gradgradcheck(name, fn, shapes):
    """The square makes the first derivative depend on x, so the op's backward is differentiated."""
    xs = [rand(s) for s in shapes]
    assert ag.gradgradcheck(lambda *a: fn(AG, *a) ** 2, xs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_torch_parity(name, fn, shapes, dtype, torch):
    xs = [rand(s, dtype) for s in shapes]
    check_torch_parity(lambda *a: fn(AG, *a), lambda *a: fn(torch_ns(torch), *a), xs, torch)
    out = fn(AG, *xs)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in ag.grad(out.sum(), xs))


def test_forward_matches_numpy():
    x = rand((3, 4, 2), np.float32, requires_grad=False)
    a = x.numpy()
    for index in [
        (1, slice(None, None, 2)),
        (Ellipsis, 0),
        ([2, 0, 2],),
        (MASK,),
        ([0, 1], slice(None), [1, 1]),
        (None, 1, None),
        (slice(1, None), MASK[0]),
    ]:
        np.testing.assert_array_equal(x[index].numpy(), a[index])
    idx = np.array([[[0, 1]], [[1, 1]], [[0, 0]]])
    np.testing.assert_array_equal(x.gather(2, ag.tensor(idx)).numpy(), np.take_along_axis(a[:, :1], idx, 2))
    np.testing.assert_array_equal(x.tril(-1).numpy(), np.tril(a, -1))
    np.testing.assert_array_equal(x.diagonal(0, 0, 1).numpy(), np.diagonal(a, 0, 0, 1))
    assert x[0].dtype == np.float32


def test_int_with_advanced_index_follows_torch_not_numpy():
    x = rand((2, 3, 4), requires_grad=False)
    assert x[1, :, [0, 0, 3]].shape == (3, 3)  # NumPy would give (3, 3) transposed
    np.testing.assert_array_equal(x[1, :, [0, 2]].numpy(), x.numpy()[1][:, [0, 2]])
    np.testing.assert_array_equal(x[[0, 1], 2, None].numpy(), x.numpy()[:, 2][[0, 1], None])


def test_scatter_add_uses_only_the_indexed_part_of_src():
    x, src = rand((3, 3)), rand((2, 4))
    idx = ag.tensor([[0, 1, 0], [2, 0, 2]])
    np.testing.assert_allclose(x.scatter_add(0, idx, src).numpy(), x.scatter_add(0, idx, src[:, :3]).numpy())
    assert ag.gradcheck(lambda a, s: a.scatter_add(0, idx, s), [x, src])


def test_repeated_index_gradients_add_up():
    x = rand((4,))
    x[[1, 1, 1, 3]].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 3.0, 0.0, 1.0])
    w = rand((3, 2))
    F.embedding(ag.tensor([[0, 0], [2, 0]]), w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]])


def test_embedding_padding_row_gets_no_gradient():
    w = rand((3, 2))
    out = F.embedding(ag.tensor([1, 1, 0]), w, padding_idx=1)
    np.testing.assert_allclose(out.numpy(), w.numpy()[[1, 1, 0]])
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])


def test_one_hot(torch):
    labels = np.array([[0, 3], [2, 2]])
    out = F.one_hot(ag.tensor(labels))
    assert out.dtype == np.int64 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.one_hot(torch.tensor(labels)))
    np.testing.assert_array_equal(F.one_hot(ag.tensor([1]), num_classes=3).numpy(), [[0, 1, 0]])


def test_index_with_ndarray_and_tensor_mask_agree():
    x = rand((3, 4))
    np.testing.assert_array_equal(x[MASK].numpy(), x[ag.tensor(MASK)].numpy())
    np.testing.assert_array_equal(x[x > 0].numpy(), x.numpy()[x.numpy() > 0])


ERRORS = [
    (lambda x: x[3], ag.OpIndexError, "index 3 is out of bounds for dim 0 with size 3"),
    (lambda x: x[0, -5], ag.OpIndexError, "index -5 is out of bounds for dim 1 with size 4"),
    (lambda x: x[:, [0, 4]], ag.OpIndexError, "__getitem__: index 4 is out of bounds for dim 1"),
    (lambda x: x[ag.tensor([[7]])], ag.OpIndexError, "index 7 .* shape \\(3, 4\\)"),
    (lambda x: x[0, 0, 0], ag.OpIndexError, "too many indices \\(3\\) for a tensor of shape"),
    (lambda x: x[..., ...], ag.OpIndexError, "only one ellipsis"),
    (lambda x: x[::-1], ag.OpIndexError, "slice step must be positive, got -1"),
    (lambda x: x[::0], ag.OpIndexError, "slice step must be positive"),
    (lambda x: x[ROWS[:2]], ag.ShapeError, "mask of shape \\(2,\\) does not match .* \\(3,\\)"),
    (lambda x: x[MASK.T], ag.ShapeError, "bool mask of shape \\(4, 3\\)"),
    (lambda x: x[:, MASK], ag.OpIndexError, "too many indices"),
    (lambda x: x[ag.tensor([0.5])], ag.DTypeError, "integer or bool"),
    (lambda x: x[1.0], ag.DTypeError, "unsupported index of type float"),
    (lambda x: x[True], ag.OpIndexError, "bare bool"),
    (lambda x: x.gather(1, ag.tensor([[4]])), ag.OpIndexError, "gather: index 4 is out of bounds"),
    (lambda x: x.gather(1, ag.tensor([[-1]])), ag.OpIndexError, "gather: index -1"),
    (lambda x: x.gather(1, ag.tensor([0])), ag.ShapeError, "gather: index has 1 dims"),
    (lambda x: x.gather(1, ag.tensor([[0]] * 4)), ag.ShapeError, "larger than the tensor's"),
    (lambda x: x.gather(0, ag.tensor([[0.0]])), ag.DTypeError, "gather: index must be an integer"),
    (lambda x: x.gather(2, ag.tensor([[0]])), ag.OpIndexError, "gather: dim 2 is out of range"),
    (lambda x: x.scatter_add(0, ag.tensor([[0, 0]]), x[:1, :1]), ag.ShapeError, "must not exceed"),
    (lambda x: x.index_select(0, ag.tensor([3])), ag.OpIndexError, "index_select: index 3"),
    (lambda x: x.index_select(0, ag.tensor([[0]])), ag.ShapeError, "0-d or 1-d"),
    (lambda x: x.index_add(0, ag.tensor([0]), x), ag.ShapeError, "index_add: source shape"),
    (lambda x: x.masked_fill(ag.tensor([True, False]), 0.0), ag.ShapeError, "does not broadcast"),
    (lambda x: x.masked_fill(ag.ones(3, 4), 0.0), ag.DTypeError, "mask must be a bool"),
    (lambda x: x.masked_fill(ag.tensor([[[True]]]), 0.0), ag.ShapeError, "would grow"),
    (lambda x: x.masked_select(ag.tensor([True, False])), ag.ShapeError, "masked_select"),
    (lambda x: x.take_along_dim(ag.tensor([[9]]), 1), ag.OpIndexError, "take_along_dim: index 9"),
    (lambda x: x.take_along_dim(ag.tensor([[0]] * 2), 1), ag.ShapeError, "do not broadcast"),
    (lambda x: x[0].tril(), ag.ShapeError, "tril: expected a tensor with at least 2 dims"),
    (lambda x: x.diagonal(0, 1, -1), ag.ShapeError, "dim1 and dim2 must differ"),
    (lambda x: x[0, 0].diag_embed(), ag.ShapeError, "diag_embed"),
    (lambda x: x[None].diag(), ag.ShapeError, "diag: expected a 1-D or 2-D"),
    (lambda x: x[0].trace(), ag.ShapeError, "trace: expected a 2-D"),
    (lambda x: F.one_hot(ag.tensor([0, 3]), 3), ag.OpIndexError, "class value 3"),
    (lambda x: F.one_hot(x), ag.DTypeError, "one_hot: expected an integer"),
    (lambda x: F.embedding(ag.tensor([3]), x), ag.OpIndexError, "embedding: index 3"),
    (lambda x: F.embedding(ag.tensor([0]), x[0]), ag.ShapeError, "weight must be 2-D"),
    (lambda x: F.embedding(x, x), ag.DTypeError, "integer tensor"),
]


@pytest.mark.parametrize("fn,err,match", ERRORS)
def test_clear_errors(fn, err, match):
    x = rand((3, 4))
    with pytest.raises(err, match=match):
        fn(x)
