"""float64 gradcheck of every public layer in autograd_nn.nn, w.r.t. its inputs AND its parameters.

`LAYERS` maps a key to a `Case`. The key is the class name, optionally followed by "[variant]" for
a second configuration of the same class. Each case builds the layer with small sizes, converts it
to float64, sets train/eval mode, and checks (with `autograd_nn.gradcheck`) the gradient of every
float output w.r.t. every input that requires grad and every trainable parameter (parameters go in
as extra gradcheck inputs, ignored by the function's signature: gradcheck perturbs them in place).

Inputs sit away from kinks: pointwise layers get |x| in [0.1, 0.9] with random signs (or values at
least 0.05 away from the layer's own kinks), max-pooling gets well separated distinct values, and
losses keep (input - target) away from zero and hinge margins.

`test_every_public_layer_is_covered` fails when a public Module subclass exported by
`autograd_nn.nn` is neither in `LAYERS` nor in `EXEMPT` (with a one-line reason).
"""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn
import autograd_nn.nn.init as init
from autograd_nn import gradcheck

# Public Module subclasses deliberately not gradchecked here.
EXEMPT = {
    "Module": "the abstract base class: no forward of its own",
    "Sequential": "pure container: its children are checked individually",
    "ModuleList": "pure container: no forward",
    "ModuleDict": "pure container: no forward",
    "ParameterList": "pure container: no forward",
    "ParameterDict": "pure container: no forward",
    "RNNCellBase": "abstract base of RNNCell/LSTMCell/GRUCell: holds the weights, has no forward",
}


# ---- inputs -------------------------------------------------------------------------------------
class _Rng:
    """The current case's data generator (reseeded per case, so each case is reproducible)."""

    gen = np.random.default_rng(0)


def _t(data: Any, requires_grad: bool = True) -> ag.Tensor:
    return ag.tensor(np.array(data, dtype=np.float64), requires_grad=requires_grad)


def _signed_array(shape: tuple, lo: float = 0.1, hi: float = 0.9) -> np.ndarray:
    mag = _Rng.gen.uniform(lo, hi, size=shape)
    return mag * _Rng.gen.choice([-1.0, 1.0], size=shape)


def signed(*shape: int, lo: float = 0.1, hi: float = 0.9, requires_grad: bool = True) -> ag.Tensor:
    """|x| in [lo, hi] with random signs: away from the kink at 0 (and from +-1)."""
    return _t(_signed_array(shape, lo, hi), requires_grad)


def away(*shape: int, kinks: tuple = (0.0,), scale: float = 1.0, gap: float = 0.05) -> ag.Tensor:
    """U(-scale, scale), resampled until every value is at least `gap` from every kink."""
    x = _Rng.gen.uniform(-scale, scale, size=shape)
    for _ in range(1000):
        bad = np.zeros(shape, bool)
        for k in kinks:
            bad |= np.abs(x - k) < gap
        if not bad.any():
            break
        x[bad] = _Rng.gen.uniform(-scale, scale, size=int(bad.sum()))
    return _t(x)


def distinct(*shape: int) -> ag.Tensor:
    """A shuffled grid of well separated values: no ties, so max-pooling has no kinks."""
    n = int(np.prod(shape))
    vals = np.linspace(-1.0, 1.0, n) + _Rng.gen.uniform(-0.1, 0.1) / max(n, 1)
    return _t(_Rng.gen.permutation(vals).reshape(shape))


def uniform(*shape: int, lo: float, hi: float, requires_grad: bool = True) -> ag.Tensor:
    return _t(_Rng.gen.uniform(lo, hi, size=shape), requires_grad)


def probs(*shape: int, dim: int = -1, requires_grad: bool = False) -> ag.Tensor:
    p = _Rng.gen.uniform(0.2, 1.0, size=shape)
    return _t(p / p.sum(axis=dim, keepdims=True), requires_grad)


def ints(high: int, *shape: int) -> ag.Tensor:
    return ag.tensor(_Rng.gen.integers(0, high, size=shape))


def pm_one(*shape: int) -> ag.Tensor:
    """A fixed +-1 target."""
    return _t(_Rng.gen.choice([-1.0, 1.0], size=shape), False)


# ---- cases --------------------------------------------------------------------------------------
@dataclass
class Case:
    """How to build, call and check one layer.

    args/kwargs: constructor arguments of the key's class (or `build`, a zero-argument factory).
    inputs: a list of shapes (each becomes `signed(*shape)`), or a function returning the input
      list (tensors that require grad are checked; other items, e.g. targets, are passed as is).
    call: how to call the layer, call(layer, *inputs) (default layer(*inputs)).
    out: output selector applied to the result before flattening (default: every float tensor in
      the possibly nested output, e.g. LSTM's (output, (h_n, c_n))).
    train: the module's mode (default eval). seeded: reseed autograd_nn's generator before every
      forward, so a training-mode dropout mask is the same in every gradcheck evaluation.
    prepare: called on the built (float64) module before checking, e.g. to randomise zero weights.
    gc: extra gradcheck arguments (max_elements / n_directions for big parameter tensors).
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    inputs: Any = ((2, 3),)
    build: Callable | None = None
    call: Callable | None = None
    out: Callable | None = None
    train: bool = False
    seeded: bool = False
    prepare: Callable | None = None
    gc: dict = field(default_factory=dict)


def C(*args: Any, **kwargs: Any) -> Case:
    opts = {
        k: kwargs.pop(k)
        for k in list(kwargs)
        if k in ("inputs", "build", "call", "out", "train", "seeded", "prepare", "gc")
    }
    return Case(args=args, kwargs=kwargs, **opts)


def _randomise(*names: str) -> Callable:
    """prepare hook: give the named (zero-initialised) parameters random values."""

    def prepare(module: nn.Module) -> None:
        for name in names:
            init.normal_(module.get_parameter(name), 0.0, 0.5)

    return prepare


def _bn_stats(module: nn.Module) -> None:
    """prepare hook: non-trivial running statistics for eval-mode batch norm."""
    for name, b in module.named_buffers():
        if name.endswith("running_mean"):
            b.numpy()[...] = _Rng.gen.uniform(-0.5, 0.5, size=b.shape)
        elif name.endswith("running_var"):
            b.numpy()[...] = _Rng.gen.uniform(0.5, 2.0, size=b.shape)


SMALL = {"max_elements": 16, "n_directions": 4}  # for the transformer-sized parameter sets
ACT = ((2, 3, 2),)


def _pred_target(shape: tuple, gap: float = 0.1) -> Callable:
    """(prediction, target) with |prediction - target| >= gap (L1's kink at 0 is avoided)."""

    def make() -> list:
        x = signed(*shape)
        diff = _signed_array(shape, gap, 1.0)
        return [x, _t(x.numpy() - diff, False)]

    return make


def _cosine_inputs() -> list:
    """CosineEmbeddingLoss (margin 0.2): for y = -1 rows keep cos well away from the margin."""
    y = np.array([1.0, -1.0, 1.0, -1.0])
    while True:
        a, b = _signed_array((4, 3)), _signed_array((4, 3))
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        if np.all(np.abs(cos[y < 0] - 0.2) > 0.1):
            return [_t(a), _t(b), _t(y, False)]


def _ranking_inputs() -> list:
    """MarginRankingLoss (margin 0.1): keep -y (x1 - x2) + margin away from 0."""
    while True:
        a, b = _signed_array((5,)), _signed_array((5,))
        y = _Rng.gen.choice([-1.0, 1.0], size=5)
        if np.all(np.abs(-y * (a - b) + 0.1) > 0.05):
            return [_t(a), _t(b), _t(y, False)]


def _causal(n: int) -> ag.Tensor:
    return nn.Transformer.generate_square_subsequent_mask(n, dtype=np.float64)


LAYERS: dict[str, Case] = {
    # ---- activations ----------------------------------------------------------------------------
    "ReLU": C(inputs=ACT),
    "ReLU6": C(inputs=lambda: [away(2, 3, 2, kinks=(0.0, 6.0), scale=7.0)]),
    "LeakyReLU": C(0.1, inputs=ACT),
    "PReLU": C(3, inputs=lambda: [signed(2, 3, 2)], prepare=_randomise("weight")),
    "ELU": C(alpha=0.7, inputs=ACT),
    "SELU": C(inputs=ACT),
    "CELU": C(alpha=0.7, inputs=ACT),
    "GELU": C(inputs=ACT),
    "GELU[tanh]": C(approximate="tanh", inputs=ACT),
    "SiLU": C(inputs=ACT),
    "Mish": C(inputs=ACT),
    "Tanh": C(inputs=ACT),
    "Sigmoid": C(inputs=ACT),
    "LogSigmoid": C(inputs=ACT),
    "Softplus": C(
        beta=2.0, threshold=3.0, inputs=lambda: [away(2, 3, 2, kinks=(1.5,), scale=3.0)]
    ),  # beta*x = threshold
    "Softsign": C(inputs=ACT),
    "Hardtanh": C(-0.5, 0.5, inputs=lambda: [away(2, 3, 2, kinks=(-0.5, 0.5))]),
    "Hardsigmoid": C(inputs=lambda: [away(2, 3, 2, kinks=(-3.0, 3.0), scale=4.0)]),
    "Hardswish": C(inputs=lambda: [away(2, 3, 2, kinks=(-3.0, 3.0), scale=4.0)]),
    "Tanhshrink": C(inputs=ACT),
    "Softshrink": C(0.5, inputs=lambda: [away(2, 3, 2, kinks=(-0.5, 0.5))]),
    "Hardshrink": C(0.5, inputs=lambda: [away(2, 3, 2, kinks=(-0.5, 0.5))]),
    "Threshold": C(0.1, 20.0, inputs=lambda: [away(2, 3, 2, kinks=(0.1,))]),
    "GLU": C(dim=1, inputs=((2, 4, 2),)),
    "Softmax": C(dim=1, inputs=ACT),
    "LogSoftmax": C(dim=1, inputs=ACT),
    "Softmin": C(dim=1, inputs=ACT),
    # ---- linear & shape -------------------------------------------------------------------------
    "Identity": C(inputs=((2, 3),)),
    "Flatten": C(1, 2, inputs=((2, 3, 2),)),
    "Unflatten": C(1, (2, 2), inputs=((3, 4),)),
    "Linear": C(3, 4, inputs=((2, 3),)),
    "Linear[nobias_3d]": C(3, 2, bias=False, inputs=((2, 2, 3),)),
    "Bilinear": C(3, 2, 4, inputs=((2, 3), (2, 2))),
    "LoRALinear": C(
        build=lambda: nn.LoRALinear(nn.Linear(3, 4), r=2, alpha=4.0),
        prepare=_randomise("lora_B"),
        inputs=((2, 3),),
    ),
    "LoRALinear[dropout]": C(
        build=lambda: nn.LoRALinear(nn.Linear(3, 4), r=2, alpha=4.0, dropout=0.4),
        prepare=_randomise("lora_B"),
        train=True,
        seeded=True,
        inputs=((4, 3),),
    ),
    # ---- convolutions ---------------------------------------------------------------------------
    "Conv1d": C(2, 3, 3, padding=1, inputs=((2, 2, 5),)),
    "Conv1d[stride_dil_groups_circular]": C(
        4, 2, 2, stride=2, dilation=2, groups=2, padding=1, padding_mode="circular", inputs=((2, 4, 6),)
    ),
    "Conv2d": C(2, 3, 3, padding=1, inputs=((2, 2, 4, 4),)),
    "Conv2d[stride_groups_reflect]": C(
        4, 2, (3, 2), stride=(2, 1), padding=1, groups=2, padding_mode="reflect", inputs=((2, 4, 5, 4),)
    ),
    "ConvTranspose1d": C(2, 3, 3, stride=2, padding=1, output_padding=1, inputs=((2, 2, 4),)),
    "ConvTranspose2d": C(2, 3, 3, stride=2, padding=1, inputs=((2, 2, 3, 3),)),
    "ConvTranspose2d[groups_dilation]": C(4, 2, 2, groups=2, dilation=2, inputs=((1, 4, 3, 3),)),
    # ---- dropout: eval (identity), and training with the mask fixed by reseeding ---------------
    "Dropout": C(0.5, inputs=((2, 3),)),
    "Dropout[train]": C(0.5, train=True, seeded=True, inputs=((4, 3),)),
    "Dropout1d": C(0.5, inputs=((2, 3, 4),)),
    "Dropout1d[train]": C(0.5, train=True, seeded=True, inputs=((2, 3, 4),)),
    "Dropout2d": C(0.5, inputs=((2, 3, 2, 2),)),
    "Dropout2d[train]": C(0.5, train=True, seeded=True, inputs=((2, 3, 2, 2),)),
    "Dropout3d": C(0.5, inputs=((2, 2, 2, 2, 2),)),
    "Dropout3d[train]": C(0.5, train=True, seeded=True, inputs=((2, 2, 2, 2, 2),)),
    "AlphaDropout": C(0.5, inputs=((2, 3),)),
    "AlphaDropout[train]": C(0.5, train=True, seeded=True, inputs=((4, 3),)),
    "FeatureAlphaDropout": C(0.5, inputs=((2, 3, 4),)),
    "FeatureAlphaDropout[train]": C(0.5, train=True, seeded=True, inputs=((2, 3, 4),)),
    # ---- normalisation (training mode uses batch statistics) ------------------------------------
    "BatchNorm1d": C(3, train=True, inputs=((4, 3),), prepare=_randomise("weight", "bias")),
    "BatchNorm1d[3d]": C(3, train=True, inputs=((2, 3, 4),)),
    "BatchNorm1d[eval]": C(3, inputs=((2, 3, 4),), prepare=_bn_stats),
    "BatchNorm2d": C(3, train=True, inputs=((2, 3, 2, 2),), prepare=_randomise("weight", "bias")),
    "BatchNorm2d[eval]": C(3, inputs=((2, 3, 2, 2),), prepare=_bn_stats),
    "BatchNorm2d[no_stats]": C(3, track_running_stats=False, inputs=((2, 3, 2, 2),)),
    "BatchNorm3d": C(2, train=True, inputs=((2, 2, 2, 2, 2),)),
    # one process: BatchNorm's maths (the multi-rank op is checked in test_distributed_mpi.py)
    "SyncBatchNorm": C(3, train=True, inputs=((2, 3, 2, 2),), prepare=_randomise("weight", "bias")),
    "GhostBatchNorm1d": C(3, 2, train=True, inputs=((4, 3),), prepare=_randomise("weight")),
    "GhostBatchNorm2d": C(3, 2, train=True, inputs=((4, 3, 2, 2),)),
    "InstanceNorm1d": C(
        3, affine=True, train=True, inputs=((2, 3, 4),), prepare=_randomise("weight", "bias")
    ),
    "InstanceNorm2d": C(3, affine=True, train=True, inputs=((2, 3, 3, 3),)),
    "InstanceNorm2d[no_affine]": C(2, inputs=((2, 2, 3, 3),)),
    "LayerNorm": C(3, inputs=((2, 4, 3),), prepare=_randomise("weight", "bias")),
    "LayerNorm[2d]": C((2, 3), inputs=((2, 2, 3),)),
    "GroupNorm": C(2, 4, inputs=((2, 4, 3),), prepare=_randomise("weight", "bias")),
    "RMSNorm": C(3, inputs=((2, 4, 3),), prepare=_randomise("weight")),
    "RMSNorm[eps]": C((2, 3), eps=1e-3, inputs=((2, 2, 3),)),
    # ---- pooling & resampling -------------------------------------------------------------------
    "MaxPool1d": C(2, inputs=lambda: [distinct(2, 2, 6)]),
    "MaxPool1d[pad_dilation]": C(3, stride=2, padding=1, dilation=2, inputs=lambda: [distinct(2, 2, 7)]),
    "MaxPool2d": C(2, inputs=lambda: [distinct(2, 2, 4, 4)]),
    "MaxPool2d[overlap_ceil]": C(
        3, stride=2, padding=1, ceil_mode=True, inputs=lambda: [distinct(1, 2, 5, 4)]
    ),
    "AvgPool1d": C(2, inputs=((2, 2, 6),)),
    "AvgPool1d[pad]": C(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True, inputs=((2, 2, 6),)),
    "AvgPool2d": C(2, inputs=((2, 2, 4, 4),)),
    "AvgPool2d[pad]": C(3, stride=2, padding=1, count_include_pad=False, inputs=((1, 2, 5, 4),)),
    "AdaptiveAvgPool1d": C(3, inputs=((2, 2, 5),)),
    "AdaptiveAvgPool2d": C((2, 3), inputs=((2, 2, 5, 4),)),
    "AdaptiveMaxPool1d": C(2, inputs=lambda: [distinct(2, 2, 5)]),
    "AdaptiveMaxPool2d": C((2, 3), inputs=lambda: [distinct(2, 2, 5, 4)]),
    "Upsample": C(scale_factor=2, inputs=((2, 2, 3),)),
    "Upsample[linear]": C(size=5, mode="linear", inputs=((2, 2, 3),)),
    "Upsample[linear_corners]": C(scale_factor=2, mode="linear", align_corners=True, inputs=((2, 2, 3),)),
    "Upsample[bilinear]": C(size=(4, 5), mode="bilinear", inputs=((1, 2, 3, 3),)),
    "Upsample[nearest2d]": C(size=(5, 4), inputs=((1, 2, 3, 3),)),
    "UpsamplingNearest2d": C(scale_factor=2, inputs=((1, 2, 3, 3),)),
    "UpsamplingBilinear2d": C(size=(4, 5), inputs=((1, 2, 3, 3),)),
    # ---- 3-D layers, unpooling, rearranging, padding (issue 11) ----------------------------------
    "Conv3d": C(2, 2, (2, 3, 2), stride=(1, 2, 1), padding=1, inputs=((1, 2, 3, 4, 3),)),
    "ConvTranspose3d": C(2, 2, 2, stride=2, padding=1, output_padding=1, inputs=((1, 2, 2, 2, 2),)),
    "MaxPool3d": C(2, stride=1, inputs=lambda: [distinct(1, 2, 3, 3, 3)]),
    "AvgPool3d": C(2, stride=1, padding=1, count_include_pad=False, inputs=((1, 2, 2, 3, 2),)),
    "AdaptiveAvgPool3d": C((2, 1, 2), inputs=((1, 2, 3, 3, 3),)),
    "AdaptiveMaxPool3d": C((2, 1, 2), inputs=lambda: [distinct(1, 2, 3, 3, 3)]),
    "InstanceNorm3d": C(
        2, affine=True, train=True, inputs=((2, 2, 2, 2, 2),), prepare=_randomise("weight", "bias")
    ),
    "MaxUnpool1d": C(2, inputs=lambda: [signed(1, 2, 3), ag.tensor([[[1, 2, 5], [0, 3, 4]]])]),
    "MaxUnpool2d": C(2, inputs=lambda: [signed(1, 1, 2, 2), ag.tensor([[[[0, 3], [9, 14]]]])]),
    "MaxUnpool3d": C(2, inputs=lambda: [signed(1, 1, 1, 1, 2), ag.tensor([[[[[5, 14]]]]])]),
    "PixelShuffle": C(2, inputs=((1, 8, 2, 2),)),
    "PixelUnshuffle": C(2, inputs=((1, 2, 4, 2),)),
    "Fold": C((3, 4), 2, inputs=((1, 8, 6),)),
    "Unfold": C(2, padding=1, stride=2, inputs=((1, 2, 3, 4),)),
    **{
        f"{kind}Pad{d}d": C(
            (1, -1, 2, 0, 1, 1)[: 2 * d],
            *((0.5,) if kind == "Constant" else ()),
            inputs=((1, 2) + (3, 4, 3)[:d],),
        )
        for kind in ("Reflection", "Replication", "Circular", "Zero", "Constant")
        for d in (1, 2, 3)
    },
    # ---- positional -----------------------------------------------------------------------------
    "SinusoidalPositionalEncoding": C(4, 8, 0.0, inputs=((3, 2, 4),)),
    "SinusoidalPositionalEncoding[offset]": C(
        4, 8, 0.5, batch_first=True, inputs=lambda: [signed(2, 3, 4), 2]
    ),
    "LearnedPositionalEmbedding": C(6, 4, inputs=((3, 2, 4),)),
    "LearnedPositionalEmbedding[offset]": C(6, 4, batch_first=True, inputs=lambda: [signed(2, 3, 4), 2]),
    # ---- sparse ---------------------------------------------------------------------------------
    "Embedding": C(5, 3, inputs=lambda: [ag.tensor([[0, 2, 4], [2, 2, 1]])]),
    # The padding row gets no gradient by design (as in PyTorch), though it changes the output:
    # mask the padding positions out so finite differences agree, and check the row stays zero.
    "Embedding[padding_idx]": C(
        5,
        3,
        padding_idx=2,
        inputs=lambda: [ag.tensor([[0, 2, 4], [2, 2, 1]])],
        call=lambda m, ids: m(ids) * _t((ids.numpy() != 2)[..., None], False),
    ),
    # ---- recurrent ------------------------------------------------------------------------------
    "RNNCell": C(3, 4, inputs=((2, 3), (2, 4))),
    "RNNCell[relu_nostate]": C(3, 4, nonlinearity="relu", inputs=((2, 3),)),
    "LSTMCell": C(3, 4, inputs=((2, 3), (2, 4), (2, 4)), call=lambda m, x, h, c: m(x, (h, c))),
    "GRUCell": C(3, 4, inputs=((2, 3), (2, 4))),
    "GRUCell[nobias_unbatched]": C(3, 4, bias=False, inputs=((3,), (4,))),
    "RNN": C(3, 4, inputs=((3, 2, 3), (1, 2, 4))),
    "RNN[relu_2layer_bidir]": C(
        3, 3, num_layers=2, nonlinearity="relu", bidirectional=True, inputs=((3, 2, 3), (4, 2, 3)), gc=SMALL
    ),
    "LSTM": C(3, 4, inputs=((3, 2, 3), (1, 2, 4), (1, 2, 4)), call=lambda m, x, h, c: m(x, (h, c))),
    "LSTM[2layer_bidir_batch_first]": C(
        3, 3, num_layers=2, bidirectional=True, batch_first=True, inputs=((2, 3, 3),), gc=SMALL
    ),
    "GRU": C(3, 4, inputs=((3, 2, 3), (1, 2, 4))),
    "GRU[2layer_dropout_train]": C(
        3, 3, num_layers=2, dropout=0.3, train=True, seeded=True, inputs=((3, 2, 3),), gc=SMALL
    ),
    "RNNBase": C("LSTM", 3, 4, inputs=((3, 2, 3),)),
    # ---- attention & transformer ----------------------------------------------------------------
    "MultiheadAttention": C(4, 2, inputs=((3, 2, 4), (2, 2, 4), (2, 2, 4))),
    "MultiheadAttention[kdim_vdim_batch_first]": C(
        4,
        2,
        kdim=3,
        vdim=5,
        batch_first=True,
        add_bias_kv=True,
        inputs=((2, 3, 4), (2, 2, 3), (2, 2, 5)),
        prepare=_randomise("bias_k", "bias_v"),
    ),
    "MultiheadAttention[masks_heads]": C(
        4,
        2,
        inputs=((3, 2, 4), (3, 2, 4), (3, 2, 4)),
        call=lambda m, q, k, v: m(
            q,
            k,
            v,
            attn_mask=_causal(3),
            key_padding_mask=ag.tensor([[False, False, True], [False, False, False]]),
            average_attn_weights=False,
        ),
    ),
    "MultiheadAttention[dropout_train]": C(
        4, 2, dropout=0.3, train=True, seeded=True, inputs=((3, 2, 4),) * 3
    ),
    "TransformerEncoderLayer": C(4, 2, 6, 0.0, inputs=((3, 2, 4),), gc=SMALL),
    "TransformerEncoderLayer[norm_first_gelu_causal]": C(
        4,
        2,
        6,
        0.0,
        activation="gelu",
        norm_first=True,
        batch_first=True,
        inputs=((2, 3, 4),),
        call=lambda m, x: m(x, src_mask=_causal(3), is_causal=True),
        gc=SMALL,
    ),
    "TransformerEncoderLayer[dropout_train]": C(
        4, 2, 6, 0.2, train=True, seeded=True, inputs=((3, 2, 4),), gc=SMALL
    ),
    "TransformerDecoderLayer": C(4, 2, 6, 0.0, inputs=((3, 2, 4), (2, 2, 4)), gc=SMALL),
    "TransformerDecoderLayer[norm_first_causal]": C(
        4,
        2,
        6,
        0.0,
        norm_first=True,
        inputs=((3, 2, 4), (2, 2, 4)),
        call=lambda m, t, s: m(t, s, tgt_mask=_causal(3), tgt_is_causal=True),
        gc=SMALL,
    ),
    "TransformerEncoder": C(
        build=lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(4, 2, 6, 0.0), 2, norm=nn.LayerNorm(4)
        ),
        inputs=((3, 2, 4),),
        gc=SMALL,
    ),
    "TransformerDecoder": C(
        build=lambda: nn.TransformerDecoder(
            nn.TransformerDecoderLayer(4, 2, 6, 0.0), 2, norm=nn.LayerNorm(4)
        ),
        inputs=((3, 2, 4), (2, 2, 4)),
        gc=SMALL,
    ),
    "Transformer": C(
        4,
        2,
        1,
        1,
        6,
        0.0,
        inputs=((2, 2, 4), (3, 2, 4)),
        call=lambda m, s, t: m(s, t, tgt_mask=_causal(3)),
        gc=SMALL,
    ),
    # ---- residual -------------------------------------------------------------------------------
    "Residual": C(build=lambda: nn.Residual(nn.Linear(3, 3)), inputs=((2, 3),)),
    "BasicBlock": C(2, 2, train=True, inputs=((2, 2, 3, 3),), gc=SMALL),
    "BasicBlock[downsample_eval]": C(
        build=lambda: nn.BasicBlock(2, 3, stride=2, downsample=nn.make_downsample(2, 3, 2)),
        inputs=((2, 2, 4, 4),),
        prepare=_bn_stats,
        gc=SMALL,
    ),
    "Bottleneck": C(8, 2, train=True, inputs=((2, 8, 3, 3),), gc=SMALL),
    # ---- losses: w.r.t. the prediction(s), with a fixed target ----------------------------------
    "L1Loss": C(inputs=_pred_target((2, 3))),
    "MSELoss": C(inputs=_pred_target((2, 3))),
    "MSELoss[sum]": C(reduction="sum", inputs=_pred_target((2, 3))),
    "SmoothL1Loss": C(beta=0.5, inputs=lambda: _away_from_beta(0.5)),
    "HuberLoss": C(reduction="sum", delta=0.5, inputs=lambda: _away_from_beta(0.5)),
    "NLLLoss": C(inputs=lambda: [signed(3, 4), ints(4, 3)]),
    "NLLLoss[weight_ignore_kdim]": C(
        build=lambda: nn.NLLLoss(weight=ag.tensor([0.5, 1.0, 2.0]), ignore_index=1),
        inputs=lambda: [signed(2, 3, 2), ag.tensor([[0, 1], [2, 0]])],
    ),
    "CrossEntropyLoss": C(inputs=lambda: [signed(3, 4), ints(4, 3)]),
    "CrossEntropyLoss[weight_smoothing]": C(
        build=lambda: nn.CrossEntropyLoss(weight=ag.tensor([0.5, 1.0, 2.0, 1.5]), label_smoothing=0.1),
        inputs=lambda: [signed(3, 4), ints(4, 3)],
    ),
    "CrossEntropyLoss[probs_kdim]": C(inputs=lambda: [signed(2, 3, 2), probs(2, 3, 2, dim=1)]),
    "BCELoss": C(
        inputs=lambda: [uniform(2, 3, lo=0.1, hi=0.9), uniform(2, 3, lo=0.0, hi=1.0, requires_grad=False)]
    ),
    "BCELoss[weight]": C(
        build=lambda: nn.BCELoss(weight=ag.tensor([0.5, 1.0, 2.0])),
        inputs=lambda: [uniform(2, 3, lo=0.1, hi=0.9), uniform(2, 3, lo=0.0, hi=1.0, requires_grad=False)],
    ),
    "BCEWithLogitsLoss": C(
        inputs=lambda: [signed(2, 3, hi=2.0), uniform(2, 3, lo=0.0, hi=1.0, requires_grad=False)]
    ),
    "BCEWithLogitsLoss[pos_weight]": C(
        build=lambda: nn.BCEWithLogitsLoss(pos_weight=ag.tensor([0.5, 1.0, 3.0])),
        inputs=lambda: [signed(2, 3, hi=2.0), uniform(2, 3, lo=0.0, hi=1.0, requires_grad=False)],
    ),
    "KLDivLoss": C(reduction="batchmean", inputs=lambda: [_t(np.log(probs(2, 3).numpy())), probs(2, 3)]),
    "KLDivLoss[log_target]": C(
        reduction="sum", log_target=True, inputs=lambda: [signed(2, 3), signed(2, 3, requires_grad=False)]
    ),
    "CosineEmbeddingLoss": C(margin=0.2, inputs=_cosine_inputs),
    "MarginRankingLoss": C(margin=0.1, inputs=_ranking_inputs),
    "HingeEmbeddingLoss": C(margin=1.0, inputs=lambda: [away(2, 3, kinks=(1.0,), scale=2.0), pm_one(2, 3)]),
    "SoftMarginLoss": C(inputs=lambda: [signed(2, 3), pm_one(2, 3)]),
    "PairwiseDistance": C(inputs=((3, 4), (3, 4))),
    "CosineSimilarity": C(inputs=((3, 4), (3, 4))),
    "TripletMarginLoss": C(margin=0.5, inputs=((3, 4), (3, 4), (3, 4))),
    "DataParallel": C(build=lambda: nn.DataParallel(nn.Linear(3, 2)), inputs=((2, 3),)),
}


def _away_from_beta(beta: float) -> list:
    """(prediction, target) with |prediction - target| away from the quadratic/linear switch."""
    x = signed(2, 3)
    diff = _signed_array((2, 3), 0.1, 1.0)
    diff[np.abs(np.abs(diff) - beta) < 0.05] *= 1.3
    return [x, _t(x.numpy() - diff, False)]


# key -> reason, for a case whose gradient is wrong in the library (marked xfail(strict=True)).
# Empty: every case passes.
XFAIL: dict[str, str] = {}


# ---- the checks ---------------------------------------------------------------------------------
def _class_name(key: str) -> str:
    return key.split("[", 1)[0]


def _flat(out: Any) -> list:
    """Every float tensor in a (possibly nested) output, in order."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    if isinstance(out, ag.Tensor) and out.dtype.kind == "f":
        return [out]
    return []


def _setup(key: str) -> tuple:
    case = LAYERS[key]
    seed = zlib.crc32(key.encode())
    _Rng.gen = np.random.default_rng(seed)
    ag.manual_seed(seed % (2**31))
    if case.build is not None:
        layer = case.build()
    else:
        layer = getattr(nn, _class_name(key))(*case.args, **case.kwargs)
    assert isinstance(layer, getattr(nn, _class_name(key)))
    layer = layer.double()
    layer.train(case.train)
    if case.prepare is not None:
        case.prepare(layer)
    if callable(case.inputs):
        inputs = list(case.inputs())
    else:
        inputs = [signed(*shape) for shape in case.inputs]
    return case, layer, inputs


def _forward(case: Case, layer: nn.Module, xs: tuple) -> tuple:
    if case.seeded:
        ag.manual_seed(1234)  # the same dropout mask in every evaluation
    out = case.call(layer, *xs) if case.call is not None else layer(*xs)
    if case.out is not None:
        out = case.out(out)
    outs = _flat(out)
    assert outs, "the layer returned no float tensor"
    return tuple(outs)


def _param(key: str) -> Any:
    if key in XFAIL:
        return pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=XFAIL[key]))
    return key


@pytest.mark.parametrize("key", [_param(k) for k in LAYERS])
def test_layer_gradcheck(key: str) -> None:
    case, layer, inputs = _setup(key)
    params = [p for p in layer.parameters() if p.requires_grad]
    n = len(inputs)
    for t in inputs:
        if isinstance(t, ag.Tensor) and t.requires_grad:
            assert t.dtype == np.float64
    for name, p in layer.named_parameters():
        assert p.dtype == np.float64, f"{name} is {p.dtype} after .double()"
    wrt = [t for t in inputs if isinstance(t, ag.Tensor) and t.requires_grad] + params
    assert wrt, f"{key}: nothing to check"

    def fn(*args: Any) -> tuple:
        return _forward(case, layer, args[:n])  # parameters are read from the module itself

    gc = {"max_elements": 32, "n_directions": 6, **case.gc}
    assert gradcheck(fn, inputs + params, **gc)
    # A parameter that silently gets no gradient would pass the check above only if it does not
    # affect the output: make sure each one does receive a gradient.
    outs = fn(*inputs)
    total = sum(((o * ag.tensor(np.ones(o.shape))).sum() for o in outs), ag.tensor(0.0))
    grads = ag.grad(total, wrt, allow_unused=True)
    names = [f"input {i}" for i, t in enumerate(inputs) if isinstance(t, ag.Tensor) and t.requires_grad]
    names += [name for name, p in layer.named_parameters() if p.requires_grad]
    missing = [nm for nm, g in zip(names, grads) if g is None]
    assert not missing, f"{key}: no gradient reaches {missing}"


def _public_layer_classes() -> set:
    return {
        name
        for name, obj in vars(nn).items()
        if not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, nn.Module)
    }


def test_every_public_layer_is_covered() -> None:
    public = _public_layer_classes()
    covered = {_class_name(k) for k in LAYERS}
    missing = sorted(public - covered - set(EXEMPT))
    assert not missing, (
        f"public layers with no gradcheck case in tests/test_nn_gradcheck_all.py "
        f"(add them to LAYERS, or to EXEMPT with a reason): {missing}"
    )


def test_table_names_are_real() -> None:
    public = _public_layer_classes()
    assert not ({_class_name(k) for k in LAYERS} - public), "LAYERS names a non-public class"
    assert not (set(EXEMPT) - public), "EXEMPT names a non-public class"
    checked = {_class_name(k) for k in LAYERS}
    assert not (set(EXEMPT) & checked), "a class is both checked and exempt"
    assert set(XFAIL) <= set(LAYERS)


def test_embedding_padding_row_gets_no_gradient() -> None:
    """The complement of the masked `Embedding[padding_idx]` gradcheck above."""
    layer = nn.Embedding(5, 3, padding_idx=2).double()
    layer(ag.tensor([[0, 2, 4], [2, 2, 1]])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[2], 0.0)
    assert np.all(layer.weight.grad.numpy()[[0, 1, 4]] != 0.0)
