"""Graph pictures and the profiler on real library models: an unrolled LSTMCell, a 6-layer
TransformerEncoder, and a small CNN training step."""

from __future__ import annotations

import struct
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn.functional as F
from autograd_nn import nn, viz
from autograd_nn.profiler import ENGINE_ROW, profile
from autograd_nn.viz import record_scopes

LSTM_PARAMS = ["cell.weight_ih", "cell.weight_hh", "cell.bias_ih", "cell.bias_hh"]


# ---- an LSTMCell unrolled over 20 steps --------------------------------------------------------
class Unrolled(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(4, 6)

    def forward(self, xs):
        h = c = ag.zeros(3, 6)
        for x in xs:
            h, c = self.cell(x, (h, c))
        return h.sum()


def lstm_loss():
    model = Unrolled()
    rng = np.random.default_rng(0)
    xs = [ag.tensor(rng.standard_normal((3, 4)).astype(np.float32)) for _ in range(20)]
    with record_scopes():
        loss = model(xs)
    loss.backward(retain_graph=True)
    return model, loss


def param_titles(graph):
    return sorted(n.title for n in graph.nodes if n.kind == "param")


def test_lstm_unrolled_20_steps_clusters_params_and_png(tmp_path):
    model, loss = lstm_loss()
    graph = viz.build_graph(loss, params=model, fold_repeats=False)
    labels = list(graph.clusters.values())
    assert labels.count("cell (LSTMCell)") == 20 and labels[0] == "Unrolled"
    assert len(graph.find("LSTMCellFused", "op")) == 20 and graph.notes == []
    assert param_titles(graph) == sorted(LSTM_PARAMS)  # each parameter drawn once, named
    folded = viz.to_dot(loss, params=model)  # the fold box holds the cell and its 4 parameters
    assert "LSTMCell x 20" in folded and "4 parameters" in folded
    dot = viz.to_dot(loss, params=model, fold_repeats=False)
    assert dot.count("subgraph cluster_") == 21 and dot.count("cell (LSTMCell)") == 20
    assert all(dot.count(f"<B>{name}</B>") == 1 for name in LSTM_PARAMS)
    png = viz.draw_graph(loss, params=model, format="png").render(tmp_path / "lstm", cleanup=True)
    data = open(png, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert len(data) > 10_000 and width > 200 and height > 100


def test_lstm_20_cell_calls_fold_into_one_box():
    model, loss = lstm_loss()
    graph = viz.build_graph(loss, params=model)
    folds = [n.title for n in graph.nodes if n.kind == "fold"]
    assert folds == ["LSTMCell x 20"]
    assert not graph.find("LSTMCellFused")  # every cell call is inside the box
    assert "folded 20 repeated calls of LSTMCell (cell ... cell)" in graph.notes


# ---- a 6-layer TransformerEncoder between an embedding and a linear head ---------------------
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, 6)
        self.head = nn.Linear(16, 5)

    def forward(self, idx):
        return self.head(self.encoder(self.embed(idx)))


@pytest.fixture(scope="module")
def encoder_loss():
    model = Encoder()
    idx = ag.tensor(np.random.default_rng(0).integers(0, 50, (7, 2)))
    with record_scopes():
        loss = model(idx).sum()
    loss.backward(retain_graph=True)
    return model, loss


def test_transformer_layers_fold_to_one_box(encoder_loss):
    model, loss = encoder_loss
    graph = viz.build_graph(loss, params=model)
    (box,) = [n for n in graph.nodes if n.kind == "fold"]
    assert box.title == "TransformerEncoderLayer x 6"
    assert box.rows[0] == ("", "encoder.layers.0 ... encoder.layers.5")
    assert ("", "72 parameters") in box.rows  # 12 per layer
    # the only run anywhere (also inside the layers: linear1, relu, linear2 is no 'Linear x 2')
    assert graph.notes == [
        "folded 6 repeated calls of TransformerEncoderLayer (encoder.layers.0 ... encoder.layers.5)"
    ]
    assert not graph.find("Linear x 2")
    assert {"embed.weight", "head.weight", "head.bias"} <= set(param_titles(graph))
    dot = viz.to_dot(loss, params=model)
    assert "TransformerEncoderLayer x 6" in dot and "encoder.layers.0 ... encoder.layers.5" in dot


def test_transformer_collapse_depth_2_without_folding(encoder_loss, tmp_path):
    model, loss = encoder_loss
    graph = viz.build_graph(loss, params=model, collapse_depth=2, fold_repeats=False)
    boxes = [n for n in graph.nodes if n.kind == "module"]
    assert [n.title for n in boxes] == ["TransformerEncoderLayer"] * 6
    assert [n.rows[0][1] for n in boxes] == [f"encoder.layers.{i}" for i in range(6)]
    assert all(("", "12 parameters") in n.rows for n in boxes)
    assert not graph.find("TransformerEncoderLayer x 6") and not graph.find("Relu")
    assert "modules nested deeper than 2 level(s) drawn as single boxes" in graph.notes
    svg = viz.draw_graph(loss, params=model, format="svg", collapse_depth=2, fold_repeats=False).render(
        tmp_path / "enc", cleanup=True
    )
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "encoder.layers.3" in open(svg, encoding="utf-8").read()


def test_transformer_unfolded_layer_keeps_linear1_relu_linear2(encoder_loss):
    model, _ = encoder_loss
    with record_scopes():
        out = model.encoder.layers[3](ag.randn(7, 2, 16)).sum()
    graph = viz.build_graph(out, params=model)  # fold_repeats on: still nothing to fold
    assert graph.notes == [] and not [n for n in graph.nodes if n.kind == "fold"]
    where = {n.id: (n.title, n.cluster[-1][0] if n.cluster else "") for n in graph.nodes}
    ops = [where[n.id] for n in graph.nodes if n.kind == "op"]
    start = ops.index(("Linear", "layers.3.linear1"))
    assert ops[start : start + 3] == [
        ("Linear", "layers.3.linear1"),
        ("Relu", "layers.3"),
        ("Linear", "layers.3.linear2"),
    ]
    edges = {(where[e.src], where[e.dst]) for e in graph.edges}  # op -> tensor -> op
    assert (("Linear", "layers.3.linear1"), ("", "layers.3.linear1")) in edges
    assert (("", "layers.3"), ("Linear", "layers.3.linear2")) in edges
    assert {"layers.3.linear1 (Linear)", "layers.3.linear2 (Linear)"} <= set(graph.clusters.values())


# ---- the profiler on a CNN training step --------------------------------------------------------
def cnn_step_profiles(attempts=3):
    """Profile one step (forward + backward) up to `attempts` times; yields (profile, wall)."""
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 14 * 14, 10)
    )
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = ag.tensor(rng.integers(0, 10, 64))
    F.cross_entropy(model(x), y).backward()  # warm up: Numba compiles outside the measurement
    for _ in range(attempts):
        model.zero_grad()
        with profile() as prof:
            start = time.perf_counter()
            F.cross_entropy(model(x), y).backward()
            wall = time.perf_counter() - start
        yield prof, wall


def test_profiler_table_names_conv_and_maxpool():
    prof, _ = next(cnn_step_profiles(attempts=1))
    names = [s.name for s in prof.key_averages()]
    assert "Conv" in names and all(s.count == 1 for s in prof.key_averages() if s.name != ENGINE_ROW)
    assert any("MaxPool" in name for name in names), prof.table()


def test_profiler_self_times_add_up_to_the_cnn_step_wall_time():
    # The machine is shared: another process can stretch the wall time of any one step without
    # the ops being slower, so up to 3 steps are measured and one within 10% is enough.
    ratios = []
    for prof, wall in cnn_step_profiles(attempts=3):
        per_op = sum(s.forward_time + s.backward_time for s in prof.key_averages())
        assert per_op == pytest.approx(prof.total_time) and per_op <= wall
        ratios.append(per_op / wall)
        if abs(per_op - wall) <= 0.1 * wall:
            break
    assert abs(ratios[-1] - 1.0) <= 0.1, (ratios, prof.table())
