"""Losses against PyTorch: every reduction and option, gradients of every float input, stability."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn
from autograd_nn.errors import OpIndexError, ShapeError
from tests.helpers import RNG

REDUCTIONS = ["mean", "sum", "none"]


def check_loss(name, args, kwargs, torch, grad=(0,), dtype=np.float64, module=None):
    """F.<name>(*args, **kwargs) vs torch: value, then gradients w.r.t. args[i] for i in `grad`.

    Array args become tensors on both sides (float ones cast to dtype); `module` also checks the
    nn.* wrapper with the same options.
    """
    rtol, atol = (1e-9, 1e-11) if dtype == np.float64 else (1e-4, 1e-5)
    ours = [
        ag.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=i in grad)
        if isinstance(a, np.ndarray)
        else a
        for i, a in enumerate(args)
    ]
    theirs = [
        torch.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=i in grad)
        if isinstance(a, np.ndarray)
        else a
        for i, a in enumerate(args)
    ]
    okw = {k: ag.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    tkw = {k: torch.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = getattr(F, name)(*ours, **okw)
    tout = getattr(torch.nn.functional, name)(*theirs, **tkw)
    assert out.dtype == dtype and out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol, atol)
    g = RNG.standard_normal(out.shape).astype(dtype)
    wrt = [ours[i] for i in grad]
    got = ag.grad(out, wrt, grad_outputs=ag.as_tensor(g))
    want = torch.autograd.grad(tout, [theirs[i] for i in grad], torch.from_numpy(g))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol, atol)
    if module is not None:
        layer = getattr(nn, module)(**okw)
        np.testing.assert_allclose(layer(*ours).numpy(), tout.detach().numpy(), rtol, atol)
        tlayer = getattr(torch.nn, module)(**tkw)
        assert list(layer.state_dict()) == list(tlayer.state_dict())


# ---- regression losses ---------------------------------------------------------------------
REGRESSION = [
    ("l1_loss", "L1Loss", {}),
    ("mse_loss", "MSELoss", {}),
    ("smooth_l1_loss", "SmoothL1Loss", {"beta": 0.5}),
    ("smooth_l1_loss", "SmoothL1Loss", {"beta": 0.0}),
    ("huber_loss", "HuberLoss", {"delta": 0.7}),
    ("soft_margin_loss", "SoftMarginLoss", {}),
]


@pytest.mark.parametrize("name,module,kwargs", REGRESSION, ids=lambda v: str(v))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regression_losses(torch, name, module, kwargs, reduction, dtype):
    x, y = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    if name == "soft_margin_loss":
        y = np.sign(y)
    grad = (0,) if name == "soft_margin_loss" else (0, 1)
    check_loss(name, (x, y), {**kwargs, "reduction": reduction}, torch, grad, dtype, module)


def test_regression_broadcast_warns():
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(ag.randn(3, 1), ag.randn(3))


# ---- classification ------------------------------------------------------------------------
def _ce_case(shape, n_classes, ignore=False, weight=False):
    logits = RNG.standard_normal(shape) * 2
    target_shape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    target = RNG.integers(0, n_classes, target_shape)
    if ignore:
        target.reshape(-1)[::3] = -100
    kw = {"weight": RNG.uniform(0.2, 2.0, n_classes)} if weight else {}
    return logits, target, kw


CE_CASES = [
    ((6, 4), {}),
    ((6, 4), {"ignore": True}),
    ((6, 4), {"weight": True}),
    ((6, 4), {"weight": True, "ignore": True}),
    ((2, 3, 4, 5), {"ignore": True}),
    ((2, 3, 5), {"weight": True}),
    ((4,), {}),
]


@pytest.mark.parametrize("shape,opts", CE_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_class_indices(torch, shape, opts, reduction, smoothing):
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    logits, target, kw = _ce_case(shape, n_classes, **opts)
    check_loss(
        "cross_entropy",
        (logits, target),
        {**kw, "reduction": reduction, "label_smoothing": smoothing},
        torch,
        module="CrossEntropyLoss",
    )


@pytest.mark.parametrize("shape,opts", CE_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(torch, shape, opts, reduction):
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    logits, target, kw = _ce_case(shape, n_classes, **opts)
    check_loss("nll_loss", (logits, target), {**kw, "reduction": reduction}, torch, module="NLLLoss")


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4, 2), (4,)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.1}, {"weight": True}])
def test_cross_entropy_probability_targets(torch, shape, reduction, opts):
    class_dim = 0 if len(shape) == 1 else 1
    probs = RNG.uniform(0.1, 1, shape)
    probs /= probs.sum(axis=class_dim, keepdims=True)
    kw = dict(opts)
    if kw.pop("weight", False):
        kw["weight"] = RNG.uniform(0.5, 2, shape[class_dim])
    check_loss(
        "cross_entropy",
        (RNG.standard_normal(shape), probs),
        {**kw, "reduction": reduction},
        torch,
        grad=(0, 1),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_extreme_logits_are_stable(torch, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 1e4, 1e4]])
    target = np.array([1, 2, 0])
    check_loss("cross_entropy", (logits, target), {"label_smoothing": 0.1}, torch, dtype=dtype)
    check_loss(
        "binary_cross_entropy_with_logits", (logits, (logits > 0) * 1.0), {}, torch, (0, 1), dtype=dtype
    )


def test_cross_entropy_all_ignored_is_nan_like_pytorch():
    out = F.cross_entropy(ag.randn(3, 4), ag.tensor([-100, -100, -100]))
    assert np.isnan(out.item())


def test_cross_entropy_gradcheck():
    logits = ag.tensor(RNG.standard_normal((4, 3, 2)), requires_grad=True)
    target = ag.tensor(np.array([[0, 1], [2, -100], [1, 1], [0, 2]]))
    weight = ag.tensor(np.array([0.5, 1.0, 2.0]))
    assert ag.gradcheck(lambda x: F.cross_entropy(x, target, weight, label_smoothing=0.1), [logits])
    assert ag.gradgradcheck(lambda x: F.cross_entropy(x, target), [logits])


def test_classification_errors():
    with pytest.raises(OpIndexError, match=r"target 5 .*out of (bounds|range) for 4 classes"):
        F.cross_entropy(ag.randn(2, 4), ag.tensor([1, 5]))
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2, 4\)|\(2, 4\).*\(3,\)"):
        F.cross_entropy(ag.randn(2, 4), ag.tensor([1, 2, 3]))
    with pytest.raises(ShapeError, match="probability targets"):
        F.cross_entropy(ag.randn(2, 4), ag.rand(2, 3))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(ag.randn(2, 4), ag.tensor([1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(ag.randn(2, 4), ag.tensor([1, 2]), label_smoothing=1.5)
    with pytest.raises(ShapeError, match=r"weight has shape \(3,\)"):
        F.nll_loss(ag.randn(2, 4), ag.tensor([1, 2]), weight=ag.ones(3))


# ---- binary losses -------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(torch, reduction, weighted):
    p, t = RNG.uniform(0.02, 0.98, (4, 3)), RNG.uniform(0, 1, (4, 3))
    kw = {"weight": RNG.uniform(0.5, 2, (4, 3))} if weighted else {}
    check_loss(
        "binary_cross_entropy", (p, t), {**kw, "reduction": reduction}, torch, (0, 1), module="BCELoss"
    )


def test_binary_cross_entropy_clamps_log_at_minus_100(torch):
    p, t = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    out = F.binary_cross_entropy(ag.tensor(p), ag.tensor(t), reduction="none")
    want = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(out.numpy(), want.numpy())
    assert out.numpy()[0] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0]))
    with pytest.raises(ShapeError, match="target shape"):
        F.binary_cross_entropy(ag.tensor([0.5]), ag.tensor([1.0, 0.0]))


_SATURATED_P = [0.0, 1.0, 1e-7, 1.0 - 1e-7]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_at_saturated_probabilities(torch, dtype, reduction, weighted):
    """p in {0, 1, eps, 1 - eps} x t in {0, 1, 0.3}: PyTorch's clamped values and gradients (p = 1,
    t = 0 gives 1e12, not NaN; p = t = 1 gives 0, not -1), also for the target's gradient."""
    p = np.repeat(np.array(_SATURATED_P), 3).astype(dtype)
    t = np.tile(np.array([0.0, 1.0, 0.3]), 4).astype(dtype)
    kw = {"weight": np.linspace(0.5, 2.0, p.size).astype(dtype)} if weighted else {}
    ours_p, theirs_p = ag.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    ours_t, theirs_t = ag.tensor(t, requires_grad=True), torch.tensor(t, requires_grad=True)
    okw = {k: ag.tensor(v) for k, v in kw.items()}
    tkw = {k: torch.tensor(v) for k, v in kw.items()}
    out = F.binary_cross_entropy(ours_p, ours_t, reduction=reduction, **okw)
    want = torch.nn.functional.binary_cross_entropy(theirs_p, theirs_t, reduction=reduction, **tkw)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=rtol, atol=0)
    g = np.ones(out.shape, dtype)
    gp, gt = ag.grad(out, [ours_p, ours_t], grad_outputs=ag.as_tensor(g))
    wp, wt = torch.autograd.grad(want, [theirs_p, theirs_t], torch.from_numpy(g))
    assert np.isfinite(gp.numpy()).all()
    np.testing.assert_allclose(gp.numpy(), wp.numpy(), rtol=rtol, atol=0)
    np.testing.assert_allclose(gt.numpy(), wt.numpy(), rtol=rtol, atol=0)


def test_binary_cross_entropy_gradients_of_any_order():
    p = ag.tensor(RNG.uniform(0.05, 0.95, (3, 2)), requires_grad=True)
    t = ag.tensor(RNG.uniform(0.0, 1.0, (3, 2)), requires_grad=True)
    w = ag.tensor(RNG.uniform(0.5, 2.0, (3, 2)))
    for reduction in REDUCTIONS:
        fn = lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction)
        assert ag.gradcheck(fn, (p, t))
        assert ag.gradgradcheck(fn, (p, t))


def test_binary_cross_entropy_rejects_targets_outside_0_1():
    with pytest.raises(ValueError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([0.5]), ag.tensor([1.5]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "opts", [{}, {"weight": True}, {"pos_weight": True}, {"weight": True, "pos_weight": True}]
)
def test_binary_cross_entropy_with_logits(torch, reduction, opts):
    x, t = RNG.standard_normal((5, 3)) * 3, RNG.uniform(0, 1, (5, 3))
    kw = {"reduction": reduction}
    if opts.get("weight"):
        kw["weight"] = RNG.uniform(0.5, 2, (5, 3))
    if opts.get("pos_weight"):
        kw["pos_weight"] = RNG.uniform(0.5, 3, 3)
    check_loss("binary_cross_entropy_with_logits", (x, t), kw, torch, (0, 1), module="BCEWithLogitsLoss")


def test_bce_with_logits_gradient_at_zero_is_exact():
    out = F.binary_cross_entropy_with_logits(ag.zeros(3, requires_grad=True), ag.ones(3))
    x = ag.zeros(3, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, ag.ones(3), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), -0.5)  # sigmoid(0) - 1
    assert out.item() == pytest.approx(np.log(2))


# ---- divergence, embedding and ranking losses ----------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(torch, reduction, log_target):
    logp = np.log(RNG.dirichlet(np.ones(4), 3))
    q = RNG.dirichlet(np.ones(4), 3)
    target = np.log(q) if log_target else q
    kw = {"reduction": reduction, "log_target": log_target}
    check_loss("kl_div", (logp, target), kw, torch, (0, 1), module="KLDivLoss")
    if not log_target:
        # a zero target probability contributes 0 (PyTorch's gradient there is NaN, ours finite)
        q[0, 1] = 0.0
        check_loss("kl_div", (logp, q), kw, torch, (0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_loss(torch, reduction, margin):
    a, b = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 4))
    y = np.array([1, -1, 1, -1, -1, 1])
    check_loss(
        "cosine_embedding_loss",
        (a, b, y),
        {"margin": margin, "reduction": reduction},
        torch,
        (0, 1),
        module="CosineEmbeddingLoss",
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_and_hinge_embedding(torch, reduction):
    a, b = RNG.standard_normal(7), RNG.standard_normal(7)
    y = np.array([1.0, -1, 1, 1, -1, -1, 1])
    check_loss(
        "margin_ranking_loss",
        (a, b, y),
        {"margin": 0.2, "reduction": reduction},
        torch,
        (0, 1),
        module="MarginRankingLoss",
    )
    check_loss(
        "hinge_embedding_loss",
        (np.abs(a), y),
        {"margin": 0.8, "reduction": reduction},
        torch,
        (0,),
        module="HingeEmbeddingLoss",
    )


def test_loss_modules_hold_weights_as_buffers(torch):
    w = ag.tensor([1.0, 2.0, 3.0])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    assert list(ce.state_dict()) == ["weight"] and list(ce.parameters()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=ag.ones(3))
    assert list(bce.state_dict()) == list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)).state_dict())
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert nn.L1Loss(size_average=False).reduction == "sum"  # PyTorch's legacy flags
    assert nn.L1Loss(reduce=False).reduction == "none"


def test_losses_keep_float32():
    x = ag.randn(4, 3, requires_grad=True)
    t = ag.tensor([0, 1, 2, 1])
    for loss in (
        F.cross_entropy(x, t, label_smoothing=0.1),
        F.mse_loss(x, x.detach() * 2),
        F.binary_cross_entropy_with_logits(x, ag.rand(4, 3)),
        F.kl_div(x.log_softmax(1), ag.rand(4, 3), reduction="batchmean"),
    ):
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_single_node_gradchecks_to_second_order(reduction):
    a = ag.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    b = ag.tensor(np.random.default_rng(1).standard_normal((1, 4)), requires_grad=True)  # broadcasts
    f = lambda x, y: F.mse_loss(x, y.expand(3, 4), reduction=reduction)
    assert type(f(a, b).grad_fn).__name__ == "SquaredError"
    assert ag.gradcheck(f, [a, b])
    assert ag.gradgradcheck(f, [a, b])
