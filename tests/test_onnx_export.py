"""autograd_nn.onnx.export: every layer with an ONNX equivalent, and every example model, run by
onnxruntime on fresh inputs of two batch sizes (and sequence lengths where dynamic) gives our
outputs to float32 tolerance; the graph passes onnx.checker's full check."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from autograd_nn.onnx import ExportError, export  # noqa: E402

RNG = np.random.default_rng(0)


def _session(proto):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def check_export(
    model,
    make_inputs,
    dynamic=None,
    sizes=((3, 5), (2, 4), (5, 7)),
    names=None,
    atol=1e-5,
    rtol=1e-4,
    **kwargs,
):
    """Export on make_inputs(*sizes[0]); onnxruntime must match on the other sizes (with no
    dynamic axes, on fresh inputs of the first size). Returns the ModelProto."""
    model.eval()
    example = make_inputs(*sizes[0])
    names = names or [f"in{i}" for i in range(len(example))]
    proto = export(model, example, None, input_names=names, dynamic_axes=dynamic, **kwargs)
    onnx.checker.check_model(proto, full_check=True)
    sess = _session(proto)
    for size in sizes[1:] if dynamic else sizes[:1] * 2:
        inputs = make_inputs(*size)
        ours = [t.numpy() for t in _tensors(model(*inputs))]
        theirs = sess.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
        assert len(theirs) == len(ours)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape, (a.shape, b.shape, size)
            np.testing.assert_allclose(b, a, atol=atol, rtol=rtol, err_msg=f"size {size}")
    return proto


def _tensors(obj):
    if isinstance(obj, ag.Tensor):
        return [obj]
    return [t for item in obj for t in _tensors(item)] if isinstance(obj, (tuple, list)) else []


def _x(*shape):
    return lambda b, t: (ag.tensor(RNG.standard_normal((b,) + shape).astype(np.float32)),)


def _seq(feat, batch_first=False):
    def make(b, t):
        shape = (b, t, feat) if batch_first else (t, b, feat)
        return (ag.tensor(RNG.standard_normal(shape).astype(np.float32)),)

    return make


BATCH = {"in0": {0: "batch"}}
SEQ = {"in0": {0: "time", 1: "batch"}}
SEQ_BF = {"in0": {0: "batch", 1: "time"}}

LAYERS = {
    "Linear": (lambda: nn.Linear(6, 4), _x(6), BATCH),
    "Linear 3-D": (lambda: nn.Linear(6, 4), _seq(6), SEQ),
    "Bilinear-free MLP": (lambda: nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 2)), _x(6), BATCH),
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), _x(3, 9), BATCH),
    "Conv2d dilation groups": (
        lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2),
        _x(4, 7, 7),
        BATCH,
    ),
    "Conv2d same": (lambda: nn.Conv2d(2, 3, 4, padding="same"), _x(2, 6, 6), BATCH),
    "ConvTranspose1d": (
        lambda: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1),
        _x(3, 5),
        BATCH,
    ),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), _x(3, 4, 4), BATCH),
    "MaxPool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), _x(2, 9), BATCH),
    "MaxPool2d ceil": (lambda: nn.MaxPool2d(2, ceil_mode=True), _x(2, 5, 5), BATCH),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2), _x(2, 9), BATCH),
    "AvgPool2d pad": (
        lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        _x(2, 6, 6),
        BATCH,
    ),
    "AvgPool2d pad include": (lambda: nn.AvgPool2d(3, stride=2, padding=1), _x(2, 6, 6), BATCH),
    "AdaptiveAvgPool2d 1": (lambda: nn.AdaptiveAvgPool2d(1), _x(2, 5, 5), BATCH),
    "AdaptiveAvgPool2d 2": (lambda: nn.AdaptiveAvgPool2d(2), _x(2, 4, 6), BATCH),
    "AdaptiveMaxPool2d 2": (lambda: nn.AdaptiveMaxPool2d(2), _x(2, 4, 4), BATCH),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(5), _x(5), BATCH),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), _x(3, 4, 4), BATCH),
    "LayerNorm": (lambda: nn.LayerNorm((4, 5)), _x(3, 4, 5), BATCH),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), _x(4, 3, 3), BATCH),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3, affine=True), _x(3, 4, 4), BATCH),
    "RMSNorm": (lambda: nn.RMSNorm(6), _x(6), BATCH),
    "Dropout": (lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), _x(4), BATCH),
    "Flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), _x(3, 4), BATCH),
    "Upsample nearest": (lambda: nn.Upsample(scale_factor=2), _x(2, 3, 3), BATCH),
    "Upsample bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), _x(2, 3, 3), BATCH),
    "Softmax": (lambda: nn.Softmax(dim=-1), _x(5), BATCH),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), _x(5), BATCH),
    "Softmin": (lambda: nn.Softmin(dim=1), _x(5), BATCH),
    "BasicBlock": (
        lambda: nn.BasicBlock(4, 8, 2, downsample=nn.make_downsample(4, 8, 2)),
        _x(4, 6, 6),
        BATCH,
    ),
    "Bottleneck": (lambda: nn.Bottleneck(16, 4), _x(16, 4, 4), BATCH),
    "Residual": (lambda: nn.Residual(nn.Linear(5, 5)), _x(5), BATCH),
    "RNN relu 2 layers": (lambda: nn.RNN(3, 4, 2, nonlinearity="relu"), _seq(3), SEQ),
    "LSTM bidirectional": (lambda: nn.LSTM(3, 4, bidirectional=True), _seq(3), SEQ),
    "LSTM batch_first 2 layers": (lambda: nn.LSTM(3, 4, 2, batch_first=True), _seq(3, True), SEQ_BF),
    "GRU bidirectional 2 layers": (lambda: nn.GRU(3, 5, 2, bidirectional=True), _seq(3), SEQ),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), _x(3), BATCH),
    "GRUCell": (lambda: nn.GRUCell(3, 4), _x(3), BATCH),
    "RNNCell": (lambda: nn.RNNCell(3, 4), _x(3), BATCH),
    "MultiheadAttention": (lambda: _SelfAttention(nn.MultiheadAttention(8, 2)), _seq(8), SEQ),
    "MultiheadAttention batch_first causal": (
        lambda: _SelfAttention(nn.MultiheadAttention(8, 2, batch_first=True), causal=True),
        _seq(8, True),
        SEQ_BF,
    ),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.1), _seq(8), SEQ),
    "TransformerEncoder norm_first": (
        lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, 0.0, "gelu", batch_first=True, norm_first=True), 2
        ),
        _seq(8, True),
        SEQ_BF,
    ),
    "TransformerDecoderLayer": (lambda: _Decoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0)), _seq(8), SEQ),
    "Transformer": (
        lambda: _Seq2Seq(nn.Transformer(8, 2, 1, 1, 16, 0.0, batch_first=True)),
        _seq(8, True),
        SEQ_BF,
    ),
    "SinusoidalPositionalEncoding": (lambda: nn.SinusoidalPositionalEncoding(8, 32, 0.0), _seq(8), SEQ),
    "Embedding": (
        lambda: nn.Embedding(10, 4),
        lambda b, t: (ag.tensor(RNG.integers(0, 10, (b, t))),),
        SEQ_BF,
    ),
}
ACTIVATIONS = [
    "ReLU",
    "ReLU6",
    "SELU",
    "SiLU",
    "Mish",
    "Hardsigmoid",
    "Hardswish",
    "LeakyReLU",
    "ELU",
    "CELU",
    "GELU",
    "Tanh",
    "Sigmoid",
    "LogSigmoid",
    "Softsign",
    "Tanhshrink",
    "Softplus",
    "Hardtanh",
    "GLU",
]
# These pick values with a mask made by a comparison (x > 0), which the engine does not record as
# an op: the export must refuse them rather than freeze the example input's mask into the graph.
MASKED_ACTIVATIONS = ["PReLU", "Softshrink", "Hardshrink"]


class _SelfAttention(nn.Module):
    def __init__(self, mha, causal=False):
        super().__init__()
        self.mha, self.causal = mha, causal

    def forward(self, x):
        return self.mha(x, x, x, is_causal=self.causal, need_weights=False)[0]


class _Decoder(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[0])
        return self.layer(x, x * 0.5, tgt_mask=mask)


class _Seq2Seq(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.model(
            x, x[:, 1:] if x.shape[1] > 2 else x, tgt_mask=mask[1:, 1:] if x.shape[1] > 2 else mask
        )


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_match_onnxruntime(name):
    make, inputs, dynamic = LAYERS[name]
    check_export(make(), inputs, dynamic)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_match_onnxruntime(name):
    layer = getattr(nn, name)()
    check_export(nn.Sequential(nn.Linear(4, 6), layer), _x(4), BATCH)


@pytest.mark.parametrize("name", MASKED_ACTIVATIONS)
def test_activations_made_with_comparisons_are_refused_not_frozen(name):
    model = nn.Sequential(nn.Linear(4, 6), getattr(nn, name)())
    with pytest.raises(ExportError, match="different values on a second run"):
        export(model, ag.randn(3, 4))


def test_rnn_with_initial_state_and_all_outputs():
    lstm = nn.LSTM(3, 4, 2)

    def make(b, t):
        x = ag.tensor(RNG.standard_normal((t, b, 3)).astype(np.float32))
        h = ag.tensor(RNG.standard_normal((2, b, 4)).astype(np.float32))
        c = ag.tensor(RNG.standard_normal((2, b, 4)).astype(np.float32))
        return x, (h, c)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x, h, c):
            out, (h, c) = self.lstm(x, (h, c))
            return out, h, c

    check_export(
        Wrap(),
        lambda b, t: (make(b, t)[0],) + make(b, t)[1],
        {"x": {0: "t", 1: "b"}, "h": {1: "b"}, "c": {1: "b"}},
        names=["x", "h", "c"],
    )


# ---- the example models ------------------------------------------------------------------------
def _ids(vocab, extra=0):
    return lambda b, t: (ag.tensor(RNG.integers(0, vocab, (b, t + extra))),)


def _images(b, t):
    return (ag.tensor(RNG.standard_normal((b, 1, 8, 8)).astype(np.float32)),)


def _example_models():
    from autograd_nn.examples import (
        autoencoders,
        bert,
        cnn,
        gan,
        gcn,
        gpt,
        lora,
        mlp,
        normalization,
        resnet,
        sequence,
        t5,
        unet,
        vit,
    )

    yield "cnn", cnn.DigitsCNN(), _images, BATCH
    yield "resnet", resnet.ResNet(), _images, BATCH
    yield "unet", unet.UNet(), _images, BATCH
    yield "unet nearest", unet.UNet(unet.UNetConfig(upsample="nearest")), _images, BATCH
    for scheme, norm in normalization.SCHEMES.items():
        yield f"normalization {scheme}", normalization.NormCNN(norm), _images, BATCH
    yield "autoencoder", autoencoders.Autoencoder(), _x(64), BATCH
    yield "mlp", mlp.MLP(2, [8, 8], 2, "tanh"), _x(2), BATCH
    yield "lora", nn.apply_lora(lora.DigitsMLP((16, 8)), ["fc1", "fc2"], r=2), _x(64), BATCH
    yield "gan generator", gan.Generator(4, 16, 2), _x(4), BATCH
    yield "gan discriminator", gan.Discriminator(2, 16), _x(2), BATCH
    graph = ag.data.stochastic_block_model(n_nodes=30)
    yield (
        "gcn",
        gcn.GCN(graph.normalized_adjacency(), graph.x.shape[1], 8, 3),
        lambda b, t: (ag.tensor(graph.x),),
        None,
    )
    for cell in ("rnn", "lstm", "gru"):
        yield f"char_{cell}", sequence.CharRNN(sequence.CharRNNConfig(cell=cell)), _ids(96), SEQ_BF
    yield "gpt", gpt.GPT(gpt.GPTConfig(n_layer=1)), _ids(96), SEQ_BF
    yield "bert", bert.BertClassifier(bert.BertConfig(num_layers=1)), _ids(4), SEQ_BF
    yield "vit", vit.ViT(vit.ViTConfig(num_layers=1)), _images, BATCH
    yield (
        "t5",
        t5.Seq2SeqTransformer(t5.Seq2SeqConfig(num_layers=1)),
        lambda b, t: _ids(11)(b, t) + _ids(11, -1)(b, t),
        {"in0": {0: "batch", 1: "src"}, "in1": {0: "batch", 1: "tgt"}},
    )


EXAMPLES = {name: rest for name, *rest in _example_models()}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_models_match_onnxruntime(name):
    model, inputs, dynamic = EXAMPLES[name]
    check_export(model, inputs, dynamic)


# ---- what the export keeps, and what it refuses -----------------------------------------------
def test_initializers_are_named_by_the_state_dict_and_frozen_models_export():
    from autograd_nn.examples import cnn

    model = cnn.DigitsCNN().requires_grad_(False).train()
    export(model, _images(2, 0))
    assert model.training  # restored after the export
    proto = check_export(model, _images, BATCH)
    names = {i.name for i in proto.graph.initializer}
    assert {"features.0.weight", "features.1.running_var", "classifier.bias"} <= names
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    np.testing.assert_array_equal(weights["features.0.weight"], model.features[0].weight.numpy())
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 8, 8]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_writes_paths_atomically_and_file_objects(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "sub" / "m.onnx"
    export(model, ag.randn(2, 3), path)
    buf = io.BytesIO()
    export(model, (ag.randn(2, 3),), buf)
    assert onnx.load_from_string(buf.getvalue()).graph.node
    assert onnx.load(str(path)).graph.output[0].name == "output"
    assert os.listdir(tmp_path / "sub") == ["m.onnx"]


def test_an_op_without_mapping_names_the_op_and_module():
    class Angle(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(2, 2)

        def forward(self, x):
            y = self.proj(x)
            return ag.atan2(y[:, :1], y[:, 1:])

    with pytest.raises(ExportError, match=r"'Atan2'.*has no ONNX mapping"):
        export(Angle(), ag.randn(2, 2))


def test_a_forward_that_loops_over_a_dynamic_axis_is_refused():
    class Loop(nn.Module):
        def forward(self, x):
            return sum((x[i] for i in range(x.shape[0])), x[0] * 0)

    with pytest.raises(ExportError, match="dynamic axes"):
        export(Loop(), ag.randn(3, 2), input_names=["x"], dynamic_axes={"x": [0]})


def test_import_without_onnx_and_the_error_that_names_the_extra():
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "import autograd_nn, autograd_nn.onnx\n"
        "try:\n"
        "    autograd_nn.onnx.export(autograd_nn.nn.Linear(2, 2), autograd_nn.randn(1, 2))\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "autograd-nn[onnx]" in out.stdout


def test_cli_exports_the_main_jobs_model(tmp_path):
    from autograd_nn.__main__ import main

    path = tmp_path / "cnn.onnx"
    assert main(["--example", "cnn", "--quick", "--out", str(tmp_path), "--export", str(path)]) == 0
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    x = RNG.standard_normal((4, 1, 8, 8)).astype(np.float32)
    assert _session(proto).run(None, {proto.graph.input[0].name: x})[0].shape == (4, 10)


def test_exported_graph_is_drawn(tmp_path):
    from autograd_nn.onnx import to_dot

    proto = export(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), ag.randn(2, 3))
    dot = to_dot(proto)
    assert "Gemm" in dot.source and "Relu" in dot.source and "0.weight" in dot.source
