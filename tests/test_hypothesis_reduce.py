"""Property tests over random shapes and dims: reductions agree with NumPy and with their gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_nn as ag
from tests.helpers import assert_close

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def arrays_and_dims(draw, min_side=1, min_dims=0):
    """A float64 array of `min_dims` to 3 dims, a subset of its dims (possibly negative) and keepdim."""
    shape = tuple(draw(st.lists(st.integers(min_side, 4), min_size=min_dims, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)
    ndim = len(shape)
    picked = draw(st.lists(st.integers(0, max(ndim - 1, 0)), unique=True, max_size=ndim))
    dims = tuple(d - ndim if draw(st.booleans()) else d for d in picked)
    return data, (dims if dims else None), draw(st.booleans())


@st.composite
def arrays_and_dim(draw):
    """A float64 array with at least one dim, and one dim of it (possibly negative)."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)
    return data, draw(st.integers(-len(shape), len(shape) - 1))


@SETTINGS
@given(arrays_and_dims())
def test_sum_mean_amax_match_numpy(case):
    data, dims, keep = case
    x = ag.tensor(data)
    axis = None if dims is None else tuple(d % data.ndim for d in dims)
    assert_close(x.sum(dims, keep), np.sum(data, axis=axis, keepdims=keep))
    assert_close(x.mean(dims, keep), np.mean(data, axis=axis, keepdims=keep))
    assert_close(x.amax(dims if dims else (), keep), np.max(data, axis=axis, keepdims=keep))
    assert_close(x.norm(2, dims, keep), np.sqrt(np.sum(data**2, axis=axis, keepdims=keep)))
    assert_close(x.prod(dims, keep), np.prod(data, axis=axis, keepdims=keep))


@SETTINGS
@given(arrays_and_dims(min_side=2, min_dims=1))  # var needs 2+ elements per reduction
def test_var_std_logsumexp_gradients(case):
    data, dims, keep = case
    for fn in (
        lambda t: t.var(dims, keepdim=keep),
        lambda t: t.std(dims, keepdim=keep),
        lambda t: t.logsumexp(dims, keep),
        lambda t: t.prod(dims, keep),
    ):
        assert ag.gradcheck(fn, [ag.tensor(data, requires_grad=True)])


@SETTINGS
@given(arrays_and_dims())
def test_sum_gradient_is_ones_and_mean_gradient_is_uniform(case):
    data, dims, keep = case
    x = ag.tensor(data, requires_grad=True)
    x.sum(dims, keep).sum().backward()
    assert_close(x.grad, np.ones(data.shape))
    y = ag.tensor(data, requires_grad=True)
    out = y.mean(dims, keep)
    out.sum().backward()
    assert_close(y.grad, np.full(data.shape, out.numel() / max(data.size, 1)))


@SETTINGS
@given(arrays_and_dim())
def test_sort_softmax_cumsum_properties(case):
    data, dim = case
    x = ag.tensor(data, requires_grad=True)
    values, indices = x.sort(dim)
    assert_close(values, np.sort(data, axis=dim))
    assert_close(np.take_along_axis(data, indices.numpy(), dim), values.numpy())
    assert np.all(np.diff(values.numpy(), axis=dim) >= 0)
    s = x.softmax(dim)
    assert_close(s.sum(dim), np.ones(np.sum(data, axis=dim).shape))
    assert_close(x.log_softmax(dim).exp(), s.numpy(), rtol=1e-12)
    assert_close(x.cumsum(dim), np.cumsum(data, axis=dim))
    assert ag.gradgradcheck(lambda t: t.softmax(dim), [x])
    # the sort gradient is a permutation of the incoming gradient
    g = np.random.default_rng(0).standard_normal(data.shape)
    (gx,) = ag.grad(values, x, grad_outputs=ag.tensor(g))
    assert_close(np.take_along_axis(gx.numpy(), indices.numpy(), dim), g)


@SETTINGS
@given(arrays_and_dim(), st.booleans())
def test_max_min_with_dim(case, keep):
    data, dim = case
    x = ag.tensor(data, requires_grad=True)
    res = x.max(dim, keep)
    assert_close(res.values, np.max(data, axis=dim, keepdims=keep))
    np.testing.assert_array_equal(res.indices.numpy(), np.argmax(data, axis=dim, keepdims=keep))
    res.values.sum().backward()
    expected = np.zeros(data.shape)
    np.put_along_axis(expected, np.argmax(data, axis=dim, keepdims=True), 1.0, dim)
    assert_close(x.grad, expected)
    assert_close(x.min(dim, keep).values, np.min(data, axis=dim, keepdims=keep))
