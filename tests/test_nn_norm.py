"""Normalisation layers and F.* norms against PyTorch: outputs, gradients, running statistics."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn
from autograd_nn.errors import ShapeError
from tests.helpers import RNG
from tests.test_nn_layers import check_module_parity, sync_state

BATCH_NORMS = [
    ("BatchNorm1d", (4,), {}, (6, 4)),
    ("BatchNorm1d", (3,), {"momentum": 0.3}, (5, 3, 7)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), {"momentum": None}, (4, 3, 3, 2)),
    ("BatchNorm2d", (3,), {"affine": False, "eps": 1e-3}, (2, 3, 4, 4)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 4, 4)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 3, 3)),
    ("BatchNorm1d", (3,), {"bias": False}, (4, 3)),
]


def _shifted(shape):
    """Data with a non-zero mean and a non-unit scale per channel, so the statistics matter."""
    return RNG.standard_normal(shape) * 3.0 + 2.0


@pytest.mark.parametrize("name,args,kwargs,shape", BATCH_NORMS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_train_then_eval(torch, name, args, kwargs, shape, dtype):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    for p in ours.parameters():  # non-trivial affine parameters
        p.numpy()[...] = RNG.uniform(0.5, 1.5, args)
    x = _shifted(shape)
    check_module_parity(ours, theirs, x, torch, dtype, steps=3)  # running stats after 3 steps
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    check_module_parity(ours, theirs, _shifted(shape), torch, dtype, to_torch=False)


def test_batch_norm_gradcheck_and_second_order():
    bn = nn.BatchNorm1d(3).double()
    x = ag.tensor(_shifted((4, 3)), requires_grad=True)
    assert ag.gradcheck(lambda t, w, b: bn(t), [x, bn.weight, bn.bias])
    assert ag.gradgradcheck(lambda t: F.batch_norm(t, None, None, training=True), [x])
    bn.eval()
    assert ag.gradcheck(lambda t, w: bn(t), [x, bn.weight])


def test_functional_batch_norm_updates_running_stats_like_pytorch(torch):
    x = _shifted((5, 3, 4))
    rm, rv = ag.zeros(3, dtype=np.float64), ag.ones(3, dtype=np.float64)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(2):
        y = F.batch_norm(ag.tensor(x), rm, rv, training=True, momentum=0.2, eps=1e-4)
        yt = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2, eps=1e-4)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), 1e-10, 1e-12)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), 1e-12)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), 1e-12)  # unbiased variance


def test_batch_norm_errors_name_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(16\).*16 channels.*\(2, 8, 4, 4\)"):
        nn.BatchNorm2d(16)(ag.randn(2, 8, 4, 4))
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(4\).*2-D.*\(2, 4, 3, 3\)"):
        nn.BatchNorm1d(4)(ag.randn(2, 4, 3, 3))
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        nn.BatchNorm1d(4)(ag.randn(1, 4))
    nn.BatchNorm1d(4).eval()(ag.randn(1, 4))  # fine in eval
    with pytest.raises(ShapeError, match="running_mean"):
        F.batch_norm(ag.randn(2, 3), ag.zeros(4), ag.ones(4))


def test_batch_norm_state_dict_and_repr(torch):
    ours, theirs = nn.BatchNorm2d(5, momentum=None), torch.nn.BatchNorm2d(5, momentum=None)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.state_dict()["num_batches_tracked"].dtype == np.int64
    assert repr(ours) == repr(theirs)
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]
    ours.running_mean.fill_(3.0)
    ours.reset_running_stats()
    assert np.all(ours.running_mean.numpy() == 0)


# ---- ghost batch norm ----------------------------------------------------------------------
@pytest.mark.parametrize("vbs,n", [(4, 12), (5, 12), (16, 12)])
def test_ghost_batch_norm_is_batch_norm_per_virtual_batch(torch, vbs, n):
    ghost, ref = nn.GhostBatchNorm2d(3, virtual_batch_size=vbs).double(), torch.nn.BatchNorm2d(3)
    ref.double()
    x = _shifted((n, 3, 2, 2))
    xa = ag.tensor(x, requires_grad=True)
    y = ghost(xa)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.cat([ref(chunk) for chunk in xt.split(vbs)])  # one BN step per virtual batch
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), 1e-10, 1e-12)
    g = RNG.standard_normal(y.shape)
    y.backward(ag.as_tensor(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), 1e-9, 1e-11)
    np.testing.assert_allclose(ghost.weight.grad.numpy(), ref.weight.grad.numpy(), 1e-9, 1e-11)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ghost, name).numpy(), getattr(ref, name).numpy(), 1e-12)
    ghost.eval()
    ref.eval()
    x2 = _shifted((3, 3, 2, 2))
    np.testing.assert_allclose(
        ghost(ag.tensor(x2)).numpy(), ref(torch.tensor(x2)).detach().numpy(), 1e-10, 1e-12
    )


def test_ghost_batch_norm_differs_from_full_batch_and_validates():
    x = ag.tensor(_shifted((8, 2))).float()
    ghost, full = nn.GhostBatchNorm1d(2, virtual_batch_size=2), nn.BatchNorm1d(2)
    assert not np.allclose(ghost(x).numpy(), full(x).numpy())
    assert list(ghost.state_dict()) == list(full.state_dict())
    with pytest.raises(ValueError, match="virtual_batch_size"):
        nn.GhostBatchNorm1d(2, virtual_batch_size=0)
    assert "virtual_batch_size=2" in repr(ghost)


# ---- instance, layer, group and RMS norm ----------------------------------------------------
OTHER_NORMS = [
    ("InstanceNorm1d", (3,), {}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 6)),
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": 0.3}, (2, 3, 4, 4)),
    ("InstanceNorm2d", (3,), {}, (3, 4, 5)),  # unbatched
    ("LayerNorm", (5,), {}, (2, 3, 5)),
    ("LayerNorm", ((3, 5),), {"eps": 1e-3}, (2, 3, 5)),
    ("LayerNorm", (5,), {"bias": False}, (4, 5)),
    ("LayerNorm", (5,), {"elementwise_affine": False}, (4, 5)),
    ("GroupNorm", (2, 6), {}, (2, 6, 3, 3)),
    ("GroupNorm", (3, 6), {"affine": False, "eps": 1e-3}, (2, 6, 5)),
    ("GroupNorm", (1, 4), {"bias": False}, (3, 4)),
    ("RMSNorm", (5,), {}, (2, 3, 5)),
    ("RMSNorm", ((3, 5),), {"eps": 1e-4}, (2, 3, 5)),
    ("RMSNorm", (5,), {"elementwise_affine": False}, (4, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", OTHER_NORMS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype,to_torch", [(np.float64, True), (np.float64, False), (np.float32, True)])
def test_norm_parity(torch, name, args, kwargs, shape, dtype, to_torch):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    for p in ours.parameters():
        p.numpy()[...] = RNG.uniform(0.5, 1.5, p.shape)
    check_module_parity(ours, theirs, _shifted(shape), torch, dtype, to_torch, steps=2)
    if ours.state_dict() and any("running" in k for k in ours.state_dict()):
        ours.eval()
        check_module_parity(ours, theirs, _shifted(shape), torch, dtype, to_torch=False)


@pytest.mark.parametrize(
    "layer,shape",
    [
        (nn.LayerNorm(4), (2, 4)),
        (nn.GroupNorm(2, 4), (2, 4, 3)),
        (nn.InstanceNorm1d(2, affine=True), (2, 2, 3)),
        (nn.RMSNorm(4), (3, 4)),
    ],
)
def test_norm_gradcheck_and_gradgradcheck(layer, shape):
    layer.double()
    x = ag.tensor(_shifted(shape), requires_grad=True)
    params = list(layer.parameters())
    assert ag.gradcheck(lambda t, *ps: layer(t), [x, *params])
    assert ag.gradgradcheck(lambda t: layer(t), [x])


def test_norms_keep_float32():
    x = ag.randn(2, 4, 3, 3)
    for layer in (
        nn.BatchNorm2d(4),
        nn.GroupNorm(2, 4),
        nn.InstanceNorm2d(4),
        nn.LayerNorm((3, 3)),
        nn.RMSNorm(3),
    ):
        assert layer(x).dtype == np.float32, type(layer).__name__
    assert nn.BatchNorm2d(4).running_var.dtype == np.float32


def test_norm_errors():
    with pytest.raises(ShapeError, match=r"LayerNorm\(5,\).*\(2, 4\)"):
        nn.LayerNorm(5)(ag.randn(2, 4))
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 6\).*\(2, 4, 3\)"):
        nn.GroupNorm(2, 6)(ag.randn(2, 4, 3))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ShapeError, match="InstanceNorm2d"):
        nn.InstanceNorm2d(3)(ag.randn(2, 3))
    with pytest.raises(ShapeError, match="InstanceNorm1d.*channels"):
        nn.InstanceNorm1d(3, affine=True)(ag.randn(2, 4, 5))
    with pytest.raises(ShapeError, match="RMSNorm"):
        nn.RMSNorm(3)(ag.randn(3, 4))


def test_norm_state_dict_keys_match_pytorch(torch):
    pairs = [
        (nn.LayerNorm(4, bias=False), torch.nn.LayerNorm(4, bias=False)),
        (
            nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
            torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
        ),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
        (nn.RMSNorm(3), torch.nn.RMSNorm(3)),
    ]
    for ours, theirs in pairs:
        sync_state(ours, theirs, torch, to_torch=True)
        assert repr(ours) == repr(theirs)


# ---- F.normalize ---------------------------------------------------------------------------
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, -1), (3.0, 0)])
def test_normalize_parity_including_zero_vectors(torch, p, dim):
    x = RNG.standard_normal((3, 4))
    x[1] = 0.0  # a zero row: finite output and gradient
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.normalize(xa, p, dim), torch.nn.functional.normalize(xt, p, dim)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), 1e-10, 1e-12)
    g = RNG.standard_normal(y.shape)
    y.backward(ag.as_tensor(g))
    yt.backward(torch.from_numpy(g))
    assert np.isfinite(xa.grad.numpy()).all()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), 1e-9, 1e-11)
