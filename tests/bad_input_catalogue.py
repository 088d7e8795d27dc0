"""The bad-input catalogue: every public callable, the generic check it gets, and specific cases.

Data only; the checks live in tests/test_bad_input*.py. `tests/test_bad_input.py::test_every_public_
callable_is_catalogued` fails when a public name is in none of the groups below nor in EXEMPT, so
new API has to be added here (to a group, or to EXEMPT with a one-line reason).

Names are qualified by namespace: `ag.` autograd_nn, `F.` autograd_nn.nn.functional, `nn.`
autograd_nn.nn, `optim.`, `lr_scheduler.`, `data.`, `init.` autograd_nn.nn.init, `utils.`
autograd_nn.nn.utils, `onnx.` autograd_nn.onnx.
"""

from __future__ import annotations

import inspect
import linecache
import os
from collections.abc import Iterator

import numpy as np

import autograd_nn as ag
import autograd_nn.data as data
import autograd_nn.nn as nn
import autograd_nn.nn.functional as F
import autograd_nn.nn.init as init
import autograd_nn.nn.utils as utils
import autograd_nn.onnx as onnx_export
import autograd_nn.optim as optim
import autograd_nn.optim.lr_scheduler as lr_scheduler

try:
    from tests.bad_input_catalogue_porting import PORTING_CASES
except ImportError:  # imported as a top-level module (tests/ on sys.path)
    from bad_input_catalogue_porting import PORTING_CASES

# ---- pointwise functions of one tensor: f(x) (extra arguments where the function needs them) ----
_FLOAT_UNARY = [
    "abs",
    "absolute",
    "acos",
    "acosh",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "ceil",
    "celu",
    "clone",
    "cos",
    "cosh",
    "elu",
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "exp2",
    "expm1",
    "fix",
    "floor",
    "frac",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "isfinite",
    "isinf",
    "isnan",
    "leaky_relu",
    "log",
    "log10",
    "log1p",
    "log2",
    "logical_not",
    "logsigmoid",
    "mish",
    "nan_to_num",
    "neg",
    "negative",
    "reciprocal",
    "relu",
    "relu6",
    "round",
    "rsqrt",
    "selu",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "trunc",
]
_F_UNARY = [
    "celu",
    "elu",
    "gelu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "logsigmoid",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
]

UNARY = {f"ag.{n}": getattr(ag, n) for n in _FLOAT_UNARY}
UNARY.update({f"F.{n}": getattr(F, n) for n in _F_UNARY})
UNARY.update(
    {
        "ag.clamp": lambda x: ag.clamp(x, -0.5, 0.5),
        "ag.clip": lambda x: ag.clip(x, -0.5, 0.5),
        "ag.clamp_min": lambda x: ag.clamp_min(x, 0.0),
        "ag.clamp_max": lambda x: ag.clamp_max(x, 0.0),
        "F.threshold": lambda x: F.threshold(x, 0.1, 20.0),
        "F.dropout": lambda x: F.dropout(x, 0.5, training=False),
        "F.alpha_dropout": lambda x: F.alpha_dropout(x, 0.5, training=False),
    }
)
# integer-only pointwise functions (given integer inputs by the generic check)
INT_UNARY = {"ag.bitwise_not": ag.bitwise_not}

# ---- functions of two broadcastable tensors: f(a, b) -------------------------------------------
_BINARY = [
    "add",
    "sub",
    "subtract",
    "mul",
    "multiply",
    "div",
    "divide",
    "true_divide",
    "pow",
    "atan2",
    "arctan2",
    "remainder",
    "fmod",
    "floor_divide",
    "maximum",
    "minimum",
    "logical_and",
    "logical_or",
    "logical_xor",
    "copysign",
    "logaddexp",
    "logaddexp2",
    "isclose",
]
BINARY = {f"ag.{n}": getattr(ag, n) for n in _BINARY}
BINARY.update(
    {
        "ag.lerp": lambda a, b: ag.lerp(a, b, 0.5),
        "ag.where": lambda a, b: ag.where(ag.ones(1, dtype=ag.bool_), a, b),
    }
)
INT_BINARY = {
    f"ag.{n}": getattr(ag, n)
    for n in ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"]
}

# ---- functions with a dim argument: f(x, dim) on a (2, 3) float tensor ---------------------------
_idx = ag.tensor([[0, 1, 0], [1, 0, 1]])
DIM = {
    **{
        f"ag.{n}": (lambda n: lambda x, d: getattr(ag, n)(x, d))(n)
        for n in [
            "sum",
            "mean",
            "prod",
            "amax",
            "amin",
            "max",
            "min",
            "argmax",
            "argmin",
            "all",
            "any",
            "std",
            "var",
            "std_mean",
            "var_mean",
            "logsumexp",
            "count_nonzero",
            "median",
            "cumsum",
            "cumprod",
            "softmax",
            "log_softmax",
            "sort",
            "argsort",
            "flatten",
            "squeeze",
            "unbind",
        ]
    },
    "ag.norm": lambda x, d: ag.norm(x, dim=d),
    "ag.topk": lambda x, d: ag.topk(x, 1, dim=d),
    "ag.kthvalue": lambda x, d: ag.kthvalue(x, 1, dim=d),
    "ag.flip": lambda x, d: ag.flip(x, (d,)),
    "ag.roll": lambda x, d: ag.roll(x, 1, d),
    "ag.unsqueeze": lambda x, d: ag.unsqueeze(x, d),
    "ag.cat": lambda x, d: ag.cat([x, x], d),
    "ag.concat": lambda x, d: ag.concat([x, x], d),
    "ag.concatenate": lambda x, d: ag.concatenate([x, x], d),
    "ag.stack": lambda x, d: ag.stack([x, x], d),
    "ag.split": lambda x, d: ag.split(x, 1, d),
    "ag.chunk": lambda x, d: ag.chunk(x, 2, d),
    "ag.narrow": lambda x, d: ag.narrow(x, d, 0, 1),
    "ag.diagonal": lambda x, d: ag.diagonal(x, 0, d, 0),
    "ag.transpose": lambda x, d: ag.transpose(x, 0, d),
    "ag.swapaxes": lambda x, d: ag.swapaxes(x, 0, d),
    "ag.swapdims": lambda x, d: ag.swapdims(x, 0, d),
    "ag.movedim": lambda x, d: ag.movedim(x, 0, d),
    "ag.moveaxis": lambda x, d: ag.moveaxis(x, 0, d),
    "ag.index_select": lambda x, d: ag.index_select(x, d, ag.tensor([0])),
    "ag.gather": lambda x, d: ag.gather(x, d, _idx),
    "ag.take_along_dim": lambda x, d: ag.take_along_dim(x, _idx, d),
    "ag.scatter_add": lambda x, d: ag.scatter_add(x, d, _idx, x),
    "ag.index_add": lambda x, d: ag.index_add(x, d, ag.tensor([0]), x[:1]),
    "ag.unflatten": lambda x, d: ag.unflatten(x, d, (1, -1)),
    "ag.repeat_interleave": lambda x, d: ag.repeat_interleave(x, 2, d),
    "F.softmax": lambda x, d: F.softmax(x, d),
    "F.log_softmax": lambda x, d: F.log_softmax(x, d),
    "F.softmin": lambda x, d: F.softmin(x, d),
    "F.glu": lambda x, d: F.glu(x, d),
    "F.normalize": lambda x, d: F.normalize(x, dim=d),
}

# ---- layers: (build, good input shape, wrong input shape[, fragments the message must hold]) --
# The generic check: the good shape runs; the wrong one (wrong feature/channel count or rank) raises
# a clear error whose message names the layer and the wrong shape (or the given fragments).
LAYERS = {
    "nn.Linear": (lambda: nn.Linear(3, 4), (2, 3), (2, 5)),
    "nn.Bilinear": (lambda: nn.Bilinear(3, 3, 2), [(2, 3), (2, 3)], [(2, 3), (2, 5)]),
    "nn.LoRALinear": (lambda: nn.LoRALinear(nn.Linear(3, 4), r=2), (2, 3), (2, 5)),
    "nn.Conv1d": (lambda: nn.Conv1d(3, 4, 3), (1, 3, 8), (1, 2, 8)),
    "nn.Conv2d": (lambda: nn.Conv2d(3, 4, 3), (1, 3, 8, 8), (1, 2, 8, 8)),
    "nn.ConvTranspose1d": (lambda: nn.ConvTranspose1d(3, 4, 3), (1, 3, 8), (1, 2, 8)),
    "nn.ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 4, 3), (1, 3, 8, 8), (1, 2, 8, 8)),
    "nn.conv1x1": (lambda: nn.conv1x1(3, 4), (1, 3, 4, 4), (1, 2, 4, 4)),
    "nn.conv3x3": (lambda: nn.conv3x3(3, 4), (1, 3, 4, 4), (1, 2, 4, 4)),
    "nn.make_downsample": (lambda: nn.make_downsample(3, 4, 2), (1, 3, 4, 4), (1, 2, 4, 4)),
    "nn.BasicBlock": (lambda: nn.BasicBlock(4, 4), (1, 4, 4, 4), (1, 3, 4, 4)),
    "nn.Bottleneck": (lambda: nn.Bottleneck(16, 4), (1, 16, 4, 4), (1, 3, 4, 4)),
    "nn.Residual": (lambda: nn.Residual(nn.Linear(3, 3)), (2, 3), (2, 5)),
    "nn.MaxPool1d": (lambda: nn.MaxPool1d(2), (1, 2, 8), (8,)),
    "nn.MaxPool2d": (lambda: nn.MaxPool2d(2), (1, 2, 8, 8), (8, 8)),
    "nn.AvgPool1d": (lambda: nn.AvgPool1d(2), (1, 2, 8), (8,)),
    "nn.AvgPool2d": (lambda: nn.AvgPool2d(2), (1, 2, 8, 8), (8, 8)),
    "nn.AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(2), (1, 2, 8), (8,)),
    "nn.AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(2), (1, 2, 8, 8), (8,)),
    "nn.AdaptiveMaxPool1d": (lambda: nn.AdaptiveMaxPool1d(2), (1, 2, 8), (8,)),
    "nn.AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d(2), (1, 2, 8, 8), (8,)),
    "nn.Upsample": (lambda: nn.Upsample(scale_factor=2), (1, 2, 4, 4), (4,)),
    "nn.UpsamplingNearest2d": (lambda: nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 4, 4), (4,)),
    "nn.UpsamplingBilinear2d": (lambda: nn.UpsamplingBilinear2d(scale_factor=2), (1, 2, 4, 4), (4,)),
    "nn.BatchNorm1d": (lambda: nn.BatchNorm1d(3), (4, 3), (4, 5)),
    "nn.BatchNorm2d": (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4), (2, 5, 4, 4)),
    "nn.BatchNorm3d": (lambda: nn.BatchNorm3d(3), (2, 3, 2, 2, 2), (2, 5, 2, 2, 2)),
    "nn.SyncBatchNorm": (lambda: nn.SyncBatchNorm(3), (2, 3, 4, 4), (2, 5, 4, 4)),
    "nn.GhostBatchNorm1d": (lambda: nn.GhostBatchNorm1d(3, 2), (4, 3), (4, 5)),
    "nn.GhostBatchNorm2d": (lambda: nn.GhostBatchNorm2d(3, 2), (4, 3, 2, 2), (4, 5, 2, 2)),
    "nn.InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), (2, 3, 4), (2, 5, 4)),
    "nn.InstanceNorm2d": (lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4), (2, 5, 4, 4)),
    "nn.GroupNorm": (lambda: nn.GroupNorm(2, 4), (2, 4, 3), (2, 6, 3)),
    "nn.LayerNorm": (lambda: nn.LayerNorm(3), (2, 3), (2, 5)),
    "nn.RMSNorm": (lambda: nn.RMSNorm(3), (2, 3), (2, 5)),
    "nn.PReLU": (lambda: nn.PReLU(3), (2, 3), (2, 5)),
    "nn.Flatten": (lambda: nn.Flatten(1, 2), (2, 3, 4), (2,), ("dim 1", "1 dimensions")),
    "nn.Unflatten": (lambda: nn.Unflatten(1, (2, 2)), (3, 4), (3, 5)),
    "nn.GLU": (lambda: nn.GLU(), (2, 4), (2, 5)),
    "nn.RNN": (lambda: nn.RNN(3, 4), (5, 2, 3), (5, 2, 6)),
    "nn.LSTM": (lambda: nn.LSTM(3, 4), (5, 2, 3), (5, 2, 6)),
    "nn.GRU": (lambda: nn.GRU(3, 4), (5, 2, 3), (5, 2, 6)),
    "nn.RNNBase": (lambda: nn.RNNBase("LSTM", 3, 4), (5, 2, 3), (5, 2, 6)),
    "nn.RNNCell": (lambda: nn.RNNCell(3, 4), (2, 3), (2, 6)),
    "nn.LSTMCell": (lambda: nn.LSTMCell(3, 4), (2, 3), (2, 6)),
    "nn.GRUCell": (lambda: nn.GRUCell(3, 4), (2, 3), (2, 6)),
    "nn.MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2), [(3, 2, 4)] * 3, [(3, 2, 6)] * 3),
    "nn.TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(4, 2, 8, 0.0), (3, 2, 4), (3, 2, 6)),
    "nn.TransformerDecoderLayer": (
        lambda: nn.TransformerDecoderLayer(4, 2, 8, 0.0),
        [(3, 2, 4)] * 2,
        [(3, 2, 6), (3, 2, 4)],
    ),
    "nn.TransformerEncoder": (
        lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, 0.0), 2),
        (3, 2, 4),
        (3, 2, 6),
    ),
    "nn.TransformerDecoder": (
        lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8, 0.0), 2),
        [(3, 2, 4)] * 2,
        [(3, 2, 6), (3, 2, 4)],
    ),
    "nn.Transformer": (lambda: nn.Transformer(4, 2, 1, 1, 8, 0.0), [(3, 2, 4)] * 2, [(3, 2, 6), (3, 2, 4)]),
    "nn.LearnedPositionalEmbedding": (lambda: nn.LearnedPositionalEmbedding(8, 4), (3, 2, 4), (3, 2, 6)),
    "nn.SinusoidalPositionalEncoding": (
        lambda: nn.SinusoidalPositionalEncoding(4, 8, 0.0),
        (3, 2, 4),
        (3, 2, 6),
    ),
    "nn.Sequential": (lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU()), (2, 3), (2, 5)),
    "nn.Softmax": (lambda: nn.Softmax(dim=3), (1, 2, 3, 4), (2, 3), ("dim 3", "2 dimensions")),
    "nn.LogSoftmax": (lambda: nn.LogSoftmax(dim=3), (1, 2, 3, 4), (2, 3), ("dim 3", "2 dimensions")),
    "nn.Softmin": (lambda: nn.Softmin(dim=3), (1, 2, 3, 4), (2, 3), ("dim 3", "2 dimensions")),
    "nn.Dropout1d": (lambda: nn.Dropout1d(), (2, 3, 4), (2,)),
    "nn.FeatureAlphaDropout": (lambda: nn.FeatureAlphaDropout(), (2, 3, 4), (2,)),
    # 3-D layers, padding, rearranging (issue 11)
    "nn.Conv3d": (lambda: nn.Conv3d(3, 4, 3), (1, 3, 5, 5, 5), (1, 2, 5, 5, 5)),
    "nn.ConvTranspose3d": (lambda: nn.ConvTranspose3d(3, 4, 3), (1, 3, 3, 3, 3), (1, 2, 3, 3, 3)),
    "nn.MaxPool3d": (lambda: nn.MaxPool3d(2), (1, 2, 4, 4, 4), (4, 4)),
    "nn.AvgPool3d": (lambda: nn.AvgPool3d(2), (1, 2, 4, 4, 4), (4, 4)),
    "nn.AdaptiveAvgPool3d": (lambda: nn.AdaptiveAvgPool3d(2), (1, 2, 4, 4, 4), (4, 4)),
    "nn.AdaptiveMaxPool3d": (lambda: nn.AdaptiveMaxPool3d(2), (1, 2, 4, 4, 4), (4, 4)),
    "nn.InstanceNorm3d": (lambda: nn.InstanceNorm3d(3, affine=True), (2, 3, 2, 2, 2), (2, 5, 2, 2, 2)),
    "nn.PixelShuffle": (lambda: nn.PixelShuffle(2), (1, 8, 3, 3), (1, 6, 3, 3)),
    "nn.PixelUnshuffle": (lambda: nn.PixelUnshuffle(2), (1, 2, 4, 4), (1, 2, 3, 4)),
    "nn.Unfold": (lambda: nn.Unfold(2), (1, 2, 4, 4), (4, 4)),
    "nn.Fold": (lambda: nn.Fold((4, 4), 2), (1, 8, 9), (1, 8, 8)),
    **{
        f"nn.{kind}Pad{d}d": (
            (lambda kind, d: lambda: getattr(nn, f"{kind}Pad{d}d")(1))(kind, d),
            (1, 2) + (3,) * d,
            (3,) * (d + 3),
        )
        for kind in ("Reflection", "Replication", "Circular")
        for d in (1, 2, 3)
    },
    **{
        f"nn.ZeroPad{d}d": ((lambda d: lambda: getattr(nn, f"ZeroPad{d}d")(1))(d), (2,) * d, (2,) * (d - 1))
        for d in (1, 2, 3)
    },
    **{
        f"nn.ConstantPad{d}d": (
            (lambda d: lambda: getattr(nn, f"ConstantPad{d}d")(1, 0.5))(d),
            (2,) * d,
            (2,) * (d - 1),
        )
        for d in (1, 2, 3)
    },
}

# layers that take any shape: lists, views, empty tensors and NaN behave as in the pointwise check
ANY_SHAPE_LAYERS = {
    f"nn.{n}": (lambda n: lambda: getattr(nn, n)())(n)
    for n in [
        "CELU",
        "ELU",
        "GELU",
        "Hardshrink",
        "Hardsigmoid",
        "Hardswish",
        "Hardtanh",
        "LeakyReLU",
        "LogSigmoid",
        "Mish",
        "ReLU",
        "ReLU6",
        "SELU",
        "SiLU",
        "Sigmoid",
        "Softplus",
        "Softshrink",
        "Softsign",
        "Tanh",
        "Tanhshrink",
        "Identity",
        "Dropout",
        "AlphaDropout",
    ]
}
ANY_SHAPE_LAYERS["nn.Threshold"] = lambda: nn.Threshold(0.1, 20.0)

# ---- losses: (loss(input, target), good input, good target, a target of the wrong shape) -----
_p = np.array([[0.2, 0.7, 0.4], [0.9, 0.1, 0.5]], np.float32)
_sign = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]], np.float32)
_cls = np.array([2, 0])
_ELEMENTWISE_LOSSES = {
    "mse_loss": ("MSELoss", _p),
    "l1_loss": ("L1Loss", _p),
    "smooth_l1_loss": ("SmoothL1Loss", _p),
    "huber_loss": ("HuberLoss", _p),
    "binary_cross_entropy": ("BCELoss", _p),
    "binary_cross_entropy_with_logits": ("BCEWithLogitsLoss", _p),
    "kl_div": ("KLDivLoss", _p),
    "soft_margin_loss": ("SoftMarginLoss", _sign),
    "hinge_embedding_loss": ("HingeEmbeddingLoss", _sign),
}
LOSSES = {}


def _module_loss(cls_name):
    return lambda x, t, **kw: getattr(nn, cls_name)(**kw)(x, t)


for _f, (_cls_name, _t) in _ELEMENTWISE_LOSSES.items():
    LOSSES[f"F.{_f}"] = ((lambda f: lambda x, t, **kw: getattr(F, f)(x, t, **kw))(_f), _p, _t, _t[:, :2])
    LOSSES[f"nn.{_cls_name}"] = (_module_loss(_cls_name), _p, _t, _t[:, :2])
for _f, _cls_name in (("cross_entropy", "CrossEntropyLoss"), ("nll_loss", "NLLLoss")):
    LOSSES[f"F.{_f}"] = (
        (lambda f: lambda x, t, **kw: getattr(F, f)(x, t, **kw))(_f),
        _p,
        _cls,
        np.array([0, 1, 2]),
    )
    LOSSES[f"nn.{_cls_name}"] = (_module_loss(_cls_name), _p, _cls, np.array([0, 1, 2]))
_x2 = np.array([[0.1, 0.3, 0.2], [0.4, -0.2, 0.6]], np.float32)
LOSSES["F.margin_ranking_loss"] = (
    lambda x, t, **kw: F.margin_ranking_loss(x, ag.tensor(_x2), t, **kw),
    _p,
    _sign,
    _sign[:, :2],
)
LOSSES["nn.MarginRankingLoss"] = (
    lambda x, t, **kw: nn.MarginRankingLoss(**kw)(x, ag.tensor(_x2), t),
    _p,
    _sign,
    _sign[:, :2],
)
LOSSES["F.cosine_embedding_loss"] = (
    lambda x, t, **kw: F.cosine_embedding_loss(x, ag.tensor(_x2), t, **kw),
    _p,
    np.array([1.0, -1.0], np.float32),
    np.array([1.0, -1.0, 1.0], np.float32),
)
LOSSES["nn.CosineEmbeddingLoss"] = (
    lambda x, t, **kw: nn.CosineEmbeddingLoss(**kw)(x, ag.tensor(_x2), t),
    _p,
    np.array([1.0, -1.0], np.float32),
    np.array([1.0, -1.0, 1.0], np.float32),
)

# ---- optimizers: build(params, **options) ----------------------------------------------------
OPTIMIZERS = {
    "optim.SGD": lambda params, **kw: ag.optim.SGD(params, **{"lr": 0.1, **kw}),
    "optim.Adam": lambda params, **kw: ag.optim.Adam(params, **kw),
    "optim.AdamW": lambda params, **kw: ag.optim.AdamW(params, **kw),
    "optim.RMSprop": lambda params, **kw: ag.optim.RMSprop(params, **kw),
    "optim.Adagrad": lambda params, **kw: ag.optim.Adagrad(params, **kw),
    "optim.Adadelta": lambda params, **kw: ag.optim.Adadelta(params, **kw),
    "optim.Adamax": lambda params, **kw: ag.optim.Adamax(params, **kw),
    "optim.NAdam": lambda params, **kw: ag.optim.NAdam(params, **kw),
    "optim.RAdam": lambda params, **kw: ag.optim.RAdam(params, **kw),
    "optim.Optimizer": lambda params, **kw: ag.optim.Optimizer(params, {"lr": 0.1, **kw}),
}

# ---- schedulers: build(optimizer) with good arguments, and bad-argument cases ------------------
_lrs = ag.optim.lr_scheduler


class _Constant(_lrs.LRScheduler):
    """The smallest concrete scheduler (LRScheduler itself is abstract)."""

    def get_lr(self):
        return list(self.base_lrs)


SCHEDULERS = {
    "lr_scheduler.LRScheduler": lambda o: _Constant(o),
    "lr_scheduler.LambdaLR": lambda o: _lrs.LambdaLR(o, lambda e: 0.9**e),
    "lr_scheduler.StepLR": lambda o: _lrs.StepLR(o, 2),
    "lr_scheduler.MultiStepLR": lambda o: _lrs.MultiStepLR(o, [1, 3]),
    "lr_scheduler.ConstantLR": lambda o: _lrs.ConstantLR(o),
    "lr_scheduler.LinearLR": lambda o: _lrs.LinearLR(o),
    "lr_scheduler.ExponentialLR": lambda o: _lrs.ExponentialLR(o, 0.9),
    "lr_scheduler.CosineAnnealingLR": lambda o: _lrs.CosineAnnealingLR(o, 10),
    "lr_scheduler.SequentialLR": lambda o: _lrs.SequentialLR(
        o, [_lrs.ConstantLR(o), _lrs.ExponentialLR(o, 0.9)], [2]
    ),
    "lr_scheduler.OneCycleLR": lambda o: _lrs.OneCycleLR(o, 1.0, total_steps=10),
    "lr_scheduler.ReduceLROnPlateau": lambda o: _lrs.ReduceLROnPlateau(o),
}
SCHEDULER_BAD = {  # name -> list of (what, build(optimizer)) that must fail clearly
    "lr_scheduler.LambdaLR": [
        ("lr_lambda not callable", lambda o: _lrs.LambdaLR(o, 0.5)),
        ("too many lambdas", lambda o: _lrs.LambdaLR(o, [abs, abs])),
    ],
    "lr_scheduler.StepLR": [
        ("step_size 0", lambda o: _lrs.StepLR(o, 0)),
        ("step_size str", lambda o: _lrs.StepLR(o, "2")),
    ],
    "lr_scheduler.MultiStepLR": [("milestones int", lambda o: _lrs.MultiStepLR(o, 3))],
    "lr_scheduler.ConstantLR": [("factor 2", lambda o: _lrs.ConstantLR(o, factor=2.0))],
    "lr_scheduler.LinearLR": [
        ("start_factor 0", lambda o: _lrs.LinearLR(o, start_factor=0.0)),
        ("end_factor 2", lambda o: _lrs.LinearLR(o, end_factor=2.0)),
    ],
    "lr_scheduler.ExponentialLR": [("gamma str", lambda o: _lrs.ExponentialLR(o, "0.9"))],
    "lr_scheduler.CosineAnnealingLR": [
        ("T_max 0", lambda o: _lrs.CosineAnnealingLR(o, 0)),
        ("T_max str", lambda o: _lrs.CosineAnnealingLR(o, "10")),
    ],
    "lr_scheduler.SequentialLR": [
        ("no schedulers", lambda o: _lrs.SequentialLR(o, [], [])),
        ("milestones count", lambda o: _lrs.SequentialLR(o, [_lrs.ConstantLR(o)], [1, 2])),
    ],
    "lr_scheduler.OneCycleLR": [
        ("total_steps 0", lambda o: _lrs.OneCycleLR(o, 1.0, total_steps=0)),
        ("no length", lambda o: _lrs.OneCycleLR(o, 1.0)),
        ("pct_start 2", lambda o: _lrs.OneCycleLR(o, 1.0, total_steps=5, pct_start=2.0)),
        ("anneal_strategy", lambda o: _lrs.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy="x")),
    ],
    "lr_scheduler.ReduceLROnPlateau": [
        ("factor 1", lambda o: _lrs.ReduceLROnPlateau(o, factor=1.0)),
        ("mode", lambda o: _lrs.ReduceLROnPlateau(o, mode="up")),
        ("threshold_mode", lambda o: _lrs.ReduceLROnPlateau(o, threshold_mode="x")),
    ],
}


# ---- specific cases: (name, what, call, expectation) -----------------------------------------
def raises(exc: type, *fragments: str) -> tuple:
    """The call must raise `exc` clearly, with each fragment in the message."""
    return ("raises", exc, fragments)


def ok(check=None) -> tuple:
    """The call must succeed (and `check(result)` must pass, when given)."""
    return ("ok", check)


def _shape(*shape):
    return lambda out: out.shape == shape or (_ for _ in ()).throw(AssertionError(out.shape))


def _t(*shape, dtype=None, rg=False):
    return ag.ones(*shape, dtype=dtype, requires_grad=rg)


_ro = np.ones((2, 3), np.float32)
_ro.flags.writeable = False
_nc = np.ones((3, 4), np.float32)[:, ::2]
_m = nn.Linear(3, 2)

CASES = [
    # factories
    ("ag.tensor", "ragged list", lambda: ag.tensor([[1, 2], [3]]), raises(ValueError, "tensor")),
    ("ag.tensor", "strings", lambda: ag.tensor(["a", "b"]), raises(TypeError, "tensor")),
    ("ag.tensor", "read-only array is copied", lambda: ag.tensor(_ro) + 1, ok(_shape(2, 3))),
    ("ag.tensor", "bad dtype", lambda: ag.tensor([1.0], dtype="float99"), raises(Exception, "float99")),
    ("ag.Tensor", "object array", lambda: ag.as_tensor(np.array([None, 1])), raises(TypeError)),
    ("ag.Tensor", "non-contiguous view", lambda: ag.as_tensor(_nc).sum(), ok()),
    ("ag.Tensor", "index out of range", lambda: _t(2, 3)[2], raises(IndexError, "2")),
    ("ag.Tensor", "negative index out of range", lambda: _t(2, 3)[:, -4], raises(IndexError, "-4")),
    ("ag.Tensor", "index tensor out of range", lambda: _t(3)[ag.tensor([0, 3])], raises(IndexError, "3")),
    ("ag.Tensor", "bool mask shape", lambda: _t(3)[ag.ones(4, dtype=ag.bool_)], raises(ValueError, "(4,)")),
    ("ag.Tensor", "float index", lambda: _t(3)[1.0], raises(TypeError, "float")),
    ("ag.Tensor", "matmul shapes", lambda: _t(2, 3) @ _t(4, 5), raises(ValueError, "(2, 3)", "(4, 5)")),
    (
        "ag.Tensor",
        "in-place on a leaf that requires grad",
        lambda: _t(2, rg=True).add_(1.0),
        raises(RuntimeError),
    ),
    (
        "ag.Tensor",
        "in-place on a read-only array",
        lambda: ag.as_tensor(_ro).add_(1.0),
        raises(ValueError, "add_", "read-only"),
    ),
    (
        "ag.Tensor",
        "setitem on a read-only array",
        lambda: ag.as_tensor(_ro).__setitem__(0, 1.0),
        raises(ValueError, "__setitem__", "read-only"),
    ),
    (
        "optim.SGD",
        "read-only parameter",
        lambda: _step(ag.optim.SGD, _ro),
        raises(ValueError, "SGD", "read-only"),
    ),
    (
        "init.zeros_",
        "read-only tensor",
        lambda: init.zeros_(ag.as_tensor(_ro)),
        raises(ValueError, "read-only"),
    ),
    (
        "ag.Tensor",
        "backward through read-only input",
        lambda: _backward((ag.as_tensor(_ro).requires_grad_() * 2.0).sum()),
        ok(),
    ),
    (
        "ag.device",
        "accelerator used",
        lambda: ag.zeros(2, device=ag.device("cuda")),
        raises(RuntimeError, "CPU only"),
    ),
    ("ag.device", "unknown type", lambda: ag.device("gpu"), raises(RuntimeError, "gpu")),
    ("ag.device", "not a string", lambda: ag.device(3.5), raises(TypeError, "device")),
    ("ag.as_tensor", "ragged list", lambda: ag.as_tensor([[1, 2], [3]]), raises(ValueError, "tensor")),
    ("ag.as_tensor", "strings", lambda: ag.as_tensor(["a", "b"]), raises(TypeError, "tensor")),
    (
        "ag.from_numpy",
        "a list (PyTorch's TypeError)",
        lambda: ag.from_numpy([1.0, 2.0]),
        raises(TypeError, "from_numpy"),
    ),
    ("ag.from_numpy", "read-only", lambda: ag.from_numpy(_ro) * 2, ok(_shape(2, 3))),
    ("ag.zeros", "negative size", lambda: ag.zeros(2, -1), raises(ValueError, "-1")),
    ("ag.ones", "float size", lambda: ag.ones(2.5), raises(TypeError, "2.5")),
    ("ag.reshape", "float size", lambda: ag.reshape(_t(6), (2, 3.0)), raises(TypeError, "3.0")),
    ("ag.empty", "negative size", lambda: ag.empty(-3), raises(ValueError, "-3")),
    ("ag.full", "negative size", lambda: ag.full((2, -2), 1.0), raises(ValueError, "-2")),
    ("ag.full", "string fill", lambda: ag.full((2,), "x"), raises(TypeError)),
    ("ag.rand", "negative size", lambda: ag.rand(-1), raises(ValueError, "-1")),
    ("ag.randn", "str size", lambda: ag.randn("3"), raises(TypeError)),
    ("ag.randint", "low >= high", lambda: ag.randint(5, 2, (3,)), raises(ValueError, "randint")),
    ("ag.randperm", "negative n", lambda: ag.randperm(-1), raises(ValueError, "randperm")),
    ("ag.arange", "zero step", lambda: ag.arange(0, 5, 0), raises(ValueError, "arange")),
    ("ag.arange", "string end", lambda: ag.arange(0, "5"), raises(TypeError, "arange")),
    ("ag.arange", "NaN end", lambda: ag.arange(0, float("nan")), raises(ValueError, "arange")),
    ("ag.linspace", "negative steps", lambda: ag.linspace(0, 1, -2), raises(ValueError, "linspace")),
    ("ag.eye", "negative n", lambda: ag.eye(-2), raises(ValueError, "eye")),
    ("ag.zeros_like", "list", lambda: ag.zeros_like([[1.0, 2.0]]), ok(_shape(1, 2))),
    ("ag.ones_like", "list", lambda: ag.ones_like([1.0, 2.0]), ok(_shape(2))),
    ("ag.full_like", "list", lambda: ag.full_like([1.0, 2.0], 3.0), ok(_shape(2))),
    ("ag.empty_like", "list", lambda: ag.empty_like([1.0, 2.0]), ok(_shape(2))),
    ("ag.rand_like", "int tensor", lambda: ag.rand_like(ag.tensor([1, 2])), raises(TypeError)),
    ("ag.randn_like", "int tensor", lambda: ag.randn_like(ag.tensor([1, 2])), raises(TypeError)),
    # shape ops
    (
        "ag.reshape",
        "wrong numel",
        lambda: ag.reshape(_t(2, 3), (4, 2)),
        raises(ValueError, "(2, 3)", "(4, 2)"),
    ),
    ("ag.reshape", "two -1", lambda: ag.reshape(_t(2, 3), (-1, -1)), raises(ValueError)),
    ("ag.reshape", "list input", lambda: ag.reshape([[1.0, 2.0]], (2,)), ok(_shape(2))),
    (
        "ag.broadcast_to",
        "incompatible",
        lambda: ag.broadcast_to(_t(2, 3), (4, 3)),
        raises(ValueError, "(2, 3)", "(4, 3)"),
    ),
    (
        "ag.broadcast_tensors",
        "incompatible",
        lambda: ag.broadcast_tensors(_t(2, 3), _t(4)),
        raises(ValueError, "(2, 3)", "(4,)"),
    ),
    ("ag.permute", "not a permutation", lambda: ag.permute(_t(2, 3), (0, 0)), raises(ValueError)),
    ("ag.permute", "too few dims", lambda: ag.permute(_t(2, 3), (0,)), raises(ValueError)),
    ("ag.tile", "negative", lambda: ag.tile(_t(2), (-1,)), raises(ValueError, "-1")),
    ("ag.pad", "odd pad length", lambda: ag.pad(_t(2, 3), (1,)), raises(ValueError, "pad")),
    ("ag.pad", "too many pads", lambda: ag.pad(_t(3), (1, 1, 1, 1)), raises(ValueError, "pad")),
    ("ag.pad", "bad mode", lambda: ag.pad(_t(1, 3), (1, 1), mode="wrap"), raises(ValueError, "wrap")),
    (
        "ag.pad",
        "reflect too wide",
        lambda: ag.pad(_t(1, 3), (3, 3), mode="reflect"),
        raises(ValueError, "pad"),
    ),
    ("ag.pad", "negative crops", lambda: ag.pad(_t(2, 3), (-1, 0)), ok(_shape(2, 2))),
    (
        "ag.einsum",
        "mismatched dims",
        lambda: ag.einsum("ij,jk->ik", _t(2, 3), _t(4, 2)),
        raises(ValueError, "einsum"),
    ),
    (
        "ag.einsum",
        "wrong operand count",
        lambda: ag.einsum("ij,jk->ik", _t(2, 3)),
        raises(ValueError, "einsum"),
    ),
    ("ag.einsum", "bad equation", lambda: ag.einsum("i$->i", _t(2)), raises(ValueError, "einsum")),
    ("ag.tril", "1-d", lambda: ag.tril(_t(3)), raises(ValueError, "tril")),
    ("ag.triu", "1-d", lambda: ag.triu(_t(3)), raises(ValueError, "triu")),
    ("ag.diag", "3-d", lambda: ag.diag(_t(2, 2, 2)), raises(ValueError, "diag")),
    ("ag.diag_embed", "same dims", lambda: ag.diag_embed(_t(3), 0, 0, 0), raises(ValueError)),
    ("ag.trace", "1-d", lambda: ag.trace(_t(3)), raises(ValueError, "trace")),
    ("ag.hstack", "empty list", lambda: ag.hstack([]), raises(ValueError, "hstack")),
    (
        "ag.vstack",
        "mismatched",
        lambda: ag.vstack([_t(2, 3), _t(2, 4)]),
        raises(ValueError, "(2, 3)", "(2, 4)"),
    ),
    ("ag.cat", "mismatched", lambda: ag.cat([_t(2, 3), _t(3, 4)]), raises(ValueError, "(3, 4)")),
    ("ag.cat", "a tensor is a sequence of rows", lambda: ag.cat(_t(2, 3), 0), ok(_shape(6))),
    ("ag.stack", "mismatched", lambda: ag.stack([_t(2, 3), _t(2, 4)]), raises(ValueError, "(2, 4)")),
    (
        "ag.masked_fill",
        "mask shape",
        lambda: ag.masked_fill(_t(2, 3), ag.ones(4, dtype=ag.bool_), 0.0),
        raises(ValueError, "(2, 3)"),
    ),
    (
        "ag.masked_fill",
        "float mask",
        lambda: ag.masked_fill(_t(2, 3), _t(2, 3), 0.0),
        raises(TypeError, "masked_fill"),
    ),
    (
        "ag.masked_select",
        "mask shape",
        lambda: ag.masked_select(_t(2, 3), ag.ones(4, dtype=ag.bool_)),
        raises(ValueError, "(2, 3)"),
    ),
    (
        "ag.gather",
        "index out of range",
        lambda: ag.gather(_t(2, 3), 1, ag.tensor([[5], [0]])),
        raises(IndexError, "5"),
    ),
    (
        "ag.gather",
        "negative index",
        lambda: ag.gather(_t(2, 3), 1, ag.tensor([[-1], [0]])),
        raises(IndexError, "-1"),
    ),
    ("ag.gather", "float index", lambda: ag.gather(_t(2, 3), 1, _t(2, 1)), raises(TypeError)),
    (
        "ag.scatter_add",
        "index out of range",
        lambda: ag.scatter_add(_t(2, 3), 1, ag.tensor([[7]]), _t(1, 1)),
        raises(IndexError, "7"),
    ),
    (
        "ag.index_select",
        "index out of range",
        lambda: ag.index_select(_t(2, 3), 0, ag.tensor([2])),
        raises(IndexError, "2"),
    ),
    (
        "ag.index_add",
        "source shape",
        lambda: ag.index_add(_t(2, 3), 0, ag.tensor([0]), _t(2, 3)),
        raises(ValueError, "index_add"),
    ),
    (
        "ag.take_along_dim",
        "out of range",
        lambda: ag.take_along_dim(_t(2, 3), ag.tensor([[9]]), 1),
        raises(IndexError, "9"),
    ),
    ("ag.narrow", "past the end", lambda: ag.narrow(_t(2, 3), 1, 2, 5), raises(ValueError, "5")),
    ("ag.split", "zero size", lambda: ag.split(_t(2, 3), 0, 1), raises(ValueError, "split")),
    ("ag.split", "sections don't add up", lambda: ag.split(_t(2, 3), [1, 1], 1), raises(ValueError, "split")),
    ("ag.chunk", "zero chunks", lambda: ag.chunk(_t(2, 3), 0), raises(ValueError, "chunk")),
    (
        "ag.repeat_interleave",
        "negative",
        lambda: ag.repeat_interleave(_t(3), -1),
        raises(ValueError, "repeat_interleave"),
    ),
    (
        "ag.unflatten",
        "sizes don't multiply",
        lambda: ag.unflatten(_t(2, 6), 1, (4, 2)),
        raises(ValueError, "unflatten"),
    ),
    ("ag.squeeze", "non-1 dim is kept", lambda: ag.squeeze(_t(2, 3), 0), ok(_shape(2, 3))),
    ("ag.topk", "k too big", lambda: ag.topk(_t(2, 3), 4), raises(ag.OpIndexError, "k=4")),
    ("ag.kthvalue", "k zero", lambda: ag.kthvalue(_t(2, 3), 0), raises(ag.OpIndexError, "k=0")),
    ("ag.max", "empty", lambda: ag.max(ag.zeros(0)), raises(ValueError, "max")),
    ("ag.argmax", "empty", lambda: ag.argmax(ag.zeros(0, 3), 0), raises(ValueError, "argmax")),
    ("ag.median", "empty", lambda: ag.median(ag.zeros(0)), raises(ValueError, "median")),
    ("ag.sum", "empty", lambda: ag.sum(ag.zeros(0, 3), 0), ok(_shape(3))),
    ("ag.mean", "int tensor", lambda: ag.mean(ag.tensor([1, 2])), raises(TypeError, "mean")),
    ("ag.std", "int tensor", lambda: ag.std(ag.tensor([1, 2])), raises(TypeError, "std")),
    ("ag.norm", "bad p", lambda: ag.norm(_t(3), p="nuc2"), raises(ValueError, "norm")),
    ("ag.logsumexp", "int tensor", lambda: ag.logsumexp(ag.tensor([1, 2]), 0), ok()),
    ("ag.softmax", "int tensor", lambda: ag.softmax(ag.tensor([1, 2]), 0), raises(TypeError, "softmax")),
    # pointwise specifics
    ("ag.clamp", "min > max", lambda: ag.clamp(_t(3), 1.0, 0.0), ok()),
    ("ag.clamp", "no bounds", lambda: ag.clamp(_t(3)), raises(ValueError, "clamp")),
    (
        "ag.lerp",
        "int tensors",
        lambda: ag.lerp(ag.tensor([1]), ag.tensor([2]), 0.5),
        raises(TypeError, "lerp"),
    ),
    ("ag.where", "float condition", lambda: ag.where(_t(2), _t(2), _t(2)), ok(_shape(2))),
    (
        "ag.pow",
        "negative int exponent",
        lambda: ag.pow(ag.tensor([2]), -1),
        raises(TypeError, "Integers to negative integer powers are not allowed"),
    ),
    (
        "ag.pow",
        "negative float exponent of an int tensor",
        lambda: ag.pow(ag.tensor([2]), -1.0),
        ok(lambda out: np.allclose(out.numpy(), 0.5) or (_ for _ in ()).throw(AssertionError(out))),
    ),
    (
        "ag.pow",
        "int tensor exponents below zero",
        lambda: ag.pow(ag.tensor([2, 1]), ag.tensor([-1, -1])),
        ok(lambda out: np.array_equal(out.numpy(), [0, 1]) or (_ for _ in ()).throw(AssertionError(out))),
    ),
    # L-BFGS: step() needs a closure, so it is checked here rather than in OPTIMIZERS
    ("optim.LBFGS", "no closure", lambda: ag.optim.LBFGS([_w(2)]).step(), raises(TypeError, "closure")),
    (
        "optim.LBFGS",
        "negative lr",
        lambda: ag.optim.LBFGS([_w(2)], lr=-1.0),
        raises(ValueError, "learning rate"),
    ),
    (
        "optim.LBFGS",
        "two parameter groups",
        lambda: ag.optim.LBFGS([{"params": [_w(2)]}, {"params": [_w(2)]}]),
        raises(ValueError, "groups"),
    ),
    (
        "optim.LBFGS",
        "unknown line search",
        lambda: ag.optim.LBFGS([_w(2)], line_search_fn="x"),
        raises(ValueError, "strong_wolfe"),
    ),
    (
        "optim.LBFGS",
        "gradient of the wrong shape",
        lambda: _lbfgs_bad_grad(),
        raises(ValueError, "LBFGS", "(3,)"),
    ),
    ("optim.LBFGS", "empty params", lambda: ag.optim.LBFGS([]), raises(ValueError, "empty")),
    # comparison, grid and scatter functions (issue 11)
    (
        "ag.isclose",
        "dtype mismatch",
        lambda: ag.isclose(ag.tensor([1]), ag.tensor([1.0])),
        raises(TypeError, "same dtype"),
    ),
    ("ag.allclose", "shapes", lambda: ag.allclose(_t(2, 3), _t(4)), raises(ValueError, "(2, 3)")),
    (
        "ag.allclose",
        "negative atol",
        lambda: ag.allclose(_t(2), _t(2), atol=-1.0),
        raises(ValueError, "atol"),
    ),
    (
        "ag.equal",
        "different shapes are not equal",
        lambda: ag.equal(_t(2), _t(3)),
        ok(lambda out: out is False or (_ for _ in ()).throw(AssertionError(out))),
    ),
    ("ag.equal", "not a tensor", lambda: ag.equal(_t(2), [1.0, 1.0]), raises(TypeError, "equal")),
    ("ag.meshgrid", "2-d input", lambda: ag.meshgrid(_t(2, 2), indexing="ij"), raises(ValueError, "(2, 2)")),
    (
        "ag.meshgrid",
        "bad indexing",
        lambda: ag.meshgrid(_t(2), indexing="yx"),
        raises(ValueError, "indexing"),
    ),
    ("ag.meshgrid", "nothing to grid", lambda: ag.meshgrid(indexing="ij"), raises(ValueError, "meshgrid")),
    (
        "ag.scatter",
        "index out of range",
        lambda: ag.scatter(_t(2, 3), 1, ag.tensor([[3]]), 1.0),
        raises(IndexError, "3"),
    ),
    ("ag.scatter", "float index", lambda: ag.scatter(_t(2, 3), 1, _t(1, 1), 1.0), raises(TypeError, "index")),
    (
        "ag.scatter",
        "bad reduce",
        lambda: ag.scatter(_t(2, 3), 1, ag.tensor([[0]]), _t(1, 1), reduce="max"),
        raises(ValueError, "reduce"),
    ),
    (
        "ag.scatter_reduce",
        "bad reduce",
        lambda: ag.scatter_reduce(_t(2, 3), 1, ag.tensor([[0]]), _t(1, 1), "max"),
        raises(ValueError, "amax"),
    ),
    (
        "ag.scatter_reduce",
        "src smaller than index",
        lambda: ag.scatter_reduce(_t(2, 3), 1, ag.tensor([[0, 1]]), _t(1, 1), "sum"),
        raises(ValueError, "(1, 2)"),
    ),
    (
        "ag.scatter_reduce",
        "0-d input",
        lambda: ag.scatter_reduce(ag.tensor(1.0), 0, ag.tensor([0]), _t(1), "sum"),
        raises(ValueError, "0-d"),
    ),
    ("ag.roll", "float shifts", lambda: ag.roll(_t(3), 1.5), raises(ValueError, "shifts")),
    (
        "ag.linspace",
        "integer dtype",
        lambda: ag.linspace(0, 10, 4, dtype=ag.int64),
        ok(
            lambda out: (
                np.array_equal(out.numpy(), [0, 3, 6, 10]) or (_ for _ in ()).throw(AssertionError(out))
            )
        ),
    ),
    (
        "ag.div",
        "bad rounding_mode",
        lambda: ag.div(_t(2), 2.0, rounding_mode="up"),
        raises(ValueError, "rounding_mode"),
    ),
    (
        "ag.floor_divide",
        "int by zero",
        lambda: ag.floor_divide(ag.tensor([1]), 0),
        raises(ZeroDivisionError, "floor_divide"),
    ),
    (
        "ag.remainder",
        "int by zero",
        lambda: ag.remainder(ag.tensor([1]), 0),
        raises(ZeroDivisionError, "remainder"),
    ),
    ("ag.bitwise_and", "float", lambda: ag.bitwise_and(_t(2), _t(2)), raises(TypeError, "float")),
    ("ag.bitwise_left_shift", "float", lambda: ag.bitwise_left_shift(_t(2), 1), raises(TypeError, "float")),
    ("ag.neg", "bool", lambda: ag.neg(ag.tensor([True])), raises(TypeError, "neg")),
    (
        "ag.nan_to_num",
        "NaN and Inf",
        lambda: ag.nan_to_num(ag.tensor([np.nan, np.inf])),
        ok(lambda out: np.isfinite(out.numpy()).all() or (_ for _ in ()).throw(AssertionError())),
    ),
]

_img = lambda *s: ag.ones(*s)
CASES += [
    # F.* with weights or windows
    (
        "F.linear",
        "in_features mismatch",
        lambda: F.linear(_img(2, 3), _img(4, 5)),
        raises(ValueError, "linear", "(2, 3)", "(4, 5)"),
    ),
    (
        "F.linear",
        "bias shape",
        lambda: F.linear(_img(2, 3), _img(4, 3), _img(5)),
        raises(ValueError, "linear", "(5,)"),
    ),
    (
        "F.linear",
        "list input",
        lambda: F.linear([[1.0, 2.0, 3.0]], _img(4, 3)),
        raises(TypeError, "linear()", "'input'", "list"),
    ),
    (
        "F.linear",
        "float64 input, float32 weight",
        lambda: F.linear(ag.ones(1, 3, dtype=ag.float64), _img(4, 3)),
        raises(RuntimeError, "float64", "float32"),
    ),
    (
        "F.bilinear",
        "in2_features mismatch",
        lambda: F.bilinear(_img(2, 3), _img(2, 4), _img(5, 3, 3)),
        raises(ValueError, "(2, 4)"),
    ),
    (
        "F.conv1d",
        "channel mismatch",
        lambda: F.conv1d(_img(1, 2, 8), _img(4, 3, 3)),
        raises(ValueError, "2 channels", "(4, 3, 3)"),
    ),
    (
        "F.conv1d",
        "kernel larger than input",
        lambda: F.conv1d(_img(1, 3, 2), _img(4, 3, 5)),
        raises(ValueError, "conv1d"),
    ),
    (
        "F.conv2d",
        "channel mismatch",
        lambda: F.conv2d(_img(1, 2, 8, 8), _img(4, 3, 3, 3)),
        raises(ValueError, "2 channels", "(4, 3, 3, 3)"),
    ),
    ("F.conv2d", "rank", lambda: F.conv2d(_img(8, 8), _img(4, 3, 3, 3)), raises(ValueError, "(8, 8)")),
    (
        "F.conv2d",
        "zero stride",
        lambda: F.conv2d(_img(1, 3, 8, 8), _img(4, 3, 3, 3), stride=0),
        raises(ValueError, "stride"),
    ),
    (
        "F.conv2d",
        "negative padding",
        lambda: F.conv2d(_img(1, 3, 8, 8), _img(4, 3, 3, 3), padding=-1),
        raises(ValueError, "padding"),
    ),
    (
        "F.conv2d",
        "groups don't divide",
        lambda: F.conv2d(_img(1, 3, 8, 8), _img(4, 3, 3, 3), groups=2),
        raises(ValueError, "groups"),
    ),
    (
        "F.conv2d",
        "bias shape",
        lambda: F.conv2d(_img(1, 3, 8, 8), _img(4, 3, 3, 3), _img(5)),
        raises(ValueError, "(5,)"),
    ),
    (
        "F.conv2d",
        "list input",
        lambda: F.conv2d(np.ones((1, 3, 4, 4)).tolist(), _img(4, 3, 3, 3)),
        raises(TypeError, "conv2d"),
    ),
    (
        "F.conv2d",
        "non-contiguous input",
        lambda: F.conv2d(ag.as_tensor(np.ones((1, 3, 8, 8), np.float32)[..., ::2]), _img(4, 3, 3, 3)),
        ok(_shape(1, 4, 6, 2)),
    ),
    ("F.conv2d", "empty batch", lambda: F.conv2d(_img(0, 3, 8, 8), _img(4, 3, 3, 3)), ok(_shape(0, 4, 6, 6))),
    (
        "F.conv_transpose1d",
        "channel mismatch",
        lambda: F.conv_transpose1d(_img(1, 2, 8), _img(3, 4, 3)),
        raises(ValueError, "2 channels", "(3, 4, 3)"),
    ),
    (
        "F.conv_transpose2d",
        "channel mismatch",
        lambda: F.conv_transpose2d(_img(1, 2, 8, 8), _img(3, 4, 3, 3)),
        raises(ValueError, "2 channels", "(3, 4, 3, 3)"),
    ),
    (
        "F.conv_transpose2d",
        "output_padding too big",
        lambda: F.conv_transpose2d(_img(1, 3, 4, 4), _img(3, 4, 3, 3), stride=2, output_padding=2),
        raises(ValueError, "output_padding"),
    ),
    (
        "F.max_pool1d",
        "kernel larger than input",
        lambda: F.max_pool1d(_img(1, 2, 3), 5),
        raises(ValueError, "max_pool1d"),
    ),
    (
        "F.max_pool2d",
        "zero kernel",
        lambda: F.max_pool2d(_img(1, 2, 4, 4), 0),
        raises(ValueError, "max_pool2d"),
    ),
    (
        "F.max_pool2d",
        "padding over half kernel",
        lambda: F.max_pool2d(_img(1, 2, 4, 4), 2, padding=2),
        raises(ValueError, "pad"),
    ),
    (
        "F.max_pool2d",
        "NaN input",
        lambda: F.max_pool2d(ag.full((1, 1, 2, 2), float("nan")), 2),
        ok(lambda out: np.isnan(out.numpy()).all() or (_ for _ in ()).throw(AssertionError())),
    ),
    ("F.avg_pool1d", "rank", lambda: F.avg_pool1d(_img(3), 2), raises(ValueError, "(3,)")),
    (
        "F.avg_pool2d",
        "negative stride",
        lambda: F.avg_pool2d(_img(1, 2, 4, 4), 2, stride=-1),
        raises(ValueError, "stride"),
    ),
    (
        "F.adaptive_avg_pool1d",
        "zero output",
        lambda: F.adaptive_avg_pool1d(_img(1, 2, 4), 0),
        raises(ValueError, "adaptive_avg_pool1d"),
    ),
    (
        "F.adaptive_avg_pool2d",
        "negative output",
        lambda: F.adaptive_avg_pool2d(_img(1, 2, 4, 4), -1),
        raises(ValueError, "adaptive_avg_pool2d"),
    ),
    ("F.adaptive_max_pool1d", "rank", lambda: F.adaptive_max_pool1d(_img(4), 2), raises(ValueError, "(4,)")),
    ("F.adaptive_max_pool2d", "rank", lambda: F.adaptive_max_pool2d(_img(4), 2), raises(ValueError, "(4,)")),
    (
        "F.interpolate",
        "no size or scale",
        lambda: F.interpolate(_img(1, 2, 4, 4)),
        raises(ValueError, "interpolate"),
    ),
    (
        "F.interpolate",
        "bad mode",
        lambda: F.interpolate(_img(1, 2, 4, 4), scale_factor=2, mode="cubic9"),
        raises(ValueError, "cubic9"),
    ),
    ("F.interpolate", "rank", lambda: F.interpolate(_img(4), scale_factor=2), raises(ValueError, "(4,)")),
    (
        "F.upsample_nearest",
        "rank",
        lambda: F.upsample_nearest(_img(4), scale_factor=2),
        raises(ValueError, "(4,)"),
    ),
    (
        "F.upsample_bilinear",
        "3-d input",
        lambda: F.upsample_bilinear(_img(1, 2, 4), size=3),
        raises(ValueError, "bilinear", "(1, 2, 4)"),
    ),
    (
        "F.interpolate",
        "trilinear on 4-d",
        lambda: F.interpolate(_img(1, 2, 4, 4), size=3, mode="trilinear"),
        raises(ValueError, "5-D"),
    ),
    (
        "F.interpolate",
        "integer input, nearest",
        lambda: F.interpolate(ag.ones(1, 1, 2, 2, dtype=ag.int64), scale_factor=2),
        ok(_shape(1, 1, 4, 4)),
    ),
    ("F.upsample", "negative size", lambda: F.upsample(_img(1, 2, 4, 4), size=-2), raises(ValueError, "-2")),
    ("F.pad", "odd pad length", lambda: F.pad(_img(2, 3), (1, 2, 3)), raises(ValueError, "pad")),
    (
        "F.embedding",
        "index out of range",
        lambda: F.embedding(ag.tensor([5]), _img(5, 3)),
        raises(IndexError, "5"),
    ),
    (
        "F.embedding",
        "negative index",
        lambda: F.embedding(ag.tensor([-1]), _img(5, 3)),
        raises(IndexError, "-1"),
    ),
    ("F.embedding", "float index", lambda: F.embedding(_img(2), _img(5, 3)), raises(TypeError)),
    (
        "F.embedding",
        "list index",
        lambda: F.embedding([[0, 1]], _img(5, 3)),
        raises(TypeError, "embedding()", "list"),
    ),
    (
        "F.embedding",
        "1-d weight",
        lambda: F.embedding(ag.tensor([0]), _img(5)),
        raises(ValueError, "embedding"),
    ),
    ("F.one_hot", "out of range", lambda: F.one_hot(ag.tensor([3]), 3), raises(IndexError, "3")),
    ("F.one_hot", "negative", lambda: F.one_hot(ag.tensor([-1]), 3), raises(IndexError, "-1")),
    ("F.one_hot", "float", lambda: F.one_hot(_img(2), 3), raises(TypeError, "one_hot")),
    ("F.one_hot", "empty", lambda: F.one_hot(ag.tensor(np.zeros(0, np.int64)), 3), ok(_shape(0, 3))),
    ("F.prelu", "weight count", lambda: F.prelu(_img(2, 3), _img(4)), raises(ValueError, "prelu")),
    (
        "F.batch_norm",
        "running stats shape",
        lambda: F.batch_norm(_img(4, 3), _img(5), _img(5)),
        raises(ValueError, "(4, 3)"),
    ),
    (
        "F.batch_norm",
        "one value per channel in training",
        lambda: F.batch_norm(_img(1, 3), None, None, training=True),
        raises(ValueError, "batch_norm"),
    ),
    ("F.layer_norm", "shape", lambda: F.layer_norm(_img(2, 3), (4,)), raises(ValueError, "(2, 3)")),
    ("F.rms_norm", "shape", lambda: F.rms_norm(_img(2, 3), (4,)), raises(ValueError, "(2, 3)")),
    (
        "F.group_norm",
        "groups don't divide",
        lambda: F.group_norm(_img(2, 4, 3), 3),
        raises(ValueError, "group_norm"),
    ),
    (
        "F.instance_norm",
        "weight shape",
        lambda: F.instance_norm(_img(2, 3, 4), weight=_img(5)),
        raises(ValueError, "instance_norm"),
    ),
    ("F.dropout", "p > 1", lambda: F.dropout(_img(3), 1.5), raises(ValueError, "1.5")),
    ("F.dropout", "p str", lambda: F.dropout(_img(3), "0.5"), raises(TypeError, "dropout")),
    ("F.dropout1d", "rank", lambda: F.dropout1d(_img(3)), raises(ValueError, "(3,)")),
    (
        "F.dropout2d",
        "1-d input in training",
        lambda: _warns(lambda: F.dropout2d(_img(3))),
        raises(ValueError, "(3,)"),
    ),
    (
        "F.dropout2d",
        "2-d input warns and drops elements, as PyTorch",
        lambda: _warns(lambda: F.dropout2d(_img(2, 3))),
        ok(_shape(2, 3)),
    ),
    (
        "F.dropout3d",
        "1-d input warns and runs, as PyTorch",
        lambda: _warns(lambda: F.dropout3d(_img(3))),
        ok(_shape(3)),
    ),
    (
        "nn.Dropout2d",
        "1-d input in training",
        lambda: _warns(lambda: nn.Dropout2d()(_img(3))),
        raises(ValueError, "(3,)"),
    ),
    (
        "nn.Dropout2d",
        "1-d input in eval warns and passes through",
        lambda: _warns(lambda: nn.Dropout2d().eval()(_img(3))),
        ok(_shape(3)),
    ),
    (
        "nn.Dropout3d",
        "0-d input in training",
        lambda: _warns(lambda: nn.Dropout3d()(_img())),
        raises(ValueError, "(1,)"),
    ),
    ("nn.Dropout3d", "p > 1", lambda: nn.Dropout3d(1.5), raises(ValueError, "1.5")),
    # 3-D convolution and pooling, unpooling, fold / unfold, pixel shuffle (issue 11)
    (
        "F.conv3d",
        "channel mismatch",
        lambda: F.conv3d(_img(1, 2, 4, 4, 4), _img(4, 3, 3, 3, 3)),
        raises(ValueError, "2 channels", "(4, 3, 3, 3, 3)"),
    ),
    (
        "F.conv3d",
        "kernel larger than input",
        lambda: F.conv3d(_img(1, 3, 2, 4, 4), _img(4, 3, 3, 3, 3)),
        raises(ValueError, "conv3d", "larger"),
    ),
    (
        "F.conv3d",
        "2-d weight",
        lambda: F.conv3d(_img(1, 3, 4, 4, 4), _img(4, 3)),
        raises(ValueError, "(4, 3)"),
    ),
    (
        "F.conv3d",
        "strided 'same'",
        lambda: F.conv3d(_img(1, 3, 4, 4, 4), _img(4, 3, 3, 3, 3), stride=2, padding="same"),
        raises(ValueError, "same"),
    ),
    (
        "F.conv_transpose3d",
        "channel mismatch",
        lambda: F.conv_transpose3d(_img(1, 2, 3, 3, 3), _img(3, 4, 3, 3, 3)),
        raises(ValueError, "2 channels"),
    ),
    (
        "F.conv_transpose3d",
        "output_padding too big",
        lambda: F.conv_transpose3d(_img(1, 3, 3, 3, 3), _img(3, 4, 3, 3, 3), stride=2, output_padding=2),
        raises(ValueError, "output_padding"),
    ),
    (
        "F.max_pool3d",
        "kernel larger than input",
        lambda: F.max_pool3d(_img(1, 2, 3, 3, 3), 4),
        raises(ValueError, "max_pool3d"),
    ),
    (
        "F.max_pool3d",
        "integer input pools",
        lambda: F.max_pool3d(ag.ones(1, 1, 2, 2, 2, dtype=ag.int64), 2),
        ok(_shape(1, 1, 1, 1, 1)),
    ),
    (
        "F.max_pool3d",
        "bool input",
        lambda: F.max_pool3d(ag.ones(1, 1, 2, 2, 2, dtype=ag.bool_), 2),
        raises(TypeError, "bool"),
    ),
    (
        "F.max_pool2d",
        "integer input pools (forward only)",
        lambda: F.max_pool2d(ag.ones(1, 1, 4, 4, dtype=ag.int32), 2),
        ok(_shape(1, 1, 2, 2)),
    ),
    ("F.avg_pool3d", "rank", lambda: F.avg_pool3d(_img(3, 3), 2), raises(ValueError, "(3, 3)")),
    (
        "F.avg_pool3d",
        "padding over half kernel",
        lambda: F.avg_pool3d(_img(1, 1, 4, 4, 4), 2, padding=2),
        raises(ValueError, "pad"),
    ),
    (
        "F.adaptive_avg_pool3d",
        "zero output",
        lambda: F.adaptive_avg_pool3d(_img(1, 2, 4, 4, 4), 0),
        raises(ValueError, "adaptive_avg_pool3d"),
    ),
    ("F.adaptive_max_pool3d", "rank", lambda: F.adaptive_max_pool3d(_img(4), 2), raises(ValueError, "(4,)")),
    (
        "F.max_unpool1d",
        "index out of range",
        lambda: F.max_unpool1d(_img(1, 1, 2), ag.tensor([[[0, 9]]]), 2),
        raises(IndexError, "9"),
    ),
    (
        "F.max_unpool2d",
        "indices shape",
        lambda: F.max_unpool2d(_img(1, 1, 2, 2), ag.zeros(1, 1, 2, dtype=ag.int64), 2),
        raises(ValueError, "(1, 1, 2)"),
    ),
    (
        "F.max_unpool2d",
        "output_size out of range",
        lambda: F.max_unpool2d(_img(1, 1, 2, 2), ag.zeros(1, 1, 2, 2, dtype=ag.int64), 2, output_size=(9, 9)),
        raises(ValueError, "output_size"),
    ),
    (
        "F.max_unpool3d",
        "float indices",
        lambda: F.max_unpool3d(_img(1, 1, 1, 1, 1), _img(1, 1, 1, 1, 1), 2),
        raises(ValueError, "integer"),
    ),
    (
        "nn.MaxUnpool1d",
        "index out of range",
        lambda: nn.MaxUnpool1d(2)(_img(1, 1, 2), ag.tensor([[[0, -1]]])),
        raises(IndexError, "-1"),
    ),
    (
        "nn.MaxUnpool2d",
        "round trip",
        lambda: nn.MaxUnpool2d(2)(*F.max_pool2d(_img(1, 1, 4, 4), 2, return_indices=True)),
        ok(_shape(1, 1, 4, 4)),
    ),
    (
        "nn.MaxUnpool3d",
        "rank",
        lambda: nn.MaxUnpool3d(2)(_img(2, 2), ag.zeros(2, 2, dtype=ag.int64)),
        raises(ValueError, "(2, 2)"),
    ),
    ("F.unfold", "rank", lambda: F.unfold(_img(4, 4), 2), raises(ValueError, "(4, 4)")),
    (
        "F.unfold",
        "kernel larger than input",
        lambda: F.unfold(_img(1, 1, 2, 2), 3),
        raises(ValueError, "unfold"),
    ),
    (
        "F.unfold",
        "integer input",
        lambda: F.unfold(ag.ones(1, 1, 3, 3, dtype=ag.int64), 2),
        raises(TypeError, "int64"),
    ),
    ("F.fold", "block count", lambda: F.fold(_img(1, 8, 8), (4, 4), 2), raises(ValueError, "fold")),
    (
        "F.fold",
        "channels not a multiple of the kernel",
        lambda: F.fold(_img(1, 7, 9), (4, 4), 2),
        raises(ValueError, "divisible"),
    ),
    (
        "F.pixel_shuffle",
        "channels",
        lambda: F.pixel_shuffle(_img(1, 5, 2, 2), 2),
        raises(ValueError, "divisible"),
    ),
    (
        "F.pixel_shuffle",
        "zero factor",
        lambda: F.pixel_shuffle(_img(1, 4, 2, 2), 0),
        raises(ValueError, "positive"),
    ),
    (
        "F.pixel_unshuffle",
        "height",
        lambda: F.pixel_unshuffle(_img(1, 1, 3, 4), 2),
        raises(ValueError, "height"),
    ),
    (
        "F.pad",
        "negative reflect padding crops",
        lambda: F.pad(_img(1, 6), (-1, 2), mode="reflect"),
        ok(_shape(1, 7)),
    ),
    (
        "F.pad",
        "replicate padding leaving nothing",
        lambda: F.pad(_img(1, 6), (0, -6), mode="replicate"),
        raises(ValueError, "at least 1"),
    ),
    (
        "F.pad",
        "circular wrap past the cropped size",
        lambda: F.pad(_img(1, 6), (3, -4), mode="circular"),
        raises(ValueError, "more than once"),
    ),
    (
        "nn.ReflectionPad2d",
        "wrong padding length",
        lambda: nn.ReflectionPad2d((1, 2)),
        raises(ValueError, "4 ints"),
    ),
    ("nn.Conv3d", "groups don't divide", lambda: nn.Conv3d(3, 4, 3, groups=2), raises(ValueError, "groups")),
    (
        "nn.Conv3d",
        "accelerator device",
        lambda: nn.Conv3d(3, 4, 3, device="cuda"),
        raises(RuntimeError, "CPU"),
    ),
    ("F.alpha_dropout", "p < 0", lambda: F.alpha_dropout(_img(3), -0.1), raises(ValueError)),
    (
        "F.feature_alpha_dropout",
        "rank",
        lambda: F.feature_alpha_dropout(_img(3), 0.5, True),
        raises(ValueError, "(3,)"),
    ),
    (
        "F.scaled_dot_product_attention",
        "key dim",
        lambda: F.scaled_dot_product_attention(_img(2, 3, 4), _img(2, 5, 6), _img(2, 5, 4)),
        raises(ValueError, "(2, 5, 6)"),
    ),
    (
        "F.scaled_dot_product_attention",
        "mask shape",
        lambda: F.scaled_dot_product_attention(
            _img(2, 3, 4), _img(2, 5, 4), _img(2, 5, 4), attn_mask=_img(4, 4)
        ),
        raises(ValueError, "(4, 4)"),
    ),
    (
        "F.multi_head_attention_forward",
        "embed dim",
        lambda: F.multi_head_attention_forward(
            _img(3, 2, 6),
            _img(3, 2, 6),
            _img(3, 2, 6),
            4,
            2,
            _img(12, 4),
            None,
            None,
            None,
            False,
            0.0,
            _img(4, 4),
            None,
        ),
        raises(ValueError, "(3, 2, 6)"),
    ),
    (
        "F.cross_entropy",
        "class index out of range",
        lambda: F.cross_entropy(ag.tensor(_p), ag.tensor([3, 0])),
        raises(IndexError, "3"),
    ),
    (
        "F.cross_entropy",
        "negative class index",
        lambda: F.cross_entropy(ag.tensor(_p), ag.tensor([-2, 0])),
        raises(IndexError, "-2"),
    ),
    ("F.cross_entropy", "ignore_index", lambda: F.cross_entropy(ag.tensor(_p), ag.tensor([-100, 0])), ok()),
    (
        "F.cross_entropy",
        "weight shape",
        lambda: F.cross_entropy(ag.tensor(_p), ag.tensor(_cls), weight=_img(4)),
        raises(ValueError, "(4,)"),
    ),
    (
        "F.cross_entropy",
        "float class target",
        lambda: F.cross_entropy(ag.tensor(_p), ag.tensor([2.0, 0.0])),
        raises(ValueError, "cross_entropy"),
    ),
    (
        "F.cross_entropy",
        "label_smoothing > 1",
        lambda: F.cross_entropy(ag.tensor(_p), ag.tensor(_cls), label_smoothing=1.5),
        raises(ValueError, "1.5"),
    ),
    (
        "F.cross_entropy",
        "N-d target shape",
        lambda: F.cross_entropy(_img(2, 3, 4), ag.tensor(np.zeros((2, 5), np.int64))),
        raises(ValueError, "(2, 5)"),
    ),
    (
        "F.cross_entropy",
        "non-contiguous logits",
        lambda: F.cross_entropy(ag.as_tensor(np.ones((3, 2), np.float32).T), ag.tensor([0, 1])),
        ok(),
    ),
    (
        "F.cross_entropy",
        "NaN logits give NaN",
        lambda: F.cross_entropy(ag.tensor([[np.nan, 0.0]]), ag.tensor([0])),
        ok(lambda out: np.isnan(out.item()) or (_ for _ in ()).throw(AssertionError(out))),
    ),
    (
        "F.nll_loss",
        "class index out of range",
        lambda: F.nll_loss(ag.tensor(_p), ag.tensor([3, 0])),
        raises(IndexError, "3"),
    ),
    (
        "F.binary_cross_entropy",
        "input outside [0, 1]",
        lambda: F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0])),
        raises(ValueError, "binary_cross_entropy"),
    ),
    (
        "F.binary_cross_entropy",
        "NaN input gives NaN",
        lambda: F.binary_cross_entropy(ag.tensor([np.nan]), ag.tensor([1.0])),
        ok(),
    ),
    (
        "F.mse_loss",
        "int input",
        lambda: F.mse_loss(ag.tensor([1, 2]), ag.tensor([1, 2])),
        raises(TypeError, "int64"),
    ),
    (
        "F.huber_loss",
        "negative delta",
        lambda: F.huber_loss(_img(2), _img(2), delta=-1.0),
        raises(ValueError, "delta"),
    ),
    (
        "F.smooth_l1_loss",
        "negative beta",
        lambda: F.smooth_l1_loss(_img(2), _img(2), beta=-1.0),
        raises(ValueError, "beta"),
    ),
]


class _BadGrad(ag.Function):
    """A user op whose backward returns a gradient of the wrong shape."""

    def forward(self, a):
        return a * 2.0

    def backward(self, g):
        return g[:1]


def _step(opt_cls, array):
    p = nn.Parameter(ag.as_tensor(array))
    p.grad = ag.ones(*array.shape)
    opt_cls([p], lr=0.1).step()


def _backward(loss):
    loss.backward()
    return loss


def _file(tmp_name: str, content: bytes) -> str:
    import os
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), tmp_name)
    with open(path, "wb") as f:
        f.write(content)
    return path


_ds = lambda n=4: ag.data.TensorDataset(ag.arange(n * 2.0).reshape(n, 2), ag.arange(n))
_w = lambda *s: nn.Parameter(ag.ones(*s))


def _with_grad(value: float) -> list:
    p = _w(2)
    p.grad = ag.full((2,), value)
    return [p]


CASES += [
    # layer constructors
    ("nn.Linear", "negative features", lambda: nn.Linear(-1, 3), raises(ValueError, "-1")),
    ("nn.Linear", "float features", lambda: nn.Linear(2.5, 3), raises(TypeError, "2.5")),
    (
        "nn.Linear",
        "list input",
        lambda: nn.Linear(3, 2)([[1.0, 2.0, 3.0]]),
        raises(TypeError, "Linear()", "'input'", "list"),
    ),
    (
        "nn.Linear",
        "int input",
        lambda: nn.Linear(3, 2)(ag.tensor([[1, 2, 3]])),
        raises(RuntimeError, "int64", "float32"),
    ),
    (
        "nn.Linear",
        "float64 input",
        lambda: nn.Linear(3, 2)(ag.ones(1, 3, dtype=ag.float64)),
        raises(RuntimeError, "float64", "float32"),
    ),
    (
        "nn.Linear",
        "float64 input, float64 layer",
        lambda: nn.Linear(3, 2, dtype=ag.float64)(ag.ones(1, 3, dtype=ag.float64)),
        ok(_shape(1, 2)),
    ),
    ("nn.Conv2d", "zero kernel", lambda: nn.Conv2d(3, 4, 0), raises(ValueError, "kernel")),
    ("nn.Conv2d", "groups don't divide", lambda: nn.Conv2d(3, 4, 3, groups=2), raises(ValueError, "groups")),
    (
        "nn.Conv2d",
        "bad padding_mode",
        lambda: nn.Conv2d(3, 4, 3, padding_mode="x"),
        raises(ValueError, "padding_mode"),
    ),
    (
        "nn.MultiheadAttention",
        "heads don't divide",
        lambda: nn.MultiheadAttention(5, 2),
        raises(ValueError, "5"),
    ),
    (
        "nn.TransformerEncoderLayer",
        "heads don't divide",
        lambda: nn.TransformerEncoderLayer(5, 2),
        raises(ValueError, "5"),
    ),
    (
        "nn.TransformerEncoderLayer",
        "bad activation",
        lambda: nn.TransformerEncoderLayer(4, 2, activation="swish9"),
        raises(ValueError, "swish9"),
    ),
    ("nn.GroupNorm", "groups don't divide", lambda: nn.GroupNorm(3, 4), raises(ValueError, "GroupNorm")),
    ("nn.Dropout", "p > 1", lambda: nn.Dropout(2.0), raises(ValueError, "2.0")),
    ("nn.AlphaDropout", "p < 0", lambda: nn.AlphaDropout(-1.0), raises(ValueError, "-1.0")),
    (
        "nn.Embedding",
        "padding_idx out of range",
        lambda: nn.Embedding(5, 3, padding_idx=7),
        raises(ValueError, "padding_idx"),
    ),
    ("nn.Embedding", "float indices", lambda: nn.Embedding(5, 3)(ag.ones(2)), raises(TypeError)),
    ("nn.LSTM", "zero layers", lambda: nn.LSTM(3, 4, num_layers=0), raises(ValueError, "num_layers")),
    (
        "nn.LSTM",
        "bad state shape",
        lambda: nn.LSTM(3, 4)(_t(5, 2, 3), (_t(1, 2, 5), _t(1, 2, 4))),
        raises(ValueError, "(1, 2, 5)"),
    ),
    ("nn.RNN", "bad nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="x"), raises(ValueError, "x")),
    ("nn.GRU", "empty sequence", lambda: nn.GRU(3, 4)(_t(0, 2, 3)), raises(ValueError, "GRU")),
    (
        "nn.RNNCellBase",
        "negative hidden size",
        lambda: nn.RNNCellBase(3, -4, True, 1),
        raises(ValueError, "-4"),
    ),
    (
        "nn.Upsample",
        "bad mode",
        lambda: nn.Upsample(scale_factor=2, mode="x")(_t(1, 1, 2, 2)),
        raises(ValueError, "x"),
    ),
    (
        "nn.SinusoidalPositionalEncoding",
        "sequence too long",
        lambda: nn.SinusoidalPositionalEncoding(4, 8, 0.0)(_t(9, 1, 4)),
        raises(ValueError, "9"),
    ),
    (
        "nn.LearnedPositionalEmbedding",
        "sequence too long",
        lambda: nn.LearnedPositionalEmbedding(8, 4)(_t(9, 1, 4)),
        raises(ValueError, "9"),
    ),
    (
        "nn.MaxPool2d",
        "kernel larger than input",
        lambda: nn.MaxPool2d(5)(_t(1, 1, 3, 3)),
        raises(ValueError, "(5, 5)", "(3, 3)"),
    ),
    (
        "nn.PReLU",
        "int input",
        lambda: nn.PReLU()(ag.tensor([1, -2])),
        raises(RuntimeError, "int64", "float32"),
    ),
    # containers and Module plumbing
    ("nn.Module", "forward not defined", lambda: nn.Module()(_t(2)), raises(NotImplementedError)),
    (
        "nn.Module",
        "load_state_dict unknown key",
        lambda: nn.Linear(3, 2).load_state_dict({"weight": _t(2, 3), "bias": _t(2), "bogus": _t(1)}),
        raises(ag.CheckpointError, "bogus"),
    ),
    (
        "nn.Module",
        "load_state_dict wrong shape",
        lambda: nn.Linear(3, 2).load_state_dict({"weight": _t(3, 3), "bias": _t(2)}),
        raises(ValueError, "(3, 3)"),
    ),
    (
        "nn.Module",
        "register_parameter non-Parameter",
        lambda: nn.Module().register_parameter("w", 5),
        raises(TypeError, "register_parameter"),
    ),
    ("nn.Module", "add_module non-Module", lambda: nn.Module().add_module("m", 5), raises(TypeError, "int")),
    ("nn.Sequential", "non-Module", lambda: nn.Sequential(nn.ReLU(), 5), raises(TypeError, "int")),
    ("nn.Sequential", "index out of range", lambda: nn.Sequential(nn.ReLU())[3], raises(IndexError, "3")),
    ("nn.ModuleList", "non-Module", lambda: nn.ModuleList([5]), raises(TypeError, "int")),
    ("nn.ModuleList", "index out of range", lambda: nn.ModuleList([nn.ReLU()])[-3], raises(IndexError, "-3")),
    ("nn.ModuleDict", "non-Module", lambda: nn.ModuleDict({"a": 5}), raises(TypeError, "int")),
    ("nn.ModuleDict", "missing key", lambda: nn.ModuleDict()["a"], raises(KeyError, "a")),
    ("nn.ParameterList", "list value", lambda: nn.ParameterList([[1.0, 2.0]]), ok()),
    ("nn.ParameterList", "string", lambda: nn.ParameterList(["x"]), raises(TypeError)),
    ("nn.ParameterDict", "string", lambda: nn.ParameterDict({"a": "x"}), raises(TypeError)),
    ("nn.Parameter", "int data", lambda: nn.Parameter(ag.tensor([1, 2])), raises(TypeError, "int64")),
    ("nn.Parameter", "list data", lambda: nn.Parameter([1.0, 2.0]), ok(_shape(2))),
    ("nn.Buffer", "string", lambda: nn.Buffer("x"), raises(TypeError)),
    ("nn.apply_lora", "not a module", lambda: nn.apply_lora("model"), raises(TypeError, "str")),
    (
        "nn.apply_lora",
        "rank 0",
        lambda: nn.apply_lora(nn.Sequential(nn.Linear(2, 2)), ["0"], r=0),
        raises(ValueError, "r"),
    ),
    (
        "nn.apply_lora",
        "no matching layer",
        lambda: nn.apply_lora(nn.Sequential(nn.Linear(2, 2))),
        raises(ValueError, "apply_lora"),
    ),
    ("nn.LoRALinear", "not a Linear", lambda: nn.LoRALinear(nn.ReLU()), raises(TypeError, "ReLU")),
    ("nn.merge_lora", "not a module", lambda: nn.merge_lora(5), raises(TypeError, "int")),
    ("nn.unmerge_lora", "not a module", lambda: nn.unmerge_lora(5), raises(TypeError, "int")),
    (
        "nn.mark_only_lora_as_trainable",
        "bad bias",
        lambda: nn.mark_only_lora_as_trainable(nn.Linear(2, 2), bias="x"),
        raises(ValueError, "x"),
    ),
    ("nn.count_parameters", "not a module", lambda: nn.count_parameters(5), raises(TypeError, "int")),
    # engine and tools
    ("ag.backward", "no grad", lambda: ag.backward(_t(1).sum()), raises(RuntimeError)),
    ("ag.backward", "non-scalar root", lambda: ag.backward(_t(2, rg=True) * 2), raises(RuntimeError, "(2,)")),
    (
        "ag.backward",
        "gradient shape",
        lambda: ag.backward(_t(2, rg=True) * 2, _t(3)),
        raises(ValueError, "(3,)"),
    ),
    (
        "ag.grad",
        "input not in graph",
        lambda: ag.grad((_t(2, rg=True) * 2).sum(), _t(2, rg=True)),
        raises(RuntimeError),
    ),
    (
        "ag.grad",
        "input not a tensor",
        lambda: ag.grad((_t(2, rg=True) * 2).sum(), [1.0]),
        raises(ag.GraphError, "input 0"),
    ),
    (
        "ag.Function",
        "backward returns wrong shape",
        lambda: _backward(_BadGrad.apply(_t(3, rg=True)).sum()),
        raises(ValueError, "_BadGrad", "(1,)", "(3,)"),
    ),
    ("ag.gradcheck", "inputs not tensors", lambda: ag.gradcheck(ag.exp, "x"), raises(ValueError)),
    (
        "ag.gradcheck",
        "float32 input",
        lambda: ag.gradcheck(ag.exp, _t(2, rg=True)),
        raises(TypeError, "float64"),
    ),
    (
        "ag.gradgradcheck",
        "float32 input",
        lambda: ag.gradgradcheck(ag.exp, _t(2, rg=True)),
        raises(TypeError, "float64"),
    ),
    ("ag.detect_anomaly", "NaN in backward", lambda: _anomaly(), raises(RuntimeError)),
    ("ag.draw_graph", "not a tensor", lambda: ag.draw_graph("x"), raises(TypeError, "str")),
    (
        "ag.draw_graph",
        "bad format",
        lambda: ag.draw_graph(_t(2, rg=True) * 2, format="xyz"),
        raises(ValueError, "xyz"),
    ),
    ("ag.to_dot", "not a tensor", lambda: ag.to_dot(5), raises(TypeError, "int")),
    (
        "ag.summary",
        "wrong input shape",
        lambda: ag.summary(nn.Linear(3, 2), (2, 5), verbose=0),
        raises(ValueError, "(2, 5)"),
    ),
    ("ag.summary", "not a module", lambda: ag.summary("x", (2, 3)), raises(TypeError, "str")),
    ("ag.save", "unsupported object", lambda: ag.save({"f": abs}, _file("a.pt", b"")), raises(TypeError)),
    (
        "ag.load",
        "missing file",
        lambda: ag.load("/nonexistent/x.pt"),
        raises(FileNotFoundError, "/nonexistent/x.pt"),
    ),
    ("ag.load", "garbage file", lambda: ag.load(_file("b.pt", b"not a zip")), raises(ag.CheckpointError)),
    ("ag.save", "path not a str", lambda: ag.save({"w": _t(2)}, 5), raises(TypeError, "path")),
    (
        "ag.load",
        "truncated safetensors",
        lambda: ag.load(_file("c.safetensors", b"\x10" + bytes(7))),
        raises(ag.CheckpointError, "safetensors"),
    ),
    (
        "ag.load",
        "old zip format with a hostile entry name",
        lambda: ag.load(_zip_file()),
        raises(ag.CheckpointError, "unsafe entry name"),
    ),
    # autograd_nn.onnx (the onnx package is an optional extra: these skip without it)
    (
        "onnx.export",
        "not a module",
        lambda: _onnx(lambda: onnx_export.export(abs, _t(2))),
        raises(TypeError, "nn.Module"),
    ),
    (
        "onnx.export",
        "no tensor input",
        lambda: _onnx(lambda: onnx_export.export(nn.Linear(2, 2), (3.0,))),
        raises(TypeError, "Tensor"),
    ),
    (
        "onnx.export",
        "opset too old",
        lambda: _onnx(lambda: onnx_export.export(nn.Linear(2, 2), _t(1, 2), opset_version=9)),
        raises(ValueError, "opset_version"),
    ),
    (
        "onnx.export",
        "dynamic axis of an unknown name",
        lambda: _onnx(
            lambda: onnx_export.export(nn.Linear(2, 2), _t(1, 2), input_names=["x"], dynamic_axes={"y": [0]})
        ),
        raises(ValueError, "'y'"),
    ),
    (
        "onnx.export",
        "dynamic axis out of range",
        lambda: _onnx(
            lambda: onnx_export.export(
                nn.Linear(2, 2), _t(1, 2), input_names=["x"], dynamic_axes={"x": {5: "b"}}
            )
        ),
        raises(ValueError, "axis 5"),
    ),
    (
        "onnx.export",
        "too many input names",
        lambda: _onnx(lambda: onnx_export.export(nn.Linear(2, 2), _t(1, 2), input_names=["x", "y"])),
        raises(ValueError, "input_names"),
    ),
    (
        "onnx.export",
        "op without mapping",
        lambda: _onnx(lambda: onnx_export.export(_Atan2(), _t(1, 2))),
        raises(onnx_export.ExportError, "Atan2"),
    ),
    (
        "onnx.export",
        "bad file argument",
        lambda: _onnx(lambda: onnx_export.export(nn.Linear(2, 2), _t(1, 2), 5)),
        raises(TypeError, "onnx.export"),
    ),
    (
        "onnx.to_dot",
        "not a model",
        lambda: _onnx(lambda: onnx_export.to_dot("x")),
        raises(TypeError, "ModelProto"),
    ),
    (
        "ag.set_default_dtype",
        "integer dtype",
        lambda: ag.set_default_dtype(ag.int64),
        raises(TypeError, "int64"),
    ),
    ("ag.set_grad_enabled", "truthy value", lambda: ag.set_grad_enabled(1), ok()),
    ("ag.manual_seed", "negative seed", lambda: ag.manual_seed(-1), raises(ValueError, "-1")),
    ("ag.manual_seed", "string seed", lambda: ag.manual_seed("x"), raises(TypeError)),
    ("ag.set_num_threads", "zero", lambda: ag.set_num_threads(0), raises(ValueError, "set_num_threads")),
    ("ag.set_num_threads", "string", lambda: ag.set_num_threads("2"), raises(ValueError, "'2'")),
    ("ag.get_num_threads", "no arguments", lambda: ag.get_num_threads(), ok()),
    # nn.init
    ("init.calculate_gain", "unknown", lambda: init.calculate_gain("foo"), raises(ValueError, "foo")),
    ("init.constant_", "not a tensor", lambda: init.constant_([1.0], 2.0), raises(TypeError)),
    ("init.zeros_", "not a tensor", lambda: init.zeros_("x"), raises(TypeError)),
    ("init.ones_", "not a tensor", lambda: init.ones_("x"), raises(TypeError)),
    ("init.eye_", "3-d", lambda: init.eye_(_t(2, 2, 2)), raises(ValueError, "eye_")),
    ("init.orthogonal_", "1-d", lambda: init.orthogonal_(_t(3)), raises(ValueError)),
    ("init.kaiming_uniform_", "1-d", lambda: init.kaiming_uniform_(_t(3)), raises(ValueError)),
    (
        "init.kaiming_normal_",
        "bad mode",
        lambda: init.kaiming_normal_(_t(2, 2), mode="x"),
        raises(ValueError, "x"),
    ),
    ("init.xavier_uniform_", "1-d", lambda: init.xavier_uniform_(_t(3)), raises(ValueError)),
    ("init.xavier_normal_", "empty", lambda: init.xavier_normal_(_t(0, 3)), ok()),
    ("init.normal_", "negative std", lambda: init.normal_(_t(3), 0.0, -1.0), raises(ValueError, "-1.0")),
    ("init.uniform_", "a > b", lambda: init.uniform_(_t(3), 2.0, 1.0), raises(ValueError)),
    ("init.trunc_normal_", "a > b", lambda: init.trunc_normal_(_t(3), a=2.0, b=1.0), raises(ValueError)),
    ("init.uniform_", "int tensor", lambda: init.uniform_(ag.tensor([1, 2])), raises(TypeError)),
    (
        "init.default_bound",
        "zero fan_in",
        lambda: init.default_bound(0),
        ok(lambda out: out == 0.0 or (_ for _ in ()).throw(AssertionError(out))),
    ),
    (
        "init.uniform_array",
        "negative shape",
        lambda: init.uniform_array((-1,), 1.0),
        raises(ValueError, "-1"),
    ),
    # nn.utils
    (
        "utils.clip_grad_norm_",
        "max_norm str",
        lambda: utils.clip_grad_norm_(_with_grad(1.0), "x"),
        raises(TypeError),
    ),
    (
        "utils.clip_grad_norm_",
        "non-finite",
        lambda: utils.clip_grad_norm_(_with_grad(np.nan), 1.0, error_if_nonfinite=True),
        raises(RuntimeError),
    ),
    ("utils.clip_grad_norm_", "no grads", lambda: utils.clip_grad_norm_([_w(2)], 1.0), ok()),
    (
        "utils.clip_grad_value_",
        "value str",
        lambda: utils.clip_grad_value_(_with_grad(1.0), "x"),
        raises(TypeError),
    ),
    (
        "utils.get_total_norm",
        "bad norm_type",
        lambda: utils.get_total_norm(_with_grad(1.0), "x"),
        raises(TypeError, "norm_type"),
    ),
    (
        "utils.parameters_to_vector",
        "not tensors",
        lambda: utils.parameters_to_vector([5]),
        raises(TypeError, "int"),
    ),
    (
        "utils.vector_to_parameters",
        "wrong length",
        lambda: utils.vector_to_parameters(_t(3), [_w(2)]),
        raises(ValueError, "3"),
    ),
    (
        "utils.vector_to_parameters",
        "not a tensor",
        lambda: utils.vector_to_parameters([1.0, 2.0], [_w(2)]),
        raises(TypeError, "list"),
    ),
    # data
    (
        "data.DataLoader",
        "batch_size 0",
        lambda: ag.data.DataLoader(_ds(), batch_size=0),
        raises(ValueError, "batch_size"),
    ),
    (
        "data.DataLoader",
        "batch_size str",
        lambda: ag.data.DataLoader(_ds(), batch_size="2"),
        raises(TypeError, "batch_size"),
    ),
    ("data.DataLoader", "not a dataset", lambda: list(ag.data.DataLoader(5)), raises(TypeError, "int")),
    ("data.DataLoader", "empty dataset", lambda: list(ag.data.DataLoader([])), ok()),
    (
        "data.DistributedSampler",
        "rank out of range",
        lambda: ag.data.DistributedSampler(range(4), num_replicas=2, rank=2),
        raises(ValueError, "rank", "[0, 1]"),
    ),
    (
        "data.DistributedSampler",
        "no process group",
        lambda: ag.data.DistributedSampler(range(4)),
        raises(RuntimeError, "init_process_group"),
    ),
    (
        "data.DistributedSampler",
        "empty dataset",
        lambda: list(ag.data.DistributedSampler([], num_replicas=2, rank=0)),
        ok(),
    ),
    ("data.TensorDataset", "no tensors", lambda: ag.data.TensorDataset(), raises(ValueError)),
    (
        "data.TensorDataset",
        "lengths differ",
        lambda: ag.data.TensorDataset(_t(3, 2), _t(4)),
        raises(ValueError, "TensorDataset"),
    ),
    ("data.TensorDataset", "index out of range", lambda: _ds()[10], raises(IndexError, "10")),
    ("data.TensorDataset", "lists", lambda: ag.data.TensorDataset([[1.0], [2.0]], [0, 1])[1], ok()),
    ("data.Subset", "index out of range", lambda: ag.data.Subset(_ds(), [10])[0], raises(IndexError, "10")),
    ("data.Dataset", "abstract", lambda: ag.data.Dataset()[0], raises(NotImplementedError)),
    (
        "data.random_split",
        "lengths don't add up",
        lambda: ag.data.random_split(_ds(), [3, 3]),
        raises(ValueError, "random_split"),
    ),
    (
        "data.random_split",
        "negative length",
        lambda: ag.data.random_split(_ds(), [5, -1]),
        raises(ValueError, "-1"),
    ),
    (
        "data.default_collate",
        "empty batch",
        lambda: ag.data.default_collate([]),
        raises(ValueError, "default_collate"),
    ),
    (
        "data.default_collate",
        "mixed shapes",
        lambda: ag.data.default_collate([_t(2), _t(3)]),
        raises(ValueError, "default_collate"),
    ),
    ("data.one_hot", "out of range", lambda: ag.data.one_hot([0, 5], 3), raises(ValueError, "5")),
    ("data.one_hot", "negative", lambda: ag.data.one_hot([-1, 0], 3), raises(ValueError, "-1")),
    ("data.one_hot", "float labels", lambda: ag.data.one_hot([0.5], 3), raises(TypeError, "one_hot")),
    (
        "data.standardize",
        "feature count",
        lambda: ag.data.standardize(np.ones((4, 3)), np.ones((2, 5))),
        raises(ValueError, "(2, 5)"),
    ),
    (
        "data.Standardizer",
        "transform before fit",
        lambda: ag.data.Standardizer().transform(np.ones((2, 2))),
        raises(RuntimeError, "fit"),
    ),
    (
        "data.read_idx",
        "not an IDX file",
        lambda: ag.data.read_idx(_file("x.idx", b"hello")),
        raises(ValueError, "read_idx"),
    ),
    (
        "data.write_idx",
        "float array",
        lambda: ag.data.write_idx(_file("y.idx", b""), np.ones(2)),
        raises(ValueError, "float64"),
    ),
    (
        "data.load_mnist",
        "missing directory",
        lambda: ag.data.load_mnist("/nonexistent"),
        raises(FileNotFoundError, "load_mnist"),
    ),
    (
        "data.load_mnist",
        "bad kind",
        lambda: ag.data.load_mnist("/tmp", kind="dev"),
        raises(ValueError, "dev"),
    ),
    (
        "data.load_digits",
        "bad fraction",
        lambda: ag.data.load_digits(test_fraction=1.5),
        raises(ValueError, "1.5"),
    ),
    ("data.make_moons", "negative n", lambda: ag.data.make_moons(-1), raises(ValueError, "-1")),
    ("data.make_circles", "negative n", lambda: ag.data.make_circles(-1), raises(ValueError, "-1")),
    ("data.make_xor", "negative n", lambda: ag.data.make_xor(-1), raises(ValueError, "-1")),
    (
        "data.make_spirals",
        "zero classes",
        lambda: ag.data.make_spirals(10, 0),
        raises(ValueError, "n_classes"),
    ),
    (
        "data.make_gaussian_mixture",
        "zero modes",
        lambda: ag.data.make_gaussian_mixture(10, 0),
        raises(ValueError, "n_modes"),
    ),
    (
        "data.stochastic_block_model",
        "zero classes",
        lambda: ag.data.stochastic_block_model(n_classes=0),
        raises(ValueError, "n_classes"),
    ),
    (
        "data.stochastic_block_model",
        "probability > 1",
        lambda: ag.data.stochastic_block_model(p_in=2.0),
        raises(ValueError, "p_in"),
    ),
    (
        "data.stdlib_docstrings",
        "negative max_chars",
        lambda: ag.data.stdlib_docstrings(-1),
        raises(ValueError, "-1"),
    ),
    (
        "data.CharCorpus",
        "unknown character",
        lambda: ag.data.CharCorpus("abc").encode("z"),
        raises(ValueError, "z"),
    ),
    ("data.CharCorpus", "empty text", lambda: ag.data.CharCorpus(""), raises(ValueError, "CharCorpus")),
]


def _lbfgs_bad_grad():
    w = _w(2)
    opt = ag.optim.LBFGS([w])

    def closure():
        w.grad = ag.ones(3)
        return ag.tensor(1.0)

    return opt.step(closure)


def _warns(run):
    """Run a call that PyTorch answers with a UserWarning: the warning must come."""
    import pytest

    with pytest.warns(UserWarning):
        return run()


def _onnx(run):
    """Run an export case, or skip it where the optional onnx package is missing."""
    import pytest

    pytest.importorskip("onnx")
    return run()


class _Atan2(nn.Module):
    def forward(self, x):
        return ag.atan2(x, x)


def _zip_file() -> str:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.npy", b"x")
    return _file("old.ckpt", buf.getvalue())


def _anomaly():
    with ag.detect_anomaly():
        x = ag.tensor([0.0], requires_grad=True)
        (ag.sqrt(x) * 0.0).sum().backward()


CASES += PORTING_CASES

EXEMPT = {
    "ag.AutogradError": "exception class",
    "ag.ShapeError": "exception class",
    "ag.DTypeError": "exception class",
    "ag.OpIndexError": "exception class",
    "ag.GraphError": "exception class",
    "ag.CheckpointError": "exception class",
    "ag.GradcheckError": "exception class",
    "ag.AnomalyError": "exception class",
    "ag.get_default_dtype": "takes no arguments",
    "ag.is_grad_enabled": "takes no arguments",
    "ag.is_anomaly_enabled": "takes no arguments",
    "ag.no_grad": "context manager without arguments",
    "ag.enable_grad": "context manager without arguments",
    "ag.profile": "context manager without arguments",
    "ag.LayerInfo": "plain record that summary() fills in; no computation",
    "ag.ModelSummary": "plain record that summary() returns; no computation",
    "data.GraphData": "plain record of arrays that stochastic_block_model() returns",
    "nn.RemovableHandle": "made by register_*_hook, not by users; remove() takes no input",
}

GROUPS = {
    "pointwise": UNARY,
    "int_pointwise": INT_UNARY,
    "binary": BINARY,
    "int_binary": INT_BINARY,
    "dim": DIM,
    "layers": LAYERS,
    "any_shape_layers": ANY_SHAPE_LAYERS,
    "losses": LOSSES,
    "optimizers": OPTIMIZERS,
    "schedulers": SCHEDULERS,
    "specific": {c[0] for c in CASES},
}


# ---- how a clear error is judged, and which public callables exist -------------------------------

NAMESPACES = {
    "ag": ag,
    "F": F,
    "nn": nn,
    "optim": optim,
    "lr_scheduler": lr_scheduler,
    "data": data,
    "init": init,
    "utils": utils,
    "onnx": onnx_export,
}
_LIB = os.path.dirname(ag.__file__) + os.sep
_OK_TYPES = (ValueError, TypeError, IndexError, RuntimeError, KeyError, ZeroDivisionError, OSError)


def public_names() -> Iterator[str]:
    """'ns.name' for each public callable: __all__ where a module has one, else the names defined
    in autograd_nn (for a package) or in the module itself (for a plain module)."""
    for prefix, mod in NAMESPACES.items():
        listed = getattr(mod, "__all__", None)
        is_pkg = hasattr(mod, "__path__")
        for name in listed or dir(mod):
            obj = getattr(mod, name)
            if name.startswith("_") or inspect.ismodule(obj) or not callable(obj):
                continue
            where = getattr(obj, "__module__", None) or ""
            defined_here = where.startswith(mod.__name__ + ".") if is_pkg else where == mod.__name__
            reexported = prefix in ("ag", "F") and where.startswith("autograd_nn.")
            if listed is None and not defined_here and not reexported:
                continue
            yield f"{prefix}.{name}"


def catalogued() -> set:
    names = set()
    for group in GROUPS.values():
        names |= set(group)
    return names


def raise_site(err: BaseException) -> tuple[str, str]:
    """(file, source line) of the frame the exception was raised in."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "", ""
    filename = tb.tb_frame.f_code.co_filename
    return filename, linecache.getline(filename, tb.tb_lineno).strip()


def clear_error(err: BaseException, op: str = "") -> str:
    """'' when `err` is a clear error, else why not."""
    if not isinstance(err, _OK_TYPES):
        return f"{type(err).__name__} is not a project or standard error type"
    msg = str(err)
    if not msg.strip("'\" "):
        return "empty message"
    short = op.split(".")[-1]
    if isinstance(err, ag.AutogradError) or (short and short.lower() in msg.lower()):
        return ""
    if isinstance(err, OSError) and err.filename:  # names the file it could not open
        return ""
    filename, line = raise_site(err)
    in_lib = filename.startswith(_LIB) and os.sep + "kernels" + os.sep not in filename
    if in_lib and line.startswith("raise"):
        return ""
    return f"raised at {filename}: {line!r}, message does not name {short!r}"


def assert_clear(err: BaseException, op: str = "", *fragments: str) -> None:
    why = clear_error(err, op)
    assert not why, f"{op}: unclear error {type(err).__name__}: {err} ({why})"
    for frag in fragments:
        assert frag in str(err), f"{op}: {frag!r} not in message {str(err)!r}"
