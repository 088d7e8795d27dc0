"""F.* pooling and interpolate: gradcheck, second order, PyTorch parity (values, indices, grads)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_torch_parity, rand

import autograd_nn as ag
import autograd_nn.functional as F

MAX2D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": 2, "padding": (1, 0), "ceil_mode": True},
    {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 2},
    {"kernel_size": 2, "stride": 3, "ceil_mode": True},
]
AVG2D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "ceil_mode": True},
    {"kernel_size": 3, "divisor_override": 4},
]
POOL1D = [
    ("max_pool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("max_pool1d", {"kernel_size": 2, "dilation": 3}),
    ("avg_pool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool1d", {"kernel_size": 4, "ceil_mode": True}),
    ("adaptive_avg_pool1d", {"output_size": 4}),
    ("adaptive_max_pool1d", {"output_size": 3}),
]
ADAPTIVE2D = [
    ("adaptive_avg_pool2d", (3, 4)),
    ("adaptive_avg_pool2d", (1, 1)),
    ("adaptive_avg_pool2d", (None, 2)),
    ("adaptive_max_pool2d", (3, 4)),
    ("adaptive_max_pool2d", 2),
]
INTERP = [
    ((2, 2, 4, 5), {"scale_factor": 2}),
    ((2, 2, 4, 5), {"size": (7, 3)}),
    ((1, 2, 5, 4), {"scale_factor": 1.7, "mode": "bilinear"}),
    ((1, 2, 5, 4), {"size": (4, 9), "mode": "bilinear", "align_corners": True}),
    ((2, 1, 6, 6), {"size": (3, 4), "mode": "bilinear"}),
    ((2, 3, 7), {"scale_factor": 2.5, "mode": "linear"}),
    ((2, 3, 7), {"size": 4}),
]


def _distinct(shape, dtype=np.float64):
    """Values without ties (max pooling's gradient is not differentiable at a tie)."""
    x = rand(shape, dtype)
    x.numpy()[...] = np.random.default_rng(3).permutation(x.numpy().size).reshape(shape) * 0.1
    return x


@pytest.mark.parametrize("kw", MAX2D)
def test_max_pool2d_gradcheck(kw):
    x = _distinct((2, 2, 7, 8))
    assert ag.gradcheck(lambda x: F.max_pool2d(x, **kw), [x], eps=1e-4)
    assert ag.gradgradcheck(lambda x: F.max_pool2d(x, **kw), [x], eps=1e-4)


@pytest.mark.parametrize("kw", AVG2D)
def test_avg_pool2d_gradcheck(kw):
    x = rand((2, 2, 7, 8))
    assert ag.gradcheck(lambda x: F.avg_pool2d(x, **kw), [x])
    assert ag.gradgradcheck(lambda x: F.avg_pool2d(x, **kw), [x])


@pytest.mark.parametrize("name,kw", POOL1D)
def test_pool1d_gradcheck(name, kw):
    x = _distinct((2, 3, 9))
    assert ag.gradcheck(lambda x: getattr(F, name)(x, **kw), [x], eps=1e-4)


@pytest.mark.parametrize("name,size", ADAPTIVE2D)
def test_adaptive_pool2d_gradcheck(name, size):
    x = _distinct((2, 2, 7, 10))
    assert ag.gradcheck(lambda x: getattr(F, name)(x, size), [x], eps=1e-4)


@pytest.mark.parametrize("shape,kw", INTERP)
def test_interpolate_gradcheck(shape, kw):
    x = rand(shape)
    assert ag.gradcheck(lambda x: F.interpolate(x, **kw), [x])


DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", MAX2D)
def test_max_pool2d_matches_torch(torch, dtype, kw):
    x = rand((2, 3, 7, 8), dtype)
    tf = torch.nn.functional
    check_torch_parity(
        lambda x: F.max_pool2d(x, **kw), lambda x: tf.max_pool2d(x, **kw), [x], torch, **_tol(dtype)
    )
    out, idx = F.max_pool2d(x, return_indices=True, **kw)
    t_out, t_idx = tf.max_pool2d(torch.from_numpy(x.numpy()), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert out.dtype == dtype and idx.dtype == np.int64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", AVG2D)
def test_avg_pool2d_matches_torch(torch, dtype, kw):
    x = rand((2, 3, 7, 8), dtype)
    check_torch_parity(
        lambda x: F.avg_pool2d(x, **kw),
        lambda x: torch.nn.functional.avg_pool2d(x, **kw),
        [x],
        torch,
        **_tol(dtype),
    )
    assert F.avg_pool2d(x, **kw).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", POOL1D)
def test_pool1d_matches_torch(torch, dtype, name, kw):
    x = rand((2, 3, 9), dtype)
    check_torch_parity(
        lambda x: getattr(F, name)(x, **kw),
        lambda x: getattr(torch.nn.functional, name)(x, **kw),
        [x],
        torch,
        **_tol(dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,size", ADAPTIVE2D)
def test_adaptive_pool2d_matches_torch(torch, dtype, name, size):
    x = rand((2, 3, 7, 10), dtype)
    check_torch_parity(
        lambda x: getattr(F, name)(x, size),
        lambda x: getattr(torch.nn.functional, name)(x, size),
        [x],
        torch,
        **_tol(dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", INTERP)
def test_interpolate_matches_torch(torch, dtype, shape, kw):
    x = rand(shape, dtype)
    check_torch_parity(
        lambda x: F.interpolate(x, **kw),
        lambda x: torch.nn.functional.interpolate(x, **kw),
        [x],
        torch,
        **_tol(dtype),
    )
    out = F.upsample(x, **kw)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == dtype


def test_unbatched_inputs(torch):
    x = rand((3, 6, 7))
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.from_numpy(x.numpy()), 2, return_indices=True)
    np.testing.assert_allclose(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert F.avg_pool1d(rand((3, 8)), 2).shape == (3, 4)
    assert F.adaptive_avg_pool2d(x, 1).shape == (3, 1, 1)


def test_max_pool_gradient_goes_to_the_argmax_only():
    x = ag.tensor([[[[1.0, 5.0], [2.0, 3.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0.0, 1.0], [0.0, 0.0]]]])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: F.max_pool2d(rand((1, 1, 4, 4)), 3, padding=2), "half of the kernel"),
        (lambda: F.max_pool2d(rand((1, 1, 2, 2)), 3), "does not fit"),
        (lambda: F.max_pool2d(rand((1, 1, 4, 4)), 2, stride=0), "positive"),
        (lambda: F.avg_pool2d(rand((4, 4)), 2), "input"),
        (lambda: F.avg_pool2d(rand((1, 1, 4, 4)), (2, 2, 2)), "kernel_size"),
        (lambda: F.adaptive_avg_pool2d(rand((1, 1, 4, 4)), 0), "positive"),
        (lambda: F.interpolate(rand((1, 1, 4, 4)), size=3, scale_factor=2), "only one"),
        (lambda: F.interpolate(rand((1, 1, 4)), size=3, mode="bilinear"), "4-D"),
        (lambda: F.interpolate(rand((1, 1, 4, 4)), size=3, align_corners=True), "align_corners"),
        (lambda: F.interpolate(rand((1, 1, 4, 4)), size=3, mode="cubic"), "mode"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ag.ShapeError, match=match):
        call()
