"""F.conv1d/conv2d/conv_transpose1d/conv_transpose2d: gradcheck, second order, PyTorch parity, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import check_torch_parity, rand

import autograd_nn as ag
import autograd_nn.functional as F

# (input shape, weight shape, kwargs) for conv2d; channels divide by groups
CONV2D = [
    ((2, 3, 5, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 4, 6, 7), (6, 2, 2, 3), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ((2, 2, 5, 5), (3, 2, 2, 2), {"padding": "same"}),
    ((2, 2, 6, 5), (2, 2, 3, 3), {"padding": "same", "dilation": 2}),
    ((2, 3, 5, 5), (6, 1, 3, 3), {"padding": 1, "groups": 3}),  # depthwise, multiplier 2
    ((1, 2, 4, 4), (2, 2, 4, 4), {"padding": "valid"}),  # kernel == input
    ((2, 2, 4, 5), (3, 2, 1, 1), {"stride": 3}),
]
CONV1D = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 4, 10), (4, 1, 3), {"stride": 2, "padding": 2, "groups": 4}),
    ((1, 2, 7), (3, 2, 4), {"padding": "same", "dilation": 2}),
]
# (input shape, weight shape (C_in, C_out / groups, k...), kwargs) for conv_transpose
CONVT2D = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    ((2, 4, 3, 4), (4, 3, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 3, 3), (4, 1, 2, 3), {"stride": (3, 2), "groups": 2, "dilation": 2, "output_padding": (2, 1)}),
    (
        (2, 2, 3, 3),
        (2, 1, 3, 3),
        {"stride": 1, "padding": 1, "groups": 2, "dilation": 2, "output_padding": 1},
    ),  # output_padding < dilation
]
CONVT1D = [
    ((2, 3, 5), (3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 4), (4, 1, 2), {"stride": 3, "groups": 2}),
]


def _bias(w_shape, transposed=False, groups=1):
    return rand((w_shape[1] * groups if transposed else w_shape[0],))


@pytest.mark.parametrize("xs,ws,kw", CONV2D)
def test_conv2d_gradcheck(xs, ws, kw):
    x, w, b = rand(xs), rand(ws), _bias(ws)
    assert ag.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("xs,ws,kw", CONV1D)
def test_conv1d_gradcheck(xs, ws, kw):
    x, w, b = rand(xs), rand(ws), _bias(ws)
    assert ag.gradcheck(lambda x, w, b: F.conv1d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("xs,ws,kw", CONVT2D + CONVT1D)
def test_conv_transpose_gradcheck(xs, ws, kw):
    x, w = rand(xs), rand(ws)
    b = _bias(ws, True, kw.get("groups", 1))
    fn = F.conv_transpose2d if len(xs) == 4 else F.conv_transpose1d
    assert ag.gradcheck(lambda x, w, b: fn(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("case", [CONV2D[1], CONV2D[2], CONV2D[5]])
def test_conv2d_second_order(case):
    xs, ws, kw = case
    x, w, b = rand(xs), rand(ws), _bias(ws)
    assert ag.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


def test_conv_transpose2d_second_order():
    xs, ws, kw = CONVT2D[1]
    x, w = rand(xs), rand(ws)
    assert ag.gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, **kw), [x, w])


def test_only_needed_gradients_are_computed():
    x, w = rand((1, 2, 4, 4)), rand((3, 2, 3, 3), requires_grad=False)
    y = F.conv2d(x, w)
    assert y.grad_fn.needs_input_grad[:2] == (True, False)  # the weight gradient is not needed
    y.sum().backward()
    assert x.grad is not None and w.grad is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV2D + CONV1D)
def test_conv_matches_torch(torch, dtype, case):
    xs, ws, kw = case
    x, w, b = rand(xs, dtype), rand(ws, dtype), rand((ws[0],), dtype)
    ours, theirs = (
        (F.conv2d, torch.nn.functional.conv2d) if len(xs) == 4 else (F.conv1d, torch.nn.functional.conv1d)
    )
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: 'same' with an even kernel
        check_torch_parity(
            lambda x, w, b: ours(x, w, b, **kw),
            lambda x, w, b: theirs(x, w, b, **kw),
            [x, w, b],
            torch,
            **tol,
        )
    out = ours(x, w, b, **kw)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONVT2D + CONVT1D)
def test_conv_transpose_matches_torch(torch, dtype, case):
    xs, ws, kw = case
    x, w = rand(xs, dtype), rand(ws, dtype)
    b = rand((ws[1] * kw.get("groups", 1),), dtype)
    ours, theirs = (
        (F.conv_transpose2d, torch.nn.functional.conv_transpose2d)
        if len(xs) == 4
        else (F.conv_transpose1d, torch.nn.functional.conv_transpose1d)
    )
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {}
    check_torch_parity(
        lambda x, w, b: ours(x, w, b, **kw), lambda x, w, b: theirs(x, w, b, **kw), [x, w, b], torch, **tol
    )
    assert ours(x, w, b, **kw).dtype == dtype


def test_unbatched_input_matches_batched():
    x, w = rand((3, 6, 5)), rand((2, 3, 3, 3))
    single = F.conv2d(x, w, padding=1)
    batched = F.conv2d(x.reshape(1, 3, 6, 5), w, padding=1)
    assert single.shape == (2, 6, 5)
    np.testing.assert_allclose(single.numpy(), batched.numpy()[0])
    assert F.conv1d(rand((3, 8)), rand((4, 3, 2))).shape == (4, 7)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: F.conv2d(rand((1, 3, 5, 5)), rand((4, 2, 3, 3))), "3 channels"),
        (lambda: F.conv2d(rand((1, 4, 5, 5)), rand((3, 2, 3, 3)), groups=2), "groups=2"),
        (lambda: F.conv2d(rand((1, 3, 5, 5)), rand((3, 1, 3, 3)), groups=2), "groups=2"),
        (lambda: F.conv2d(rand((1, 2, 2, 5)), rand((3, 2, 3, 3))), "larger than the padded input"),
        (lambda: F.conv2d(rand((1, 2, 5, 5)), rand((3, 2, 3, 3)), stride=2, padding="same"), "stride 1"),
        (lambda: F.conv2d(rand((2, 5, 5)), rand((3, 2, 3))), "weight must have 4"),
        (lambda: F.conv2d(rand((5, 5)), rand((3, 1, 3, 3))), "input"),
        (lambda: F.conv2d(rand((1, 2, 5, 5)), rand((3, 2, 3, 3)), rand((4,))), "bias"),
        (lambda: F.conv2d(rand((1, 2, 5, 5)), rand((3, 2, 3, 3)), padding=-1), "non-negative"),
        (lambda: F.conv2d(rand((1, 2, 5, 5)), rand((3, 2, 3, 3)), stride=(1, 2, 3)), "stride"),
        (lambda: F.conv_transpose2d(rand((1, 2, 3, 3)), rand((3, 2, 3, 3))), "2 channels"),
        (
            lambda: F.conv_transpose2d(rand((1, 2, 3, 3)), rand((2, 2, 3, 3)), stride=2, output_padding=2),
            "output_padding",
        ),
        (lambda: F.conv_transpose2d(rand((1, 2, 1, 1)), rand((2, 2, 3, 3)), padding=2), "not positive"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ag.ShapeError, match=match):
        call()


def test_dtype_mismatch_raises():
    with pytest.raises(ag.DTypeError, match="conv2d.*float32.*float64"):
        F.conv2d(rand((1, 2, 5, 5), np.float32), rand((3, 2, 3, 3), np.float64))


@pytest.mark.parametrize("case", [CONV2D[2], CONV2D[5], CONV1D[1]])
def test_streaming_in_blocks_matches_one_pass(monkeypatch, case):
    """The batch is streamed a block of images at a time; one image per block gives the same."""
    from autograd_nn.ops import conv as conv_ops

    xs, ws, kw = case
    xs = (5,) + xs[1:]
    fn = F.conv2d if len(xs) == 4 else F.conv1d

    def run():
        x, w, b = (ag.tensor(t.numpy().copy(), requires_grad=True) for t in data)
        y = fn(x, w, b, **kw)
        (y * y).sum().backward()
        groups = kw.get("groups", 1)
        t = (F.conv_transpose2d if len(xs) == 4 else F.conv_transpose1d)(y, w, groups=groups)
        return [y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy(), t.numpy()]

    data = [rand(xs), rand(ws), _bias(ws)]
    whole = run()
    monkeypatch.setattr(conv_ops, "BLOCK", 1)
    for a, b in zip(run(), whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
