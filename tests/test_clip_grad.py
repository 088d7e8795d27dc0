"""Gradient clipping and parameter <-> vector helpers, against torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.errors import ShapeError
from autograd_nn.nn import utils

SHAPES = [(4, 3), (5,), (2, 2, 2)]


def _pair(torch, dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        p = ag.tensor(np.zeros(shape, dtype), requires_grad=True)
        t = torch.zeros(shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        if i != 1:  # one parameter without a gradient
            g = (rng.standard_normal(shape) * scale).astype(dtype)
            p.grad = ag.as_tensor(g.copy())
            t.grad = torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipping, and a norm already under the limit
def test_clip_grad_norm_matches_torch(torch, dtype, rtol, norm_type, max_norm):
    ours, theirs = _pair(torch, dtype)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, ag.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.numpy(), ttotal.numpy(), rtol=rtol)
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == dtype
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-7)


def test_clip_grad_norm_result_has_the_requested_norm():
    p = ag.tensor(np.zeros(4, np.float32), requires_grad=True)
    p.grad = ag.as_tensor(np.array([3.0, 4.0, 0.0, 0.0], np.float32))
    total = utils.clip_grad_norm_(p, max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1.0, rel=1e-5)
    p.grad = ag.as_tensor(np.array([0.3, 0.4, 0.0, 0.0], np.float32))
    before = p.grad.numpy().copy()
    utils.clip_grad_norm_([p], max_norm=1.0)
    np.testing.assert_array_equal(p.grad.numpy(), before)  # under the limit: untouched


def test_clip_grad_norm_nonfinite(torch):
    p = ag.tensor(np.zeros(3, np.float32), requires_grad=True)
    p.grad = ag.as_tensor(np.array([1.0, np.inf, 2.0], np.float32))
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_([p], 1.0)
    t = torch.zeros(3, requires_grad=True)
    t.grad = torch.tensor([1.0, math.inf, 2.0])
    ttotal = torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert math.isinf(float(total)) and math.isinf(float(ttotal))
    np.testing.assert_array_equal(np.isnan(p.grad.numpy()), np.isnan(t.grad.numpy()))


def test_clip_grad_norm_without_grads_and_generators():
    params = [ag.tensor(np.ones(2, np.float32), requires_grad=True) for _ in range(2)]
    assert float(utils.clip_grad_norm_(params, 1.0)) == 0.0
    params[0].grad = ag.as_tensor(np.full(2, 10.0, np.float32))
    total = utils.clip_grad_norm_((p for p in params), 1.0)  # a generator works (consumed once)
    assert float(total) == pytest.approx(math.sqrt(200.0))
    assert np.linalg.norm(params[0].grad.numpy()) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("clip", [0.1, 0.7])
def test_clip_grad_value_matches_torch(torch, clip):
    ours, theirs = _pair(torch, np.float32, scale=2.0)
    assert utils.clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(theirs, clip)
    for p, t in zip(ours, theirs):
        if t.grad is not None:
            assert p.grad.dtype == np.float32
            np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
            assert np.abs(p.grad.numpy()).max() <= np.float32(clip)


def test_parameters_to_vector_and_back(torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    params = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    vec = utils.parameters_to_vector(params)
    tvec = torch.nn.utils.parameters_to_vector([torch.from_numpy(a) for a in arrays])
    assert vec.shape == (sum(a.size for a in arrays),) and vec.dtype == np.float32
    np.testing.assert_array_equal(vec.numpy(), tvec.numpy())
    (vec * ag.as_tensor(np.arange(vec.shape[0], dtype=np.float32))).sum().backward()  # differentiable
    np.testing.assert_array_equal(params[1].grad.numpy(), np.arange(12, 17, dtype=np.float32))

    kept = [p.numpy() for p in params]
    utils.vector_to_parameters(ag.as_tensor(np.arange(vec.shape[0], dtype=np.float32)), params)
    assert all(p.numpy() is k for p, k in zip(params, kept))  # updated in place
    np.testing.assert_array_equal(params[2].numpy().ravel(), np.arange(17, 25, dtype=np.float32))
    with pytest.raises(ShapeError, match="has 3 elements"):
        utils.vector_to_parameters(ag.as_tensor(np.zeros(3, np.float32)), params)
    with pytest.raises(TypeError, match="expected a Tensor"):
        utils.vector_to_parameters(np.zeros(25), params)
