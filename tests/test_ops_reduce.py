"""Reductions, scans, value-selecting ops: forward vs NumPy, gradcheck, gradgradcheck, torch parity.

One table (`OPS`) drives the generic tests: each op has an autograd_nn call, a PyTorch call, a NumPy
reference and the argument configurations it is checked on (drawn from shared shape/dim tables that
cover 0-d inputs, size-1 axes, negative dims, tuple dims and keepdim).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.errors import DTypeError, OpIndexError, ShapeError
from tests.helpers import assert_close, check_torch_parity, rand

# (shape, kwargs): several dims at once allowed
MULTI = [
    ((), {}),
    ((5,), {"dim": 0}),
    ((4, 1), {"dim": 1, "keepdim": True}),
    ((2, 3, 4), {"dim": -1}),
    ((2, 3, 4), {"dim": (0, 2)}),
    ((2, 3, 4), {"dim": (0, -1), "keepdim": True}),
    ((2, 3, 4), {}),
]
# one dim, with keepdim
SINGLE = [
    ((), {"dim": 0}),
    ((5,), {"dim": 0}),
    ((4, 1), {"dim": 1}),
    ((2, 3, 4), {"dim": -1}),
    ((2, 3, 4), {"dim": 1, "keepdim": True}),
]
# one dim, no keepdim (scans, sort, softmax)
SCAN = [
    ((), {"dim": 0}),
    ((5,), {"dim": 0}),
    ((4, 1), {"dim": 1}),
    ((2, 3, 4), {"dim": -1}),
    ((2, 3, 4), {"dim": 1}),
]
# variance needs at least two elements per reduction with the default correction
VAR = [
    ((), {"correction": 0}),
    ((5,), {"dim": 0}),
    ((4, 1), {"dim": 0, "keepdim": True}),
    ((2, 3, 4), {"dim": -1, "unbiased": False}),
    ((2, 3, 4), {"dim": (0, 2)}),
    ((2, 3, 4), {"dim": (0, -1), "keepdim": True, "correction": 2}),
    ((2, 3, 4), {}),
]
TOPK = [
    ((5,), {"k": 2, "dim": 0}),
    ((2, 3, 4), {"k": 3, "dim": -1}),
    ((2, 3, 4), {"k": 2, "dim": 1, "largest": False}),
    ((4, 1), {"k": 1, "dim": 1}),
]
KTH = [
    ((), {"k": 1, "dim": 0}),
    ((5,), {"k": 3, "dim": 0}),
    ((4, 1), {"k": 1, "dim": 1}),
    ((2, 3, 4), {"k": 2, "dim": -1}),
    ((2, 3, 4), {"k": 3, "dim": 1, "keepdim": True}),
]
SHAPES = [((), {}), ((5,), {}), ((4, 1), {}), ((2, 3, 4), {})]


def _np_axes(kw):
    """dim/keepdim as NumPy's axis/keepdims."""
    return kw.get("dim"), bool(kw.get("keepdim", False))


def _np(fn):
    """A NumPy reduction called with dim/keepdim translated to axis/keepdims."""

    def ref(a, **kw):
        axis, keep = _np_axes(kw)
        return fn(a, axis=axis, keepdims=keep)

    return ref


def _np_var(a, **kw):
    axis, keep = _np_axes(kw)
    corr = kw.get("correction", 0 if kw.get("unbiased") is False else 1)
    return np.var(a, axis=axis, keepdims=keep, ddof=corr)


def _np_norm(p):
    def ref(a, **kw):
        axis, keep = _np_axes(kw)
        mag = np.abs(a)
        if math.isinf(p):
            return np.max(mag, axis=axis, keepdims=keep)
        return np.sum(mag**p, axis=axis, keepdims=keep) ** (1.0 / p)

    return ref


def _np_select(position):
    """Sort along dim and take one position (kthvalue, median): a values-only reference."""

    def ref(a, **kw):
        a1 = a.reshape(1) if a.ndim == 0 else a
        axis = kw["dim"] % a1.ndim
        out = np.take(np.sort(a1, axis=axis), [position(a1.shape[axis], kw)], axis=axis)
        if a.ndim == 0:
            return out.reshape(())
        return out if kw.get("keepdim") else np.squeeze(out, axis)

    return ref


def _np_topk(a, k, dim, largest=True):
    s = np.sort(a, axis=dim)
    s = np.flip(s, dim) if largest else s
    return np.take(s, np.arange(k), axis=dim)


def _np_softmax(a, dim):
    e = np.exp(a - np.max(a, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _scan_np(fn):
    return lambda a, dim: fn(a.reshape(1), axis=0).reshape(()) if a.ndim == 0 else fn(a, axis=dim)


def _torch_prod(t, dim=None, keepdim=False):
    if dim is None:
        out = t.prod()
        return out.reshape((1,) * t.ndim) if keepdim else out
    for d in sorted((d % t.ndim for d in (dim if isinstance(dim, tuple) else (dim,))), reverse=True):
        t = t.prod(d, keepdim=True)
    dims = dim if isinstance(dim, tuple) else (dim,)
    return t if keepdim else t.squeeze(tuple(d % t.ndim for d in dims))


def _torch_lse(t, dim=None, keepdim=False):
    return t.logsumexp(tuple(range(t.ndim)) if dim is None and t.ndim else dim or 0, keepdim=keepdim)


def _median_np(a, dim=None, keepdim=False):
    return _np_select(lambda n, kw: (n - 1) // 2)(a, dim=dim, keepdim=keepdim)


OPS = {
    "sum": (lambda x, **k: x.sum(**k), lambda t, **k: t.sum(**k), _np(np.sum), MULTI),
    "mean": (lambda x, **k: x.mean(**k), lambda t, **k: t.mean(**k), _np(np.mean), MULTI),
    "var": (lambda x, **k: x.var(**k), lambda t, **k: t.var(**k), _np_var, VAR),
    "std": (
        lambda x, **k: x.std(**k),
        lambda t, **k: t.std(**k),
        lambda a, **k: np.sqrt(_np_var(a, **k)),
        VAR,
    ),
    "prod": (lambda x, **k: x.prod(**k), _torch_prod, _np(np.prod), MULTI),
    "amax": (lambda x, **k: x.amax(**k), lambda t, **k: t.amax(**k), _np(np.max), MULTI),
    "amin": (lambda x, **k: ag.amin(x, **k), lambda t, **k: t.amin(**k), _np(np.min), MULTI),
    "logsumexp": (
        lambda x, **k: x.logsumexp(**k),
        _torch_lse,
        _np(lambda a, **k: np.log(np.sum(np.exp(a), **k))),
        MULTI,
    ),
    "norm2": (lambda x, **k: x.norm(**k), lambda t, **k: t.norm(**k), _np_norm(2.0), MULTI),
    "norm1": (lambda x, **k: ag.norm(x, 1, **k), lambda t, **k: t.norm(1, **k), _np_norm(1.0), MULTI),
    "norm_inf": (
        lambda x, **k: x.norm(math.inf, **k),
        lambda t, **k: t.norm(math.inf, **k),
        _np_norm(math.inf),
        MULTI,
    ),
    "norm3": (lambda x, **k: x.norm(3, **k), lambda t, **k: t.norm(3, **k), _np_norm(3.0), MULTI),
    "max_all": (lambda x: x.max(), lambda t: t.max(), lambda a: np.max(a), SHAPES),
    "min_all": (lambda x: ag.min(x), lambda t: t.min(), lambda a: np.min(a), SHAPES),
    "max_dim": (lambda x, **k: x.max(**k).values, lambda t, **k: t.max(**k).values, _np(np.max), SINGLE),
    "min_dim": (lambda x, **k: ag.min(x, **k)[0], lambda t, **k: t.min(**k)[0], _np(np.min), SINGLE),
    "median_all": (
        lambda x: x.median(),
        lambda t: t.median(),
        lambda a: np.sort(a.reshape(-1))[(a.size - 1) // 2],
        SHAPES,
    ),
    "median_dim": (
        lambda x, **k: x.median(**k).values,
        lambda t, **k: t.median(**k).values,
        _median_np,
        SINGLE,
    ),
    "kthvalue": (
        lambda x, **k: x.kthvalue(**k).values,
        lambda t, **k: t.kthvalue(**k).values,
        _np_select(lambda n, kw: kw["k"] - 1),
        KTH,
    ),
    "topk": (lambda x, **k: x.topk(**k).values, lambda t, **k: t.topk(**k).values, _np_topk, TOPK),
    "sort": (lambda x, **k: x.sort(**k).values, lambda t, **k: t.sort(**k).values, _scan_np(np.sort), SCAN),
    "sort_desc": (
        lambda x, **k: ag.sort(x, descending=True, **k)[0],
        lambda t, **k: t.sort(descending=True, **k)[0],
        _scan_np(lambda a, axis: -np.sort(-a, axis=axis)),
        SCAN,
    ),
    "cumsum": (lambda x, **k: x.cumsum(**k), lambda t, **k: t.cumsum(**k), _scan_np(np.cumsum), SCAN),
    "cumprod": (lambda x, **k: ag.cumprod(x, **k), lambda t, **k: t.cumprod(**k), _scan_np(np.cumprod), SCAN),
    "softmax": (
        lambda x, **k: x.softmax(**k),
        lambda t, **k: t.softmax(**k),
        lambda a, dim: _np_softmax(a, dim if a.ndim else None),
        SCAN,
    ),
    "log_softmax": (
        lambda x, **k: ag.log_softmax(x, **k),
        lambda t, **k: t.log_softmax(**k),
        lambda a, dim: np.log(_np_softmax(a, dim if a.ndim else None)),
        SCAN,
    ),
}
CASES = [
    pytest.param(name, shape, kw, id=f"{name}-{shape}-{kw}")
    for name, (*_, configs) in OPS.items()
    for shape, kw in configs
]


@pytest.mark.parametrize("name,shape,kw", CASES)
def test_forward_matches_numpy(name, shape, kw):
    fn, _, ref, _ = OPS[name]
    x = rand(shape, requires_grad=False)
    out = fn(x, **kw)
    expected = np.asarray(ref(x.numpy().copy(), **kw))
    assert out.shape == expected.shape
    assert_close(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,shape,kw", CASES)
def test_gradcheck(name, shape, kw):
    fn = OPS[name][0]
    assert ag.gradcheck(lambda x: fn(x, **kw), [rand(shape)])


@pytest.mark.parametrize("name,shape,kw", CASES)
def test_gradgradcheck(name, shape, kw):
    fn = OPS[name][0]
    assert ag.gradgradcheck(lambda x: fn(x, **kw), [rand(shape)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,shape,kw", CASES)
def test_torch_parity(name, shape, kw, dtype, torch):
    fn, tfn, _, _ = OPS[name]
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {}
    check_torch_parity(lambda x: fn(x, **kw), lambda t: tfn(t, **kw), [rand(shape, dtype)], torch, **tol)


@pytest.mark.parametrize("name", list(OPS))
def test_float32_stays_float32(name):
    fn, _, _, configs = OPS[name]
    shape, kw = configs[-1]
    x = rand(shape, np.float32)
    out = fn(x, **kw)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


# ---- semantics beyond the table --------------------------------------------------------------------
def test_numpy_aliases_axis_keepdims():
    x = rand((2, 3, 4))
    assert_close(x.sum(axis=(0, 2), keepdims=True), x.numpy().sum(axis=(0, 2), keepdims=True))
    assert_close(ag.mean(x, axis=-1), x.numpy().mean(axis=-1))
    assert_close(x.std(axis=1, ddof=0), x.numpy().std(axis=1))
    assert x.max(axis=1, keepdims=True).values.shape == (2, 1, 4)
    with pytest.raises(TypeError, match="sum: give dim or axis"):
        x.sum(dim=0, axis=0)


@pytest.mark.parametrize(
    "op",
    [
        "sum",
        "mean",
        "var",
        "amax",
        "logsumexp",
        "softmax",
        "sort",
        "cumsum",
        "argmax",
        "norm",
        "prod",
        "median",
    ],
)
def test_bad_dim_names_the_op(op):
    x = rand((2, 3))
    with pytest.raises(OpIndexError, match=f"^{op}: dim 5 is out of range"):
        getattr(x, op)(dim=5)


def test_integer_inputs():
    i = ag.tensor([[1, 2], [3, 4]], dtype=np.int32)
    assert i.sum().dtype == np.int64 and i.sum().item() == 10
    assert ag.tensor([1, 2], dtype=np.uint8).sum().dtype == np.int64
    assert ag.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert i.prod(1).tolist() == [2, 12]
    with pytest.raises(DTypeError, match="mean: input dtype must be floating point"):
        i.mean()
    assert i.mean(dtype=np.float32).dtype == np.float32
    with pytest.raises(DTypeError, match="std"):
        i.std()
    assert i.max().item() == 4 and i.argmax().item() == 3


def test_var_std_of_one_element_is_nan_without_crash():
    x = ag.tensor([3.0], dtype=np.float64, requires_grad=True)
    v = x.var()
    assert np.isnan(v.item())
    v.backward()
    assert np.isnan(x.grad.numpy()).all()
    assert np.isnan(ag.tensor([3.0]).std().item())
    assert x.var(unbiased=False).item() == 0.0
    assert x.var(False).item() == 0.0  # legacy positional `unbiased`
    assert np.isinf(ag.tensor([1.0, 2.0]).var(correction=3).item())


def test_std_gradient_is_zero_for_constant_input():
    x = ag.ones(4, dtype=np.float64, requires_grad=True)
    x.std().backward()
    assert_close(x.grad, np.zeros(4))


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0], [0.0, 0.0, 0.0, 1.0]])
def test_prod_and_cumprod_with_zeros(values, torch):
    for shape in [(4,), (2, 2)]:
        x = ag.tensor(np.array(values).reshape(shape), dtype=np.float64, requires_grad=True)
        assert ag.gradcheck(lambda t: t.prod(), [x])
        assert ag.gradgradcheck(lambda t: t.prod(), [x])
        assert ag.gradcheck(lambda t: t.cumprod(-1), [x])
        assert ag.gradgradcheck(lambda t: t.cumprod(-1), [x])
        check_torch_parity(lambda t: t.prod(-1), lambda t: t.prod(-1), [x], torch)
        check_torch_parity(lambda t: t.cumprod(-1), lambda t: t.cumprod(-1), [x], torch)


def test_max_ties_split_evenly_but_dim_max_picks_the_index():
    x = ag.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    assert_close(x.grad, [0.0, 0.5, 0.5, 0.0])
    y = ag.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    res = y.max(0)
    assert isinstance(res, ag.return_types.max) and res.indices.item() == 1
    res.values.backward()
    assert_close(y.grad, [0.0, 1.0, 0.0, 0.0])
    z = ag.tensor([[2.0, 2.0], [1.0, 2.0]], requires_grad=True)
    z.amin(dim=(0, 1)).backward()
    assert_close(z.grad, [[0.0, 0.0], [1.0, 0.0]])


def test_max_of_two_tensors_is_elementwise():
    a, b = ag.tensor([1.0, 5.0]), ag.tensor([3.0, 2.0])
    assert ag.max(a, b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]


def test_argmax_argmin():
    x = rand((2, 3, 4), requires_grad=False)
    a = x.argmax(1, keepdim=True)
    assert a.dtype == np.int64 and a.shape == (2, 1, 4) and not a.requires_grad
    np.testing.assert_array_equal(a.numpy(), x.numpy().argmax(1)[:, None])
    assert ag.argmin(x).item() == x.numpy().argmin()
    assert x.argmax(keepdim=True).shape == (1, 1, 1)
    assert ag.tensor(2.0).argmax(0).shape == ()


def test_sort_is_stable_and_descending_keeps_tie_order():
    x = ag.tensor([2.0, 1.0, 2.0, float("nan"), 1.0])
    assert x.sort().indices.tolist() == [1, 4, 0, 2, 3]
    assert x.sort(descending=True).indices.tolist() == [3, 0, 2, 1, 4]
    assert x.argsort().tolist() == [1, 4, 0, 2, 3]


def test_topk_kthvalue_errors_and_indices():
    x = ag.tensor([[4.0, 1.0, 3.0]])
    assert x.topk(2).indices.tolist() == [[0, 2]]
    assert x.topk(2, largest=False).indices.tolist() == [[1, 2]]
    assert x.kthvalue(2).indices.tolist() == [2]
    with pytest.raises(OpIndexError, match="topk: k=4"):
        x.topk(4)
    with pytest.raises(OpIndexError, match="kthvalue: k=0"):
        x.kthvalue(0)


def test_median_picks_lower_and_propagates_nan(torch):
    x = ag.tensor([[1.0, 4.0, 2.0, 3.0], [1.0, float("nan"), 0.0, 2.0]])
    res = x.median(1)
    t = torch.tensor(x.numpy()).median(1)
    assert_close(res.values, t.values)
    assert res.indices.tolist() == t.indices.tolist()
    assert ag.tensor([1.0, 4.0, 2.0, 3.0]).median().item() == 2.0


def test_reductions_of_empty_inputs():
    e = ag.zeros(0, 3)
    assert e.sum().item() == 0.0 and e.prod().item() == 1.0
    assert np.isnan(e.mean().item())
    assert e.sum(0).shape == (3,)
    with pytest.raises(ShapeError, match="max: cannot reduce a zero-size dimension"):
        e.max()
    with pytest.raises(ShapeError, match="amax"):
        e.amax(0)


def test_logical_reductions():
    x = ag.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert x.all().dtype == np.bool_ and not x.all().item()
    assert x.all(1).tolist() == [False, True] and x.any(0, keepdim=True).tolist() == [[True, True]]
    assert ag.any(ag.zeros(3)).item() is False
    c = x.count_nonzero(dim=0)
    assert c.dtype == np.int64 and c.tolist() == [2, 1]
    assert ag.count_nonzero(x).item() == 3


def test_norm_subgradient_at_zero_is_zero():
    for p in [2, 1, math.inf, 3, 0.5, "fro"]:
        x = ag.zeros(3, dtype=np.float64, requires_grad=True)
        x.norm(p).backward()
        assert np.array_equal(x.grad.numpy(), np.zeros(3)), p
    with pytest.raises(ValueError, match="norm: p='nuc'"):
        ag.ones(2, 2).norm("nuc")


def test_norm_inf_ties_and_sign():
    x = ag.tensor([1.0, -3.0, 3.0, 2.0], requires_grad=True)
    x.norm(math.inf).backward()
    assert_close(x.grad, [0.0, -0.5, 0.5, 0.0])


def test_var_mean_std_mean():
    x = rand((3, 4), requires_grad=False)
    v, m = ag.var_mean(x, 1)
    assert_close(v, x.numpy().var(1, ddof=1))
    assert_close(m, x.numpy().mean(1))
    s, m = ag.std_mean(x, axis=0, keepdims=True)
    assert s.shape == m.shape == (1, 4)
