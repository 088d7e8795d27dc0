"""Pictures of the graph: `draw_graph` (a `graphviz.Digraph`) and `to_dot` (its DOT text).

>>> a = ag.tensor(2.0, requires_grad=True); a.name = "a"
>>> loss = (a * 3.0 + 1.0).log()
>>> loss.backward(retain_graph=True)        # keep the graph to draw it with its gradients
>>> draw_graph(loss)                        # shows inline in Jupyter
>>> draw_graph(loss, format="png").render("graph")   # writes graph.png (Graphviz's `dot` program)

Ops are ellipses labelled with their name; tensors are tables with their shape and dtype and, when
small (at most 6 elements), their data and grad values (micrograd style), or else summary statistics
(mean, std, min/max, NaN/Inf counts) of data and grad. Parameters (named through `params`: a dict
name -> tensor, or a module with `named_parameters()`) are blue, other leaves that require grad green,
constants grey, intermediate activations white and the roots orange; a red border marks NaN/Inf.
Edges into an op with several inputs are labelled with the input slot (0, 1, ...).

Backward frees the graph unless it is given ``retain_graph=True``; ops whose saved values were freed
are drawn dashed ('freed') and the graph behind them is not reachable any more.

Large graphs. Ops created inside `record_scopes()` are tagged with the module (or `scope`) that made
them and drawn in one cluster per module call. Consecutive calls of the same block class that do the
same ops are folded into one box ('TransformerEncoderLayer x 6'); `collapse_depth=d` draws modules
nested deeper than d levels as single boxes; and when more than `max_nodes` nodes remain, modules are
collapsed further and then only the `max_nodes` nodes nearest the roots are kept. A note at the foot
of the picture says what was folded, collapsed or cut. The walk is iterative and linear in the size
of the graph, so a chain of 100,000 ops draws in about a second.

`show_backward=True` numbers ops in the order backward visits them (reverse topological order);
`profile=prof` (an `autograd_nn.profiler.profile` that recorded the graph) colours ops by their
forward+backward time, pale yellow to red, and prints the times.
"""

from __future__ import annotations

from typing import Any

from ..scopes import record_scopes, scope
from . import labels as lab
from .graph import VizEdge, VizGraph, VizNode, build_graph
from .tree import Key

__all__ = ["VizEdge", "VizGraph", "VizNode", "build_graph", "draw_graph", "record_scopes", "scope", "to_dot"]


def draw_graph(
    root: Any,
    params: Any = None,
    format: str = "svg",
    *,
    show_values: bool = True,
    show_intermediates: bool = True,
    show_backward: bool = False,
    collapse_depth: int | None = None,
    fold_repeats: bool = True,
    max_nodes: int | None = 500,
    profile: Any = None,
    rankdir: str = "LR",
    title: str | None = None,
) -> Any:
    """Draw the graph that produced `root` (a tensor or a list of tensors).

    Args:
        root: the output tensor(s) to draw the graph of.
        params: names for parameters: a dict name -> tensor, or anything with `named_parameters()`.
        format: output format of `.render()` / `.pipe()` (svg, png, pdf, ...).
        show_values: show data/grad values (small tensors) or summary statistics (large ones).
        show_intermediates: draw intermediate tensors as nodes; if False, ops connect directly and
            each op states the shape it makes.
        show_backward: number ops in the order backward visits them.
        collapse_depth: draw modules nested deeper than this many levels as single boxes.
        fold_repeats: fold consecutive identical calls of a block class into one 'Block x N' box.
        max_nodes: most nodes to draw (None: no limit); see the module docstring.
        profile: a `profiler.profile` that recorded these ops: colour ops by time (a heat map).
        rankdir: Graphviz layout direction: 'LR' (left to right) or 'TB' (top to bottom).
        title: a caption drawn above the graph (with the notes on what was folded or cut).

    Returns:
        A `graphviz.Digraph`: displays inline in Jupyter; `.render(path)` writes a file with
        Graphviz's `dot` program; `.source` is the DOT text.
    """
    graph = build_graph(
        root,
        params,
        show_values=show_values,
        show_intermediates=show_intermediates,
        show_backward=show_backward,
        collapse_depth=collapse_depth,
        fold_repeats=fold_repeats,
        max_nodes=max_nodes,
        profile=profile,
    )
    return render_graph(graph, format=format, rankdir=rankdir, title=title)


def to_dot(root: Any, params: Any = None, **options: Any) -> str:
    """The DOT source of `draw_graph(root, params, **options)`."""
    return draw_graph(root, params, **options).source


def render_graph(graph: VizGraph, format: str = "svg", rankdir: str = "LR", title: str | None = None) -> Any:
    """A `graphviz.Digraph` drawing a `VizGraph`."""
    import graphviz

    try:
        dot = graphviz.Digraph("autograd_nn", format=format)
    except ValueError as err:  # an unknown format
        raise ValueError(f"draw_graph: {err}") from None
    dot.attr(rankdir=rankdir, fontname="Helvetica", fontsize="11", newrank="true")
    dot.attr("node", fontname="Helvetica", fontsize="10")
    dot.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.7")
    caption = ([title] if title else []) + (["Notes:", *graph.notes] if graph.notes else [])
    if caption:
        dot.attr(label=lab.plain_label(caption), labelloc="t", labeljust="l")
    slowest = max((sum(n.time) for n in graph.nodes if n.time is not None), default=0.0)
    by_cluster: dict[Key, list[VizNode]] = {}
    for node in graph.nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    children: dict[Key, list[Key]] = {}
    for key in graph.clusters:
        children.setdefault(key[:-1], []).append(key)
    _emit(dot, (), by_cluster, children, graph.clusters, slowest, "cluster")
    for e in graph.edges:
        dot.edge(e.src, e.dst, label=e.label or None)
    return dot


def _emit(
    container: Any, key: Key, by_cluster: dict, children: dict, labels: dict, slowest: float, name: str
) -> None:
    """Add the nodes of one cluster, then its child clusters (nesting depth = module depth).

    Clusters are named by their position in this drawing (cluster_0, cluster_0_1, ...), so the
    same graph gives the same DOT text whatever ran before it in the process."""
    for node in by_cluster.get(key, ()):
        _node(container, node, slowest)
    for i, child in enumerate(children.get(key, ())):
        with container.subgraph(name=f"{name}_{i}") as sub:
            sub.attr(
                label=labels[child],
                style="rounded,filled",
                color="#9e9ac8",
                fillcolor=lab.CLUSTER_FILL[(len(child) - 1) % len(lab.CLUSTER_FILL)],
                fontsize="10",
                labeljust="l",
            )
            _emit(sub, child, by_cluster, children, labels, slowest, f"{name}_{i}")


def _node(container: Any, node: VizNode, slowest: float) -> None:
    fill = lab.FILL[node.kind]
    lines = [value if not k else f"{k} {value}" for k, value in node.rows]
    if node.order:
        lines.insert(0, f"backward {node.order}")
    if node.time is not None:
        lines.append(lab.time_text(*node.time))
        fill = lab.heat(sum(node.time) / slowest) if slowest > 0 else fill
    if node.kind in ("op", "freed"):
        style = "filled,dashed" if node.kind == "freed" else "filled"
        container.node(
            node.id,
            lab.text_label(node.title, lines),
            shape="ellipse",
            style=style,
            fillcolor=fill,
            color="#756bb1" if node.kind == "op" else "#969696",
            ordering="in",
        )
    elif node.kind in ("module", "fold"):
        container.node(
            node.id,
            lab.text_label(node.title, lines),
            shape="box3d" if node.kind == "fold" else "box",
            style="filled",
            fillcolor=fill,
        )
    elif node.kind == "more":
        container.node(
            node.id, lab.text_label(node.title, lines), shape="box", style="dashed", color="#969696"
        )
    else:
        container.node(node.id, lab.table_label(node.title, node.rows, fill, node.alert), shape="plain")
