"""Layers that ported PyTorch programs reached for: 3-D convolution and pooling, max unpooling,
Fold / Unfold, PixelShuffle, the padding layers (negative widths too), InstanceNorm3d and integer max
pooling. Each against PyTorch (values, input and parameter gradients, float32 and float64) and by
finite differences (first and second order)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn
from tests.helpers import RNG, check_torch_parity, rand
from tests.test_nn_layers import check_module_parity

DTYPES = [np.float64, np.float32]


# ---- 3-D convolutions --------------------------------------------------------------------------
CONV3D = [
    (
        (2, 4, 5, 6, 7),
        dict(
            in_channels=4,
            out_channels=6,
            kernel_size=(3, 2, 3),
            stride=(2, 1, 2),
            padding=(1, 0, 1),
            dilation=(1, 2, 1),
            groups=2,
        ),
    ),
    ((1, 3, 4, 4, 4), dict(in_channels=3, out_channels=2, kernel_size=2, padding="same")),
    ((3, 4, 4, 5), dict(in_channels=3, out_channels=2, kernel_size=3, padding=1, bias=False)),
    (
        (2, 2, 5, 4, 4),
        dict(in_channels=2, out_channels=4, kernel_size=(3, 1, 1), stride=2, dilation=(2, 1, 1)),
    ),
    (
        (1, 2, 4, 5, 5),
        dict(in_channels=2, out_channels=3, kernel_size=3, padding=(1, 2, 1), padding_mode="reflect"),
    ),
    (
        (1, 2, 4, 4, 4),
        dict(in_channels=2, out_channels=2, kernel_size=3, padding="same", padding_mode="circular"),
    ),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kwargs", CONV3D)
def test_conv3d_matches_torch(torch, dtype, shape, kwargs):
    check_module_parity(
        nn.Conv3d(**kwargs), torch.nn.Conv3d(**kwargs), RNG.standard_normal(shape), torch, dtype
    )


CONV_T3D = [
    (
        (2, 4, 3, 4, 5),
        dict(
            in_channels=4,
            out_channels=6,
            kernel_size=(3, 2, 3),
            stride=(2, 1, 2),
            padding=(1, 0, 1),
            dilation=(1, 2, 1),
            groups=2,
            output_padding=(1, 0, 1),
        ),
    ),
    ((1, 3, 2, 2, 2), dict(in_channels=3, out_channels=2, kernel_size=2)),
    (
        (3, 3, 3, 3),
        dict(in_channels=3, out_channels=1, kernel_size=3, stride=3, padding=2, output_padding=2, bias=False),
    ),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kwargs", CONV_T3D)
def test_conv_transpose3d_matches_torch(torch, dtype, shape, kwargs):
    check_module_parity(
        nn.ConvTranspose3d(**kwargs),
        torch.nn.ConvTranspose3d(**kwargs),
        RNG.standard_normal(shape),
        torch,
        dtype,
    )


def test_conv_transpose3d_output_size_argument(torch):
    ours = nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1)
    x = RNG.standard_normal((1, 2, 3, 3, 3)).astype(np.float32)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    y = ours(ag.tensor(x), output_size=(6, 6, 6))
    yt = theirs(torch.tensor(x), output_size=(6, 6, 6))
    assert y.shape == (1, 3, 6, 6, 6)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), 2e-5, 2e-6)


def test_conv3d_gradients_of_any_order():
    x, w, b = rand((1, 2, 3, 4, 3)), rand((2, 1, 2, 2, 2)), rand((2,))
    conv = lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2)
    assert ag.gradcheck(conv, (x, w, b))
    assert ag.gradgradcheck(conv, (x, w, b))
    wt = rand((2, 1, 2, 2, 2))
    convt = lambda x, w: F.conv_transpose3d(x, w, stride=2, padding=1, output_padding=1, groups=2)
    assert ag.gradcheck(convt, (rand((1, 2, 2, 3, 2)), wt))
    assert ag.gradgradcheck(convt, (rand((1, 2, 2, 2, 2)), wt))


# ---- 3-D pooling and unpooling -----------------------------------------------------------------
POOL3D = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 0)),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3, 2), stride=1, dilation=(2, 1, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", POOL3D)
def test_max_pool3d_matches_torch_with_indices(torch, dtype, kwargs):
    x = RNG.standard_normal((2, 3, 5, 6, 7)).astype(dtype)
    x[0, 0, 0, 0, :3] = x[0, 0, 0, 0, 0]  # ties: the first in (d, h, w) order wins
    check_torch_parity(
        lambda t: F.max_pool3d(t, **kwargs),
        lambda t: torch.nn.functional.max_pool3d(t, **kwargs),
        [ag.tensor(x, requires_grad=True)],
        torch,
    )
    _, idx = nn.MaxPool3d(return_indices=True, **kwargs)(ag.tensor(x))
    _, tidx = torch.nn.MaxPool3d(return_indices=True, **kwargs)(torch.tensor(x))
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [k for k in POOL3D if "dilation" not in k])
@pytest.mark.parametrize("count_include_pad,divisor_override", [(True, None), (False, None), (True, 5)])
def test_avg_pool3d_matches_torch(torch, dtype, kwargs, count_include_pad, divisor_override):
    x = RNG.standard_normal((2, 3, 5, 6, 7)).astype(dtype)
    opts = dict(kwargs, count_include_pad=count_include_pad, divisor_override=divisor_override)
    check_torch_parity(
        lambda t: nn.AvgPool3d(**opts)(t),
        lambda t: torch.nn.AvgPool3d(**opts)(t),
        [ag.tensor(x, requires_grad=True)],
        torch,
    )


@pytest.mark.parametrize("output_size", [(2, 3, 4), (5, 6, 7), (3, None, 2), 1])
def test_adaptive_pool3d_matches_torch(torch, output_size):
    x = ag.tensor(RNG.standard_normal((2, 3, 5, 6, 7)), requires_grad=True)
    check_torch_parity(
        lambda t: nn.AdaptiveAvgPool3d(output_size)(t),
        lambda t: torch.nn.AdaptiveAvgPool3d(output_size)(t),
        [x],
        torch,
    )
    check_torch_parity(
        lambda t: nn.AdaptiveMaxPool3d(output_size)(t),
        lambda t: torch.nn.AdaptiveMaxPool3d(output_size)(t),
        [x],
        torch,
    )
    _, idx = F.adaptive_max_pool3d(x, output_size, return_indices=True)
    _, tidx = torch.nn.functional.adaptive_max_pool3d(
        torch.tensor(x.numpy()), output_size, return_indices=True
    )
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_pool3d_gradients_of_any_order():
    x = rand((1, 2, 4, 3, 4))
    for fn in (
        lambda t: F.max_pool3d(t, 2, stride=1, padding=1),
        lambda t: F.avg_pool3d(t, (2, 1, 3), stride=(1, 1, 2), padding=(1, 0, 1), count_include_pad=False),
        lambda t: F.adaptive_avg_pool3d(t, (3, 2, 3)),
        lambda t: F.adaptive_max_pool3d(t, 2),
    ):
        assert ag.gradcheck(fn, x)
        assert ag.gradgradcheck(fn, x)


@pytest.mark.parametrize(
    "dims,shape,kwargs",
    [
        (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
        (2, (2, 3, 6, 7), dict(kernel_size=2)),
        (2, (1, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1)),
        (3, (1, 2, 4, 5, 6), dict(kernel_size=2, stride=(1, 2, 2))),
        (2, (3, 6, 6), dict(kernel_size=2)),  # unbatched
    ],
)
def test_max_unpool_matches_torch(torch, dims, shape, kwargs):
    x = RNG.standard_normal(shape)
    pool = getattr(nn, f"MaxPool{dims}d")(return_indices=True, **kwargs)
    pooled, idx = pool(ag.tensor(x))
    unpool = getattr(nn, f"MaxUnpool{dims}d")(**kwargs)
    tunpool = getattr(torch.nn, f"MaxUnpool{dims}d")(**kwargs)
    tidx = torch.from_numpy(idx.numpy())
    for size in (None, shape[-dims:]):
        try:
            tunpool(torch.tensor(pooled.numpy()), tidx, output_size=size)
        except RuntimeError:  # the default size is smaller than the pooled input's (odd widths)
            with pytest.raises(IndexError, match="invalid max index"):
                unpool(pooled, idx, output_size=size)
            continue
        check_torch_parity(
            lambda t: unpool(t, idx, output_size=size),
            lambda t: tunpool(t, tidx, output_size=size),
            [ag.tensor(pooled.numpy(), requires_grad=True)],
            torch,
        )
    y = unpool(pooled, idx, output_size=shape)
    assert y.shape == shape
    planes = idx.numpy().reshape(-1, int(np.prod(idx.shape[-dims:])))
    if all(len(np.unique(p)) == p.size for p in planes):  # with repeats, PyTorch's gradient is
        xg = ag.tensor(pooled.numpy(), requires_grad=True)  # a gather, not the true derivative
        assert ag.gradcheck(lambda t: unpool(t, idx, output_size=shape), xg)
        assert ag.gradgradcheck(lambda t: unpool(t, idx, output_size=shape), xg)


# ---- fold / unfold, pixel shuffle ----------------------------------------------------------------
FOLD = [
    dict(kernel_size=2),
    dict(kernel_size=(2, 3), padding=1, stride=(2, 1), dilation=(1, 2)),
    dict(kernel_size=3, stride=2, padding=1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", FOLD)
def test_unfold_and_fold_match_torch(torch, dtype, kwargs):
    x = ag.tensor(RNG.standard_normal((2, 3, 5, 6)).astype(dtype), requires_grad=True)
    check_torch_parity(lambda t: nn.Unfold(**kwargs)(t), lambda t: torch.nn.Unfold(**kwargs)(t), [x], torch)
    cols = F.unfold(x, **kwargs).detach()
    check_torch_parity(
        lambda t: nn.Fold((5, 6), **kwargs)(t),
        lambda t: torch.nn.Fold((5, 6), **kwargs)(t),
        [ag.tensor(cols.numpy(), requires_grad=True)],
        torch,
    )
    unbatched = F.unfold(x[0], **kwargs)
    np.testing.assert_array_equal(unbatched.numpy(), cols.numpy()[0])
    assert F.fold(cols[0], (5, 6), **kwargs).shape == (3, 5, 6)


def test_fold_unfold_gradients_of_any_order():
    x = rand((1, 2, 4, 5))
    assert ag.gradcheck(lambda t: F.unfold(t, (2, 3), padding=1, stride=(1, 2)), x)
    assert ag.gradgradcheck(lambda t: F.unfold(t, (2, 3), padding=1, stride=(1, 2)), x)
    cols = rand((1, 8, 12))  # (4 + 2 - 2) // 2 + 1 = 3 blocks down, 4 across
    assert ag.gradcheck(lambda t: F.fold(t, (4, 5), 2, stride=(2, 1), padding=(1, 0)), cols)
    assert ag.gradgradcheck(lambda t: F.fold(t, (4, 5), 2, stride=(2, 1), padding=(1, 0)), cols)


@pytest.mark.parametrize(
    "shape,r", [((2, 8, 3, 4), 2), ((18, 2, 2), 3), ((2, 1, 4, 3, 2), 1), ((1, 2, 9, 2, 2), 3)]
)
def test_pixel_shuffle_matches_torch(torch, shape, r):
    x = ag.tensor(RNG.standard_normal(shape), requires_grad=True)
    check_torch_parity(lambda t: nn.PixelShuffle(r)(t), lambda t: torch.nn.PixelShuffle(r)(t), [x], torch)
    y = F.pixel_shuffle(x, r).detach().requires_grad_()
    check_torch_parity(lambda t: nn.PixelUnshuffle(r)(t), lambda t: torch.nn.PixelUnshuffle(r)(t), [y], torch)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, r), r).numpy(), x.numpy())
    assert ag.gradcheck(lambda t: F.pixel_shuffle(t, r), rand(shape))
    assert repr(nn.PixelShuffle(3)) == "PixelShuffle(upscale_factor=3)"


# ---- padding -------------------------------------------------------------------------------------
PAD_LAYERS = [
    (kind, d) for kind in ("Reflection", "Replication", "Circular", "Zero", "Constant") for d in (1, 2, 3)
]


@pytest.mark.parametrize("kind,d", PAD_LAYERS)
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers_match_torch(torch, kind, d, batched):
    widths = tuple([2, 1, -1, 3, 0, -2][: 2 * d])
    if kind == "Circular":
        widths = tuple([2, 1, -1, 2, 0, -1][: 2 * d])
    args = (widths, 1.5) if kind == "Constant" else (widths,)
    ours, theirs = getattr(nn, f"{kind}Pad{d}d")(*args), getattr(torch.nn, f"{kind}Pad{d}d")(*args)
    shape = (2, 3) + (4, 5, 6)[:d] if batched else (3,) + (4, 5, 6)[:d]
    x = ag.tensor(RNG.standard_normal(shape), requires_grad=True)
    check_torch_parity(ours, theirs, [x], torch)
    assert repr(ours) == repr(theirs)
    assert ag.gradcheck(ours, rand(shape))
    int_pad = (
        getattr(nn, f"{kind}Pad{d}d")(1, 2.0) if kind == "Constant" else getattr(nn, f"{kind}Pad{d}d")(1)
    )
    assert int_pad.padding == (1,) * (2 * d)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_negative_widths_match_torch_in_every_mode(torch, mode):
    x = ag.tensor(RNG.standard_normal((1, 2, 6)), requires_grad=True)
    tried = 0
    for lo in range(-7, 6):
        for hi in range(-7, 6):
            if lo >= 0 and hi >= 0:
                continue
            try:
                want = torch.nn.functional.pad(torch.tensor(x.numpy()), (lo, hi), mode=mode)
            except RuntimeError:
                with pytest.raises(ValueError, match="pad"):
                    F.pad(x, (lo, hi), mode=mode)
                continue
            if mode == "circular" and (
                max(lo, 0) > 6 - max(-lo, 0) - max(-hi, 0) or max(hi, 0) > 6 - max(-lo, 0) - max(-hi, 0)
            ):
                continue  # PyTorch reads uninitialised memory here; we raise (tested below)
            check_torch_parity(
                lambda t: F.pad(t, (lo, hi), mode=mode),
                lambda t: torch.nn.functional.pad(t, (lo, hi), mode=mode),
                [x],
                torch,
            )
            assert want.shape[-1] == 6 + lo + hi
            tried += 1
    assert tried > 30
    with pytest.raises(ValueError, match="more than once"):
        F.pad(x, (3, -4), mode="circular")
    x2 = ag.tensor(RNG.standard_normal((1, 1, 4, 5)), requires_grad=True)
    check_torch_parity(
        lambda t: F.pad(t, (-1, 2, 1, -2), mode=mode),
        lambda t: torch.nn.functional.pad(t, (-1, 2, 1, -2), mode=mode),
        [x2],
        torch,
    )


# ---- normalisation, integer pooling ------------------------------------------------------------
@pytest.mark.parametrize("affine,track", [(False, False), (True, True)])
def test_instance_norm3d_matches_torch(torch, affine, track):
    ours, theirs = (
        nn.InstanceNorm3d(3, affine=affine, track_running_stats=track),
        torch.nn.InstanceNorm3d(3, affine=affine, track_running_stats=track),
    )
    check_module_parity(ours, theirs, RNG.standard_normal((2, 3, 3, 4, 5)), torch, steps=2)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=(2, 3), dilation=2),
    ],
)
def test_max_pool_on_integers_matches_torch(torch, dtype, kwargs):
    x = RNG.integers(0 if dtype == np.uint8 else -50, 50, (2, 3, 7, 8)).astype(dtype)
    x[0, 0, :2, :2] = np.iinfo(dtype).min  # a window of the dtype's smallest value
    y, idx = F.max_pool2d(ag.tensor(x), return_indices=True, **kwargs)
    ty, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    x3 = RNG.integers(-5, 5, (1, 2, 5, 6, 7)).astype(dtype if dtype != np.uint8 else np.int16)
    y3, i3 = F.max_pool3d(ag.tensor(x3), 3, 2, 1, return_indices=True)
    ty3, ti3 = torch.nn.functional.max_pool3d(torch.tensor(x3), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(y3.numpy(), ty3.numpy())
    np.testing.assert_array_equal(i3.numpy(), ti3.numpy())
