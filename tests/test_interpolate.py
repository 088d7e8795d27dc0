"""F.interpolate in every mode and rank against PyTorch: output sizes, values, gradients, the exact
source positions of the nearest modes (float32 rounding included), scale_factor vs size vs
recompute_scale_factor, align_corners; finite-difference checks to second order."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn
from tests.helpers import RNG, check_torch_parity, rand

MODES = {
    1: ["nearest", "nearest-exact", "area", "linear"],
    2: ["nearest", "nearest-exact", "area", "bilinear", "bicubic"],
    3: ["nearest", "nearest-exact", "area", "trilinear"],
}
RESIZES = [
    dict(size=(3, 11, 9)),
    dict(size=(10, 14, 8)),
    dict(scale_factor=1.7),
    dict(scale_factor=(0.6, 2.0, 3.3)),
    dict(scale_factor=2.5, recompute_scale_factor=True),
    dict(scale_factor=1.1),  # same size as the input, but the scale is not 1
    dict(scale_factor=2),
]


def _case(dims: int, resize: dict) -> dict:
    return {k: (v[:dims] if isinstance(v, tuple) else v) for k, v in resize.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("resize", RESIZES)
def test_interpolate_matches_torch(torch, dtype, dims, resize):
    x = ag.tensor(RNG.standard_normal((2, 3) + (5, 7, 4)[:dims]).astype(dtype), requires_grad=True)
    kw = _case(dims, resize)
    for mode in MODES[dims]:
        corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
        atol = 1e-5 if dtype == np.float32 else None  # float32 sums of 4-16 terms, other order
        for ac in corners:
            opts = dict(kw, mode=mode, align_corners=ac)
            if mode in ("nearest", "nearest-exact", "bicubic"):
                _check_values_and_adjoint(torch, x, opts, atol)
                continue
            check_torch_parity(
                lambda t: F.interpolate(t, **opts),
                lambda t: torch.nn.functional.interpolate(t, **opts),
                [x],
                torch,
                atol=atol,
            )


def _check_values_and_adjoint(torch, x, opts, atol):
    """Values equal PyTorch's, and the gradient is the adjoint of PyTorch's forward map:
    <grad(g), v> = <g, interpolate_torch(v)> for random g, v.

    Not PyTorch's gradient itself: its nearest and bicubic backward kernels recompute the source
    positions with other rounding and special cases (a same-size axis is copied even when
    scale_factor=1.1 made the forward resample it), so where they differ PyTorch's gradient is not
    the derivative of its own output.
    """
    y = F.interpolate(x, **opts)
    rtol, atol = (1e-5, atol) if x.dtype == np.float32 else (1e-9, 1e-10)
    want = torch.nn.functional.interpolate(torch.tensor(x.numpy()), **opts)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(y.shape)
    (got,) = ag.grad(y, [x], grad_outputs=ag.as_tensor(g.astype(x.dtype)))
    for _ in range(3):
        v = RNG.standard_normal(x.shape)
        v = v.astype(x.dtype)
        image = torch.nn.functional.interpolate(torch.tensor(v), **opts).numpy().astype(float)
        assert np.vdot(got.numpy().astype(np.float64), v) == pytest.approx(
            np.vdot(g, image), rel=1e-4 if x.dtype == np.float32 else 1e-10
        )


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_nearest_source_positions_match_torch_exactly(torch, mode, dtype):
    """Sizes and scales where the position lands on an integer up to rounding: the float32 (and
    fused multiply-add) rounding of PyTorch's kernels decides, and is reproduced."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        if rng.random() < 0.5:
            kw = dict(size=int(rng.integers(1, 90)))
        else:
            kw = dict(scale_factor=float(np.round(rng.uniform(0.1, 4), int(rng.integers(1, 4)))))
        x = np.arange(n).astype(dtype).reshape(1, 1, n)
        try:
            want = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kw)
        except RuntimeError:  # an output size of 0
            with pytest.raises(ValueError, match="positive"):
                F.interpolate(ag.tensor(x), mode=mode, **kw)
            continue
        got = F.interpolate(ag.tensor(x), mode=mode, **kw)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=f"{n} {kw}")


def test_nearest_copies_inf_and_nan(torch):
    x = np.array([[[1.0, np.inf, -np.inf, np.nan]]])
    got = F.interpolate(ag.tensor(x), scale_factor=2.5)
    want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2.5)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    "mode,shape,kw",
    [
        ("linear", (1, 2, 4), dict(size=7)),
        ("linear", (1, 2, 5), dict(scale_factor=0.7, align_corners=True)),
        ("bilinear", (1, 1, 3, 4), dict(scale_factor=(1.5, 0.8))),
        ("bicubic", (1, 1, 3, 4), dict(size=(5, 6))),
        ("bicubic", (1, 1, 4, 3), dict(scale_factor=1.6, align_corners=True)),
        ("trilinear", (1, 1, 2, 3, 3), dict(size=(3, 4, 2))),
        ("nearest", (1, 2, 2, 3, 2), dict(scale_factor=(2, 1.5, 1))),
        ("nearest-exact", (1, 1, 3, 4), dict(size=(5, 3))),
        ("area", (1, 1, 5, 4, 3), dict(size=(2, 3, 2))),
    ],
)
def test_interpolate_gradients_of_any_order(mode, shape, kw):
    x = rand(shape)
    fn = lambda t: F.interpolate(t, mode=mode, **kw)
    assert ag.gradcheck(fn, x)
    assert ag.gradgradcheck(fn, x)


def test_upsample_modules_and_deprecated_aliases(torch):
    x = ag.tensor(RNG.standard_normal((1, 2, 3, 4, 5)), requires_grad=True)
    for kw in (
        dict(scale_factor=2, mode="trilinear"),
        dict(size=(4, 5, 6), mode="nearest-exact"),
        dict(scale_factor=1.5, mode="trilinear", align_corners=True),
    ):
        check_torch_parity(nn.Upsample(**kw), torch.nn.Upsample(**kw), [x], torch)
    x2 = ag.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    check_torch_parity(
        lambda t: F.upsample_bilinear(t, scale_factor=2),
        lambda t: torch.nn.functional.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True),
        [x2],
        torch,
    )
    check_torch_parity(
        lambda t: F.upsample_nearest(t, size=(5, 7)),
        lambda t: torch.nn.functional.interpolate(t, size=(5, 7)),
        [x2],
        torch,
    )


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda x: F.interpolate(x, size=4, scale_factor=2), "only one"),
        (lambda x: F.interpolate(x), "either size or scale_factor"),
        (lambda x: F.interpolate(x, size=4, recompute_scale_factor=True), "not meaningful"),
        (lambda x: F.interpolate(x, scale_factor=2, mode="nearest", align_corners=True), "align_corners"),
        (lambda x: F.interpolate(x, scale_factor=2, mode="trilinear"), "5-D"),
        (lambda x: F.interpolate(x, scale_factor=2, mode="cubic"), "mode must be one of"),
        (lambda x: F.interpolate(x, size=(2, 3, 4)), "same number of spatial"),
        (lambda x: F.interpolate(x, scale_factor=0.01), "positive"),
        (lambda x: F.interpolate(x.long(), scale_factor=2, mode="bilinear"), "floating point"),
    ],
)
def test_interpolate_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(ag.ones(1, 2, 3, 4))
