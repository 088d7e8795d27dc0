"""Graph pictures: node and edge content of known graphs, clustering, folding, caps, rendering."""

from __future__ import annotations

import threading
from typing import ClassVar

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import scopes, viz
from autograd_nn.profiler import profile
from autograd_nn.scopes import StackedInstrument
from autograd_nn.viz import labels as viz_labels
from autograd_nn.viz import record_scopes, scope


def named(value, name):
    t = ag.tensor(value, requires_grad=True)
    t.name = name
    return t


def micrograd_expression():
    """Karpathy's example: L = (a * b + c) * f, with names on every tensor."""
    a, b, c, f = named(2.0, "a"), named(-3.0, "b"), named(10.0, "c"), named(-2.0, "f")
    e = a * b
    e.name = "e"
    d = e + c
    d.name = "d"
    loss = d * f
    loss.name = "L"
    return loss, (a, b, c, f, e, d)


def summary(graph):
    return [(n.kind, n.title) for n in graph.nodes]


def titles(graph):
    ids = {n.id: n.title or n.kind for n in graph.nodes}
    return [(ids[e.src], ids[e.dst], e.label) for e in graph.edges]


def tanh(x):
    return x.tanh() if hasattr(x, "tanh") else 1.0 - 2.0 / ((2.0 * x).exp() + 1.0)


# ---- small graphs ---------------------------------------------------------------------------
def test_micrograd_expression_exact_nodes_and_edges():
    loss, (a, b, c, f, e, d) = micrograd_expression()
    graph = viz.build_graph(loss)
    assert summary(graph) == [
        ("input", "a"),
        ("input", "b"),
        ("op", "Mul"),
        ("tensor", "e"),
        ("input", "c"),
        ("op", "Add"),
        ("tensor", "d"),
        ("input", "f"),
        ("op", "Mul"),
        ("output", "L"),
    ]
    assert titles(graph) == [
        ("a", "Mul", "0"),
        ("b", "Mul", "1"),
        ("Mul", "e", ""),
        ("e", "Add", "0"),
        ("c", "Add", "1"),
        ("Add", "d", ""),
        ("d", "Mul", "0"),
        ("f", "Mul", "1"),
        ("Mul", "L", ""),
    ]
    assert graph.notes == [] and graph.clusters == {}


def test_values_and_grads_are_shown_micrograd_style():
    loss, (a, b, c, f, e, d) = micrograd_expression()
    e.retain_grad()
    loss.backward(retain_graph=True)
    graph = viz.build_graph(loss)
    rows = {n.title: dict(n.rows) for n in graph.nodes if n.title in ("a", "e", "L")}
    assert rows["a"]["data"] == "2.0000" and rows["a"]["grad"] == "6.0000"  # dL/da = b * f
    assert rows["e"]["grad"] == "-2.0000"
    assert rows["L"]["data"] == "-8.0000"
    assert rows["a"][""] == "scalar float32"


def test_value_used_twice_gets_two_slot_edges():
    x = named(3.0, "x")
    graph = viz.build_graph(x * x)
    assert titles(graph) == [("x", "Mul", "0"), ("x", "Mul", "1"), ("Mul", "output", "")]


def test_render_png_and_svg_with_dot(tmp_path):
    loss, _ = micrograd_expression()
    loss.backward(retain_graph=True)
    png = viz.draw_graph(loss, format="png").render(tmp_path / "expr", cleanup=True)
    data = open(png, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    svg = viz.draw_graph(loss, format="svg", show_backward=True).render(tmp_path / "expr2")
    text = open(svg, encoding="utf-8").read()
    assert "<svg" in text and "Mul" in text and "backward #3" in text and "6.0000" in text


def test_to_dot_uses_html_labels_and_escapes_names():
    x = named([1.0, 2.0], "x<&>")
    dot = viz.to_dot(x.exp())
    assert "x&lt;&amp;&gt;" in dot and "x<&>" not in dot
    assert "t0 -> op1" in dot and "op1 -> t1" in dot


def test_root_must_be_tensors():
    with pytest.raises(TypeError, match="not a Tensor"):
        viz.build_graph([np.ones(3)])


# ---- an MLP and an unrolled recurrence written with tensor ops --------------------------------
class TinyMLP:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.w1 = ag.tensor(rng.standard_normal((8, 16)).astype(np.float32), requires_grad=True)
        self.b1 = ag.tensor(np.zeros(16, np.float32), requires_grad=True)
        self.w2 = ag.tensor(rng.standard_normal((16, 3)).astype(np.float32), requires_grad=True)
        self.b2 = ag.tensor(np.zeros(3, np.float32), requires_grad=True)

    def named_parameters(self):
        return [
            ("fc1.weight", self.w1),
            ("fc1.bias", self.b1),
            ("fc2.weight", self.w2),
            ("fc2.bias", self.b2),
        ]

    def __call__(self, x):
        return tanh(x @ self.w1 + self.b1) @ self.w2 + self.b2


def test_mlp_parameters_are_named_and_coloured_apart():
    model = TinyMLP()
    x = ag.tensor(np.ones((4, 8), np.float32))
    loss = model(x).sum()
    loss.backward(retain_graph=True)
    graph = viz.build_graph(loss, params=model)
    params = [n.title for n in graph.nodes if n.kind == "param"]
    assert params == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n.kind for n in graph.nodes if n.title == ""].count("constant") == 1  # x
    assert titles(graph)[:2] == [("constant", "MatMul", "0"), ("fc1.weight", "MatMul", "1")]
    weight = graph.find("fc1.weight")[0].rows
    assert weight[0] == ("", "(8, 16) float32") and weight[1][0] == "data"
    assert weight[1][1].startswith("mean ") and weight[2][1].startswith("min ")
    assert weight[3][0] == "grad" and weight[3][1].startswith("mean ")  # large: summary stats
    dot = viz.to_dot(loss, params=dict(model.named_parameters()))
    assert "fc2.bias" in dot and viz_labels.FILL["param"] in dot


def test_rnn_unrolled_20_steps_shares_weights():
    rng = np.random.default_rng(1)
    w = named(rng.standard_normal((5, 5)).astype(np.float32) * 0.3, "W")
    b = named(np.zeros(5, np.float32), "b")
    h = ag.tensor(np.ones((2, 5), np.float32))
    for _ in range(20):
        h = tanh(h @ w + b)
    graph = viz.build_graph(h.sum(), max_nodes=None)
    assert len(graph.find("MatMul")) == 20
    w_id = graph.find("W")[0].id
    assert sum(e.src == w_id for e in graph.edges) == 20
    assert all(e.label == "1" for e in graph.edges if e.src == w_id)


def test_rnn_cell_calls_fold_into_one_box():
    rng = np.random.default_rng(1)
    w = named(rng.standard_normal((5, 5)).astype(np.float32) * 0.3, "W")
    h = ag.tensor(np.ones((2, 5), np.float32))
    with record_scopes():
        for _ in range(20):
            with scope("cell", "RNNCell"):
                h = tanh(h @ w)
    graph = viz.build_graph(h.sum(), params={"W": w})
    assert summary(graph) == [("fold", "RNNCell x 20"), ("op", "Sum"), ("output", "")]
    assert ("", "1 parameter") in graph.nodes[0].rows  # W is used only inside the cells
    assert "folded 20 repeated calls of RNNCell (cell ... cell)" in graph.notes


# ---- module scopes: clusters, folding, collapsing ---------------------------------------------
def blocks_model(n=6, odd=None, record=True):
    """`n` residual blocks (Linear then exp) under scopes; block `odd` does one more op."""
    rng = np.random.default_rng(2)
    weights = {
        f"blocks.{i}.lin.weight": ag.tensor(
            rng.standard_normal((4, 4)).astype(np.float32) * 0.1, requires_grad=True
        )
        for i in range(n)
    }
    h = ag.tensor(np.ones((3, 4), np.float32))
    with record_scopes() if record else scope("", "Net"):
        with scope("", "Net"), scope("blocks", "Sequential"):
            for i in range(n):
                with scope(f"blocks.{i}", "Block"):
                    with scope(f"blocks.{i}.lin", "Linear"):
                        z = h @ weights[f"blocks.{i}.lin.weight"]
                    z = z.exp() * z if i == odd else z.exp()
                    h = z + h
        out = h.sum()
    return out, weights


def test_six_identical_blocks_fold_to_block_x_6():
    out, weights = blocks_model()
    graph = viz.build_graph(out, weights)
    assert summary(graph) == [("fold", "Block x 6"), ("op", "Sum"), ("output", "")]
    box = graph.nodes[0]
    assert box.rows == [("", "blocks.0 ... blocks.5"), ("", "3 ops each"), ("", "6 parameters")]
    assert [s.split(" (")[0] for s in graph.clusters.values()] == ["Net", "blocks"]
    assert graph.notes == ["folded 6 repeated calls of Block (blocks.0 ... blocks.5)"]
    assert "Block x 6" in viz.to_dot(out, weights)


def test_different_block_breaks_the_run():
    out, weights = blocks_model(odd=3)
    graph = viz.build_graph(out, weights)
    assert [n.title for n in graph.nodes if n.kind == "fold"] == ["Block x 3", "Block x 2"]
    assert len(graph.find("Mul")) == 1  # the odd block is drawn in full, in its own cluster
    assert "blocks.3 (Block)" in graph.clusters.values()


def test_without_folding_each_block_is_a_cluster():
    out, weights = blocks_model()
    graph = viz.build_graph(out, weights, fold_repeats=False)
    labels = list(graph.clusters.values())
    assert [f"blocks.{i} (Block)" in labels for i in range(6)] == [True] * 6
    assert len(graph.find("MatMul")) == 6 and len(graph.find("Exp")) == 6
    weight = graph.find("blocks.2.lin.weight")[0]
    assert weight.cluster[-1][0] == "blocks.2.lin"  # a leaf sits with the ops that use it


def test_collapse_by_depth():
    out, weights = blocks_model()
    graph = viz.build_graph(out, weights, fold_repeats=False, collapse_depth=2)
    boxes = [n for n in graph.nodes if n.kind == "module"]
    assert [n.rows[0][1] for n in boxes] == [f"blocks.{i}" for i in range(6)]
    assert {n.title for n in boxes} == {"Block"} and not graph.find("MatMul")
    assert [len(n.cluster) for n in boxes] == [2] * 6
    ids = {n.id: n for n in graph.nodes}
    assert [(ids[e.src].kind, ids[e.dst].kind) for e in graph.edges][:2] == [
        ("module", "module"),
        ("module", "module"),
    ]  # the input is used only inside blocks.0
    graph = viz.build_graph(out, weights, collapse_depth=0)
    assert summary(graph) == [("module", "Net"), ("op", "Sum"), ("output", "")]
    assert "modules nested deeper than 0 level(s) drawn as single boxes" in graph.notes


def test_max_nodes_collapses_modules_first():
    out, weights = blocks_model()
    graph = viz.build_graph(out, weights, fold_repeats=False, max_nodes=10)
    assert len(graph.nodes) <= 10 and not graph.find("MatMul")
    assert any("to fit max_nodes=10" in note for note in graph.notes)


def test_max_nodes_cap_keeps_nodes_near_the_root_and_says_what_was_cut():
    x, c = named(1.0, "x"), ag.tensor(1.5)
    y = x
    for _ in range(200):
        y = y * c
    graph = viz.build_graph(y, max_nodes=20)
    assert len(graph.nodes) == 20 and graph.nodes[0].kind == "more"
    # 200 ops, 200 outputs, x and c: 402 nodes. Kept: 9 ops, 9 outputs and c (19 in all)
    assert graph.nodes[0].title == "... 383 more nodes"
    assert graph.notes == [
        "383 of 402 nodes not shown (191 ops, 192 tensors): max_nodes=20; "
        "raise max_nodes or collapse modules (collapse_depth)"
    ]
    assert graph.nodes[-1].kind == "output"
    assert all(e.dst != "more" for e in graph.edges)


def test_100k_op_chain_draws_capped_without_recursion_error():
    x, c = named(1.0, "x"), ag.tensor(1.0)
    y = x
    for _ in range(100_000):
        y = y * c
    dot = viz.to_dot(y)  # max_nodes=500 by default
    assert "more nodes" in dot and dot.count(" -> ") < 1000
    assert "199503 of 200002 nodes not shown (99751 ops, 99752 tensors)" in dot
    graph = viz.build_graph(y, show_intermediates=False, max_nodes=5)
    assert [n.kind for n in graph.nodes] == ["more", "constant", "op", "op", "output"]
    assert graph.nodes[0].title == "... 99999 more nodes"  # 100k ops, x, c and the output


def test_freed_graph_is_shown_as_freed(tmp_path):
    x = named([1.0, 2.0], "x")
    y = (x * 2.0).sum()
    y.backward()
    graph = viz.build_graph(y)
    assert summary(graph) == [("freed", "Sum"), ("output", "")]
    assert graph.nodes[0].rows == [("", "freed by backward")]
    assert "dashed" in viz.to_dot(y)
    assert viz.build_graph(y, show_backward=True).nodes[0].order == "#1"


def test_show_backward_numbers_ops_in_engine_order():
    x = named([1.0, 2.0], "x")
    a = x.exp()
    b = x * 3.0
    loss = (a * b + a).sum()
    graph = viz.build_graph(loss, show_backward=True)

    class Order(StackedInstrument):  # records the order in which the engine runs backward rules
        names: ClassVar[list] = []

        def on_backward(self, ctx, g, run):
            self.names.append(ctx.name)
            return run(g)

    with Order() as order:
        loss.backward(retain_graph=True)
    expected = order.names
    numbered = sorted((int(n.order[1:]), n.title) for n in graph.nodes if n.order)
    assert [title for _, title in numbered] == expected
    assert next(n for _, n in numbered) == "Sum" and len(numbered) == 5


def test_nan_values_are_flagged():
    with np.errstate(divide="ignore", invalid="ignore"):
        big = ag.tensor(np.array([0.0, 1.0] * 8, np.float32), requires_grad=True)
        y = big.log()
    node = viz.build_graph(y).nodes[-1]
    assert node.alert and ("", "8 NaN, 0 Inf") not in node.rows and ("", "0 NaN, 8 Inf") in node.rows
    assert viz_labels.ALERT in viz.to_dot(y)


def test_profile_heat_map_colours_ops_by_time():
    x = ag.tensor(np.full((64, 64), 0.01, np.float32), requires_grad=True)
    with profile() as prof:
        loss = ((x @ x) @ x).exp().sum()
        loss.backward(retain_graph=True)
    graph = viz.build_graph(loss, profile=prof)
    ops = [n for n in graph.nodes if n.kind == "op"]
    assert all(n.time is not None and n.time[0] > 0 and n.time[1] > 0 for n in ops)
    dot = viz.to_dot(loss, profile=prof)
    assert "fwd " in dot and viz_labels.heat(1.0) in dot


# ---- the scope stack ------------------------------------------------------------------------
def test_scope_stack_push_pop_and_threads():
    assert scopes.current_scope() == ()
    with scope("enc", "Encoder"):
        scopes.push("enc.layers.0", "Layer")
        assert scopes.current_scope() == (("enc", "Encoder"), ("enc.layers.0", "Layer"))
        seen = []
        thread = threading.Thread(target=lambda: seen.append(scopes.current_scope()))
        thread.start()
        thread.join()
        assert seen == [()]
        scopes.pop()
    assert scopes.current_scope() == ()
    with pytest.raises(RuntimeError, match="no scope is open"):
        scopes.pop()


def test_ops_are_tagged_only_while_recording():
    x = named([1.0], "x")
    assert not scopes.is_recording()
    with scope("a", "A"):
        untagged = x.exp()
        with record_scopes():
            assert scopes.is_recording()
            tagged = x.exp()
    assert scopes.scope_tag(untagged._ctx) is None
    assert [entry[:2] for entry in scopes.scope_tag(tagged._ctx)] == [("a", "A")]
    assert ag.grad_mode._state.instrument is None and not scopes.is_recording()
