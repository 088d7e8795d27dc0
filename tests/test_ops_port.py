"""Ops a peer framework's op test-suite found missing or different (issue 11): copysign, logaddexp,
logaddexp2, isclose / allclose / equal, meshgrid, scatter, scatter_reduce, Tensor.unfold, roll with
several shifts, integer linspace, softmax / log_softmax with `axis`, scaled_dot_product_attention
with enable_gqa, and the errors of integer pow with a negative exponent. Each against PyTorch (values
and gradients, float32 and float64) and by finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from tests.helpers import RNG, check_torch_parity, rand

DTYPES = [np.float32, np.float64]


# ---- copysign, logaddexp, logaddexp2 --------------------------------------------------------------
@pytest.mark.parametrize("name", ["copysign", "logaddexp", "logaddexp2"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,))])
def test_binary_functions_match_torch(torch, name, dtype, shapes):
    a = ag.tensor(RNG.standard_normal(shapes[0]).astype(dtype) * 3, requires_grad=True)
    b = ag.tensor(RNG.standard_normal(shapes[1]).astype(dtype) * 3, requires_grad=True)
    check_torch_parity(getattr(ag, name), getattr(torch, name), [a, b], torch)
    check_torch_parity(
        lambda x: getattr(x, name)(-1.5),
        lambda x: getattr(x, name)(torch.tensor(-1.5, dtype=x.dtype)),
        [a],
        torch,
    )


@pytest.mark.parametrize("name", ["copysign", "logaddexp", "logaddexp2"])
def test_binary_functions_special_values_match_torch(torch, name):
    inf, nan = np.inf, np.nan
    a = np.array([inf, -inf, inf, 0.0, -0.0, nan, 2.0, -3.0, 0.0, 1e300])
    b = np.array([inf, -inf, -inf, -0.0, 0.0, 1.0, nan, -0.0, 0.0, 1e300])
    got = getattr(ag, name)(ag.tensor(a), ag.tensor(b)).numpy()
    want = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_array_equal(got, want)
    real = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[real]), np.signbit(want[real]))
    ints = getattr(ag, name)(ag.tensor([1, -2]), ag.tensor([-1, 3]))
    assert ints.dtype == ag.get_default_dtype()


def test_copysign_gradient_is_pytorchs_at_zero(torch):
    a = np.array([0.0, -0.0, 2.0, -3.0])
    b = np.array([-1.0, 1.0, -0.0, 5.0])
    check_torch_parity(
        ag.copysign,
        torch.copysign,
        [ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)],
        torch,
    )


@pytest.mark.parametrize("name", ["copysign", "logaddexp", "logaddexp2"])
def test_binary_functions_gradients_of_any_order(name):
    a, b = rand((2, 3)), rand((3,))
    if name == "copysign":
        a = ag.tensor(np.where(np.abs(a.numpy()) < 0.1, 0.5, a.numpy()), requires_grad=True)
    fn = getattr(ag, name)
    assert ag.gradcheck(fn, (a, b))
    assert ag.gradgradcheck(fn, (a, b))


# ---- isclose, allclose, equal ---------------------------------------------------------------------
def test_isclose_allclose_equal_match_torch(torch):
    inf, nan = np.inf, np.nan
    a = np.array([1.0, 1.0 + 1e-6, inf, -inf, nan, nan, 0.0, 1e-9, 100.0])
    b = np.array([1.0, 1.0, inf, inf, nan, 1.0, 1e-8, 0.0, 100.001])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 1e-3}, {"atol": 1e-7}):
        for dtype in DTYPES:
            x, y = a.astype(dtype), b.astype(dtype)
            got = ag.isclose(ag.tensor(x), ag.tensor(y), **kw)
            want = torch.isclose(torch.tensor(x), torch.tensor(y), **kw)
            assert got.dtype == ag.bool_
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert ag.allclose(ag.tensor(x[:2]), ag.tensor(y[:2]), **kw) == torch.allclose(
                torch.tensor(x[:2]), torch.tensor(y[:2]), **kw
            )
    ints = ag.isclose(ag.tensor([1, 2, 5]), ag.tensor([1, 3, 5]), atol=1)
    np.testing.assert_array_equal(ints.numpy(), [True, True, True])
    assert ag.equal(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0])) is True
    assert ag.equal(ag.ones(2), ag.ones(3)) is False
    assert ag.ones(2).isclose(1.0).numpy().all()
    with pytest.raises(TypeError, match="same dtype"):
        ag.isclose(ag.tensor([1]), ag.tensor([1.0]))
    with pytest.raises(ValueError, match="rtol"):
        ag.isclose(ag.ones(2), ag.ones(2), rtol=-1.0)


# ---- meshgrid ------------------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(2, 3), (4,), (2, 3, 4), (3, 0, 2)])
def test_meshgrid_matches_torch(torch, indexing, sizes):
    ours = [ag.tensor(RNG.standard_normal(n) if n else np.array(0.5), requires_grad=True) for n in sizes]
    theirs = [torch.tensor(t.numpy(), requires_grad=True) for t in ours]
    grids = ag.meshgrid(*ours, indexing=indexing)
    tgrids = torch.meshgrid(*theirs, indexing=indexing)
    weights = [RNG.standard_normal(g.shape) for g in grids]
    for g, t in zip(grids, tgrids):
        np.testing.assert_array_equal(g.numpy(), t.detach().numpy())
    sum(((g * ag.tensor(w)).sum() for g, w in zip(grids, weights)), ag.tensor(0.0)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(tgrids, weights)).backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ag.meshgrid(ours, indexing=indexing)[0].numpy(), grids[0].numpy())


def test_meshgrid_default_indexing_warns_like_torch():
    with pytest.warns(UserWarning, match="indexing argument"):
        a, b = ag.meshgrid(ag.tensor([1, 2]), ag.tensor([3, 4, 5]))
    assert a.shape == (2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.meshgrid(ag.tensor([1, 2]), indexing="ij")
    with pytest.raises(ValueError, match="0-d or 1-d"):
        ag.meshgrid(ag.ones(2, 2), indexing="ij")


# ---- scatter, scatter_reduce -------------------------------------------------------------------
def _index(shape, dim, size, rng):
    return rng.integers(0, size, shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_matches_torch(torch, dtype, dim):
    rng = np.random.default_rng(abs(dim) + 3)
    x = ag.tensor(RNG.standard_normal((4, 5)).astype(dtype), requires_grad=True)
    # unique positions along dim: a permutation per row / column (where the last write would win)
    size = x.shape[dim]
    idx = (
        np.stack([rng.permutation(size)[:2] for _ in range(3)])
        if dim != 0
        else np.stack([rng.permutation(size)[:3] for _ in range(2)], 1)
    )
    idx_t = torch.tensor(idx)
    src = ag.tensor(RNG.standard_normal(idx.shape).astype(dtype), requires_grad=True)
    big = RNG.standard_normal((4, 6)).astype(dtype)  # src larger than index: its corner is used
    np.testing.assert_array_equal(
        x.scatter(dim, ag.tensor(idx), ag.tensor(big)).numpy(),
        torch.tensor(x.numpy()).scatter(dim, idx_t, torch.tensor(big)).numpy(),
    )
    check_torch_parity(
        lambda a, s: a.scatter(dim, ag.tensor(idx), s), lambda a, s: a.scatter(dim, idx_t, s), [x, src], torch
    )
    check_torch_parity(
        lambda a: ag.scatter(a, dim, ag.tensor(idx), value=2.5),
        lambda a: torch.scatter(a, dim, idx_t, 2.5),
        [x],
        torch,
    )
    for reduce in ("add", "multiply"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.tensor(x.numpy()).scatter(dim, idx_t, torch.tensor(src.numpy()), reduce=reduce)
        with pytest.warns(UserWarning, match="deprecated"):
            got = x.scatter(dim, ag.tensor(idx), src, reduce=reduce)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert ag.gradcheck(lambda a, s: a.scatter(dim, ag.tensor(idx), s), (rand((4, 5)), rand((4, 6))))


def test_scatter_one_hot_and_repeated_index_last_write_wins(torch):
    labels = np.array([[2], [0], [3]])
    one_hot = ag.zeros(3, 4).scatter(1, ag.tensor(labels), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4)[labels[:, 0]])
    x = ag.zeros(3)
    got = x.scatter(0, ag.tensor([1, 1, 1]), ag.tensor([1.0, 2.0, 3.0]))
    want = torch.zeros(3).scatter(0, torch.tensor([1, 1, 1]), torch.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


REDUCE = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce", REDUCE)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce_matches_torch(torch, dtype, reduce, include_self, dim):
    rng = np.random.default_rng(7 + dim)
    x = RNG.standard_normal((4, 5)).astype(dtype)
    idx = rng.integers(0, x.shape[dim], (3, 4) if dim == 0 else (4, 3))  # repeats, untouched slots
    src = RNG.standard_normal(idx.shape).astype(dtype)  # (PyTorch's backward fails for a larger src)
    if reduce in ("amax", "amin"):  # ties between src values, and with self, share the gradient
        src[0, 0] = src[1, 1] = 0.75
        x[idx[0, 0] if dim == 0 else 0, 0 if dim == 0 else idx[0, 0]] = 0.75
    idx_t = torch.tensor(idx)
    check_torch_parity(
        lambda a, s: a.scatter_reduce(dim, ag.tensor(idx), s, reduce, include_self=include_self),
        lambda a, s: a.scatter_reduce(dim, idx_t, s, reduce, include_self=include_self),
        [ag.tensor(x, requires_grad=True), ag.tensor(src, requires_grad=True)],
        torch,
    )


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_with_zeros_matches_torch(torch, include_self):
    x = np.array([[2.0, 0.0, 3.0, 1.5]])
    src = np.array([[0.0, 4.0, 5.0, 0.0, 2.0, 0.0]])
    idx = np.array([[0, 0, 1, 2, 2, 3]])  # one zero at slot 0, two zeros at slot 2, ...
    check_torch_parity(
        lambda a, s: ag.scatter_reduce(a, 1, ag.tensor(idx), s, "prod", include_self=include_self),
        lambda a, s: torch.scatter_reduce(a, 1, torch.tensor(idx), s, "prod", include_self=include_self),
        [ag.tensor(x, requires_grad=True), ag.tensor(src, requires_grad=True)],
        torch,
    )


@pytest.mark.parametrize("reduce", REDUCE)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients_of_any_order(reduce, include_self):
    idx = ag.tensor([[0, 2, 0], [1, 1, 1]])
    x = rand((2, 4), low=0.5, high=1.5)
    src = rand((2, 3), low=-1.5, high=-0.5)  # no ties, no zeros: the rules are smooth here
    fn = lambda a, s: a.scatter_reduce(1, idx, s, reduce, include_self=include_self)
    assert ag.gradcheck(fn, (x, src))
    assert ag.gradgradcheck(fn, (x, src))


@pytest.mark.parametrize("reduce", REDUCE)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_integers_matches_torch(torch, reduce, include_self):
    x = np.array([[5, -7, 3, 9]])
    src = np.array([[2, -3, 4, 1, 6]])
    idx = np.array([[0, 1, 1, 1, 0]])
    got = ag.tensor(x).scatter_reduce(1, ag.tensor(idx), ag.tensor(src), reduce, include_self=include_self)
    want = torch.tensor(x).scatter_reduce(
        1, torch.tensor(idx), torch.tensor(src), reduce, include_self=include_self
    )
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_scatter_errors():
    x = ag.ones(2, 3)
    with pytest.raises(ValueError, match="reduce"):
        x.scatter_reduce(1, ag.tensor([[0]]), ag.ones(1, 1), "max")
    with pytest.raises(IndexError, match="5"):
        x.scatter(1, ag.tensor([[5]]), ag.ones(1, 1))
    with pytest.raises(ValueError, match="must not be larger"):
        x.scatter(1, ag.tensor([[0, 1]]), ag.ones(1, 1))
    with pytest.raises(TypeError, match="dtype"):
        x.scatter(1, ag.tensor([[0]]), ag.ones(1, 1, dtype=ag.float64))
    with pytest.raises(TypeError, match="exactly one"):
        x.scatter(1, ag.tensor([[0]]))


# ---- unfold, roll, linspace, softmax axis ---------------------------------------------------------
@pytest.mark.parametrize(
    "shape,args",
    [
        ((2, 7), (1, 3, 2)),
        ((5, 3, 2), (0, 2, 1)),
        ((4, 6), (-1, 6, 1)),
        ((6,), (0, 1, 4)),
        ((), (0, 1, 1)),
        ((3, 4), (1, 0, 1)),
    ],
)
def test_tensor_unfold_matches_torch(torch, shape, args):
    x = ag.tensor(RNG.standard_normal(shape), requires_grad=True)
    check_torch_parity(lambda t: t.unfold(*args), lambda t: t.unfold(*args), [x], torch)
    if x.numel() and args[1]:
        assert ag.gradcheck(lambda t: t.unfold(*args), rand(shape))
        assert ag.gradgradcheck(lambda t: t.unfold(*args), rand(shape))
    with pytest.raises(ValueError, match="unfold"):
        ag.ones(2, 3).unfold(1, 4, 1)
    with pytest.raises(ValueError, match="step"):
        ag.ones(2, 3).unfold(1, 1, 0)


@pytest.mark.parametrize(
    "shifts,dims",
    [
        ((1, 2, -1), (0, 1, 0)),
        (5, -1),
        (-3, None),
        ((2, -7), (1, 2)),
        ("t0", None),
        ("t1", (0, 2)),
        ((1,), (2,)),
    ],
)
def test_roll_with_several_shifts_matches_torch(torch, shifts, dims):
    x = ag.tensor(RNG.standard_normal((3, 4, 2)), requires_grad=True)
    ours, theirs = shifts, shifts
    if shifts == "t0":
        ours, theirs = ag.tensor(2), torch.tensor(2)
    elif shifts == "t1":  # PyTorch takes a tuple here; a 1-d integer tensor works too
        ours, theirs = ag.tensor([1, -1]), (1, -1)
    check_torch_parity(lambda t: ag.roll(t, ours, dims), lambda t: torch.roll(t, theirs, dims), [x], torch)


def test_roll_errors():
    with pytest.raises(ValueError, match="shifts"):
        ag.roll(ag.ones(3, 4), (1, 2))
    with pytest.raises(ValueError, match="differ in length"):
        ag.roll(ag.ones(3, 4), (1, 2), 0)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "float32", "float64"])
def test_linspace_matches_torch(torch, dtype):
    rng = np.random.default_rng(5)
    for _ in range(300):
        a, b = (float(np.round(rng.uniform(-20, 20), int(rng.integers(0, 3)))) for _ in range(2))
        if dtype == "uint8":
            a, b = abs(a), abs(b)
        steps = int(rng.integers(0, 40))
        got = ag.linspace(a, b, steps, dtype=getattr(ag, dtype)).numpy()
        want = torch.linspace(a, b, steps, dtype=getattr(torch, dtype)).numpy()
        assert got.dtype == want.dtype and got.shape == want.shape
        if steps < 8:  # below any SIMD width PyTorch's kernel is the scalar formula reproduced
            np.testing.assert_array_equal(got, want, err_msg=f"{a} {b} {steps}")
        elif got.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=4 * np.finfo(got.dtype).eps, atol=1e-12)
        else:
            assert np.abs(got.astype(int) - want.astype(int)).max(initial=0) <= 1
    np.testing.assert_array_equal(ag.linspace(0, 10, 4, dtype=ag.int64).numpy(), [0, 3, 6, 10])
    np.testing.assert_array_equal(ag.linspace(-5.5, 7.9, 7, dtype=ag.int32).numpy(), [-5, -3, -1, 1, 3, 5, 7])


def test_softmax_and_log_softmax_take_axis_like_the_reductions(torch):
    x = ag.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    for name in ("softmax", "log_softmax"):
        for axis in (0, 1, -1):
            check_torch_parity(
                lambda t: getattr(ag, name)(t, axis=axis),
                lambda t: getattr(torch, name)(t, axis=axis),
                [x],
                torch,
            )
            check_torch_parity(
                lambda t: getattr(t, name)(axis=axis), lambda t: getattr(t, name)(axis=axis), [x], torch
            )
        with pytest.raises(TypeError, match="dim"):
            getattr(x, name)(1, axis=1)


# ---- scaled_dot_product_attention -------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kw",
    [
        dict(enable_gqa=True),
        dict(enable_gqa=True, is_causal=True),
        dict(enable_gqa=True, scale=0.2),
        dict(enable_gqa=True, mask="bool"),
        dict(enable_gqa=True, mask="float"),
        dict(is_causal=True),
    ],
)
def test_sdpa_grouped_query_attention_matches_torch(torch, dtype, kw):
    kw = dict(kw)
    q = ag.tensor(RNG.standard_normal((2, 6, 3, 8)).astype(dtype), requires_grad=True)
    k = ag.tensor(RNG.standard_normal((2, 2, 5, 8)).astype(dtype), requires_grad=True)
    v = ag.tensor(RNG.standard_normal((2, 2, 5, 4)).astype(dtype), requires_grad=True)
    if not kw.get("enable_gqa"):
        k, v = (ag.tensor(np.repeat(t.numpy(), 3, axis=1), requires_grad=True) for t in (k, v))
    mask = kw.pop("mask", None)
    mine, theirs = dict(kw), dict(kw)
    if mask == "bool":
        keep = RNG.random((3, 5)) > 0.4
        keep[:, 0] = True
        mine["attn_mask"], theirs["attn_mask"] = ag.tensor(keep), torch.tensor(keep)
    elif mask == "float":
        add = RNG.standard_normal((6, 3, 5)).astype(dtype)
        mine["attn_mask"], theirs["attn_mask"] = ag.tensor(add), torch.tensor(add)
    check_torch_parity(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **mine),
        lambda a, b, c: torch.nn.functional.scaled_dot_product_attention(a, b, c, **theirs),
        [q, k, v],
        torch,
    )


def test_sdpa_gqa_gradients_and_errors():
    q, k, v = rand((1, 4, 2, 3)), rand((1, 2, 3, 3)), rand((1, 2, 3, 2))
    fn = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True, is_causal=True)
    assert ag.gradcheck(fn, (q, k, v))
    assert ag.gradgradcheck(fn, (q, k, v))
    with pytest.raises(ValueError, match="multiple"):
        F.scaled_dot_product_attention(rand((1, 3, 2, 3)), k, v, enable_gqa=True)


def test_sdpa_dropout_keeps_the_expectation():
    ag.manual_seed(4)
    q = ag.tensor(RNG.standard_normal((1, 2, 64, 8)))
    k = ag.tensor(RNG.standard_normal((1, 2, 64, 8)))
    v = ag.ones(1, 2, 64, 1, dtype=ag.float64)
    outs = [F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).numpy() for _ in range(20)]
    assert abs(np.mean(outs) - 1.0) < 0.02
    assert np.std(outs) > 0.05


# ---- integer pow ---------------------------------------------------------------------------------
def test_integer_pow_with_negative_exponent_matches_torch(torch):
    t, tt = ag.tensor([2, 3, -1, 1]), torch.tensor([2, 3, -1, 1])
    for call in (
        lambda a: a**-1,
        lambda a: a.pow(-2),
        lambda a: (ag if isinstance(a, ag.Tensor) else torch).pow(a, -3),
    ):
        with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
            call(tt)
        with pytest.raises(TypeError, match="Integers to negative integer powers"):
            call(t)
    with pytest.raises(TypeError, match="negative integer powers"):
        ag.tensor([True]) ** -1
    exps, texps = ag.tensor([-1, -2, -3, 2]), torch.tensor([-1, -2, -3, 2])
    for got, want in (
        (t**exps, tt**texps),
        (2**t, 2**tt),
        (ag.pow(2, -t), torch.pow(2, -tt)),
        (t**-1.0, tt**-1.0),
        ((-2) ** t, (-2) ** tt),
        (t ** ag.tensor(-1), tt ** torch.tensor(-1)),
    ):
        assert got.dtype == want.numpy().dtype
        np.testing.assert_allclose(got.numpy(), want.numpy())
