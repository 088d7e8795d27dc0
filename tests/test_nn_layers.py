"""Activation, convolution, pooling, dropout and embedding layers against PyTorch.

`check_module_parity` copies weights across through state dicts (either direction), runs both
layers on the same input and compares outputs, the input gradient and every parameter's gradient.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn
from autograd_nn.errors import ShapeError
from tests.helpers import RNG

TOL = {np.float64: (1e-9, 1e-11), np.float32: (2e-4, 2e-5)}


def sync_state(ours: nn.Module, theirs, torch, to_torch: bool) -> None:
    """Copy weights and buffers ours -> theirs (to_torch) or theirs -> ours, checking the key sets."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if to_torch:
        theirs.load_state_dict(
            {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
        )
    else:
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def check_module_parity(
    ours: nn.Module,
    theirs,
    x: np.ndarray,
    torch,
    dtype=np.float64,
    to_torch: bool = True,
    steps: int = 1,
    check_buffers: bool = True,
    rtol: float | None = None,
) -> None:
    """Outputs and gradients (input, every parameter) of `ours` equal `theirs` on input x."""
    rtol, atol = (TOL[dtype][0] if rtol is None else rtol), TOL[dtype][1]
    sync_state(ours, theirs, torch, to_torch)
    ours.to(dtype)
    theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    theirs.train(ours.training)
    for _ in range(steps):
        ours.zero_grad()
        theirs.zero_grad()
        xa = ag.tensor(x.astype(dtype), requires_grad=True)
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        y, yt = ours(xa), theirs(xt)
        assert y.dtype == dtype
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol, atol)
        g = RNG.standard_normal(y.shape).astype(dtype)
        y.backward(ag.as_tensor(g))
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol, atol)
        tparams = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert p.grad is not None, name
            np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol, atol, err_msg=name)
    if check_buffers:
        tbufs = dict(theirs.named_buffers())
        for name, b in ours.named_buffers():
            np.testing.assert_allclose(b.numpy(), tbufs[name].numpy(), rtol, atol, err_msg=name)


def gradcheck_module(module: nn.Module, shape: tuple) -> None:
    module.double()
    x = ag.tensor(RNG.uniform(-1, 1, shape), requires_grad=True)
    params = list(module.parameters())
    assert ag.gradcheck(lambda inp, *ps: module(inp), [x, *params])


# ---- activations ---------------------------------------------------------------------------
ACTIVATIONS = [
    ("ReLU", {}),
    ("ReLU6", {}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("ELU", {"alpha": 0.7}),
    ("SELU", {}),
    ("CELU", {"alpha": 0.5}),  # PyTorch rounds 1/alpha to float32 in CELU's backward
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("Mish", {}),
    ("Tanh", {}),
    ("Sigmoid", {}),
    ("LogSigmoid", {}),
    ("Softplus", {"beta": 2.0, "threshold": 3.0}),
    ("Softsign", {}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}),
    ("Hardsigmoid", {}),
    ("Hardswish", {}),
    ("Tanhshrink", {}),
    ("Softshrink", {"lambd": 0.3}),
    ("Hardshrink", {"lambd": 0.3}),
    ("Threshold", {"threshold": 0.1, "value": -2.0}),
    ("GLU", {"dim": 1}),
    ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": -1}),
    ("Softmin", {"dim": 0}),
    ("PReLU", {}),
    ("PReLU", {"num_parameters": 4, "init": 0.1}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_parity(torch, name, kwargs, dtype):
    x = RNG.uniform(-4, 4, (3, 4, 5))
    # PyTorch's hardsigmoid backward uses the float32 constant 1.0f / 6 even for float64
    rtol = 1e-7 if name == "Hardsigmoid" and dtype == np.float64 else None
    check_module_parity(
        getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs), x, torch, dtype, rtol=rtol
    )


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS[::3], ids=lambda v: str(v))
def test_activation_gradcheck(name, kwargs):
    # keep away from the kinks, where finite differences straddle two pieces
    x = ag.tensor(
        RNG.choice([-1, 1], (2, 4, 3)) * RNG.uniform(0.05, 0.25, (2, 4, 3)) + 0.55, requires_grad=True
    )
    layer = getattr(nn, name)(**kwargs).double()
    assert ag.gradcheck(lambda t: layer(t), [x])


def test_activation_repr_and_validation(torch):
    assert repr(nn.LeakyReLU(0.2)) == repr(torch.nn.LeakyReLU(0.2))
    assert repr(nn.GELU("tanh")) == repr(torch.nn.GELU("tanh"))
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.warns(UserWarning, match="Implicit dimension"):
        nn.Softmax()(ag.randn(2, 3))


# ---- convolutions --------------------------------------------------------------------------
CONVS = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 4), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (2, 4, 13)),
    ("Conv1d", (3, 2, 4), {"padding": "same", "padding_mode": "circular"}, (2, 3, 8)),
    ("Conv2d", (3, 5, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 2), "bias": False}, (2, 4, 7, 6)),
    ("Conv2d", (4, 4, 3), {"groups": 4, "padding": "same"}, (2, 4, 6, 6)),  # depthwise
    ("Conv2d", (4, 8, 3), {"groups": 4, "dilation": 2, "padding": "valid"}, (1, 4, 8, 8)),
    ("Conv2d", (2, 3, 4), {"padding": "same", "dilation": (1, 2)}, (2, 2, 7, 8)),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, (2, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "replicate"}, (2, 2, 5, 5)),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 6)),
    (
        "ConvTranspose2d",
        (4, 6, 3),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
        (2, 4, 4, 5),
    ),
    ("ConvTranspose2d", (3, 2, (2, 3)), {"dilation": 2, "bias": False}, (1, 3, 4, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CONVS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype,to_torch", [(np.float64, True), (np.float64, False), (np.float32, True)])
def test_conv_parity(torch, name, args, kwargs, shape, dtype, to_torch):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    check_module_parity(ours, theirs, RNG.standard_normal(shape), torch, dtype, to_torch)


@pytest.mark.parametrize("name,args,kwargs,shape", CONVS[1::3], ids=lambda v: str(v))
def test_conv_gradcheck(name, args, kwargs, shape):
    gradcheck_module(getattr(nn, name)(*args, **kwargs), (1,) + shape[1:])


def test_conv_unbatched_and_output_size(torch):
    conv = nn.Conv2d(3, 4, 3)
    assert conv(ag.randn(3, 6, 6)).shape == (4, 4, 4)
    up, tup = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), None
    tup = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    sync_state(up, tup, torch, True)
    x = RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)
    y = up(ag.tensor(x), output_size=(8, 8))
    assert y.shape == (1, 2, 8, 8)
    np.testing.assert_allclose(
        y.numpy(), tup(torch.tensor(x), output_size=[8, 8]).detach().numpy(), 1e-5, 1e-6
    )
    with pytest.raises(ShapeError, match="ConvTranspose2d"):
        up(ag.tensor(x), output_size=(12, 12))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Conv2d(16, 8, 3),
        lambda: nn.Conv1d(6, 300, 5),
        lambda: nn.ConvTranspose2d(8, 20, 3, groups=2),
    ],
)
def test_conv_default_init_matches_pytorch(make):
    conv = make()
    fan_in = conv.weight.shape[1] * int(np.prod(conv.weight.shape[2:]))
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and PyTorch's bias rule
    for p in (conv.weight, conv.bias):
        assert p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound
        assert np.abs(p.numpy()).max() > 0.9 * bound  # uses the whole range
        # U(-b, b) has std b / sqrt(3); allow 5 standard errors
        n = p.numpy().size
        assert abs(p.numpy().std() - bound / math.sqrt(3)) < 5 * bound / math.sqrt(3) / math.sqrt(n)


def test_conv_errors_name_the_layer_and_shapes():
    with pytest.raises(ShapeError, match=r"Conv2d\(3, 8\).*3 input channels.*\(2, 4, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(ag.randn(2, 4, 8, 8))
    with pytest.raises(ShapeError, match=r"Conv1d.*\(2, 3\)"):
        nn.Conv1d(3, 8, 3)(ag.randn(2, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 8, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 8, 3, padding_mode="mirror")


@pytest.mark.parametrize(
    "name", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]
)
def test_conv_dtype_argument(name):
    conv = getattr(nn, name)(2, 4, 3, dtype=np.float64)  # ConvTranspose3d once passed it as device
    assert conv.weight.dtype == conv.bias.dtype == np.float64


def test_conv_has_no_output_padding():
    with pytest.raises(TypeError, match="output_padding"):
        nn.Conv2d(3, 8, 3, output_padding=1)


def test_conv_repr_matches_pytorch(torch):
    for args, kw in [
        ((3, 8, 3), {"stride": 2, "padding": 1, "bias": False}),
        ((4, 4, 3), {"groups": 4, "dilation": 2}),
    ]:
        assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))


# ---- pooling and upsampling ----------------------------------------------------------------
POOLS = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 8)),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": 1, "ceil_mode": True}, (2, 2, 7, 7)),
    ("MaxPool2d", (3,), {"stride": 1, "dilation": 2}, (1, 2, 8, 8)),
    ("AvgPool1d", (4,), {"stride": 2, "padding": 2, "count_include_pad": False}, (2, 3, 11)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 8)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 2, 7, 7)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (1, 2, 4, 4)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 5)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 7, 5)),
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 3, 4)),
    ("Upsample", (), {"size": (5, 7), "mode": "bilinear", "align_corners": False}, (2, 3, 3, 4)),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}, (1, 2, 3, 3)),
    ("Upsample", (), {"scale_factor": 3, "mode": "linear"}, (2, 3, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", POOLS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool_parity(torch, name, args, kwargs, shape, dtype):
    # a permutation of distinct values: no ties in the max, so the gradients are unambiguous
    x = RNG.permutation(int(np.prod(shape))).reshape(shape) / 10.0
    check_module_parity(
        getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), x, torch, dtype
    )


def test_upsample_needs_one_of_size_and_scale():
    with pytest.raises(ValueError, match="exactly one"):
        nn.Upsample()


# ---- dropout -------------------------------------------------------------------------------
def test_dropout_statistics_scaling_and_gradient():
    x = ag.ones(200, 500, requires_grad=True)
    y = nn.Dropout(0.3)(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7, rtol=1e-6)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy())  # the gradient is the same scaled mask


def test_dropout_eval_identity_and_seed():
    layer = nn.Dropout(0.5)
    x = ag.randn(10, 10)
    ag.manual_seed(7)
    a = layer(x).numpy()
    ag.manual_seed(7)
    b = layer(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, layer(x).numpy())
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)


@pytest.mark.parametrize(
    "layer,shape,lead",
    [
        (nn.Dropout2d(0.5), (8, 16, 5, 5), 2),
        (nn.Dropout1d(0.5), (8, 16, 7), 2),
        (nn.Dropout1d(0.5), (16, 7), 1),
        (nn.Dropout3d(0.5), (4, 6, 2, 3, 3), 2),
    ],
)
def test_channel_dropout_zeroes_whole_channels(layer, shape, lead):
    y = layer(ag.ones(*shape)).numpy().reshape(shape[:lead] + (-1,))
    assert np.all((y == 0).all(-1) | (y == 2.0).all(-1))
    assert 0.2 < (y[..., 0] == 0).mean() < 0.8


def test_alpha_dropout_keeps_mean_and_variance():
    x = ag.randn(400, 500)
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert nn.AlphaDropout(0.2).eval()(x) is x


def test_dropout_validates_p():
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(ag.randn(3), bad)
    with pytest.raises(ShapeError, match="dropout1d"):
        F.dropout1d(ag.randn(3, 4, 5, 6))
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"


# ---- embedding -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -2}, {"max_norm": 1.0}])
def test_embedding_parity(torch, kwargs):
    ours, theirs = nn.Embedding(7, 3, **kwargs), torch.nn.Embedding(7, 3, **kwargs)
    sync_state(ours, theirs, torch, to_torch=False)
    ids = np.array([[1, 2, 5], [5, 1, 0]])
    y, yt = ours(ag.tensor(ids)), theirs(torch.tensor(ids))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), 1e-6, 1e-7)
    g = RNG.standard_normal(y.shape).astype(np.float32)
    y.backward(ag.as_tensor(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), 1e-6, 1e-6)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), 1e-6, 1e-7)


def test_embedding_init_padding_and_pretrained():
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.numpy()
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01  # N(0, 1)
    table = ag.randn(4, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(ag.tensor([2])).numpy()[0], table.numpy()[2])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(ag.OpIndexError, match="out of range"):
        emb(ag.tensor([1000]))
    with pytest.raises(ag.DTypeError, match="Embedding"):
        emb(ag.tensor([1.0]))
    assert repr(emb) == "Embedding(1000, 64, padding_idx=3)"


def test_linear_error_names_layer_and_shape():
    with pytest.raises(ValueError, match=r"Linear.*\(4, 5\).*in_features=3"):
        nn.Linear(3, 2)(ag.randn(4, 5))
