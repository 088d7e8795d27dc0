"""`to_dot(model_proto)`: an exported ONNX graph's structure as a Graphviz picture, in the style of
`autograd_nn.to_dot` (ops as boxes, weights as grey notes, inputs and outputs as ellipses)."""

from __future__ import annotations

from typing import Any


def to_dot(proto: Any, title: str | None = None) -> Any:
    """A `graphviz.Digraph` of `proto.graph` (render with `.render(path, format="svg")`)."""
    import graphviz

    graph = getattr(proto, "graph", None)
    if graph is None or not hasattr(graph, "initializer"):
        raise TypeError(
            f"onnx.to_dot: expected an onnx.ModelProto (what export returns), got {type(proto).__name__}"
        )
    dot = graphviz.Digraph(
        graph_attr={"rankdir": "TB", "label": title or graph.name, "labelloc": "t"},
        node_attr={"fontname": "Helvetica", "fontsize": "10"},
    )
    weights = {i.name: tuple(i.dims) for i in graph.initializer}
    made: dict[str, str] = {}
    for vi in graph.input:
        dims = [d.dim_param or str(d.dim_value) for d in vi.type.tensor_type.shape.dim]
        dot.node(
            f"in:{vi.name}",
            f"{vi.name}\n({', '.join(dims)})",
            shape="ellipse",
            style="filled",
            fillcolor="#d9ead3",
        )
        made[vi.name] = f"in:{vi.name}"
    for i, node in enumerate(graph.node):
        key = f"op{i}"
        dot.node(key, node.op_type, shape="box", style="rounded,filled", fillcolor="#cfe2f3")
        for name in node.input:
            if name in made:
                dot.edge(made[name], key)
            elif name in weights and len(weights[name]) > 0:  # tensors, not small constants
                dot.node(
                    f"w:{name}",
                    f"{name}\n{weights[name]}",
                    shape="note",
                    style="filled",
                    fillcolor="#eeeeee",
                    fontsize="8",
                )
                dot.edge(f"w:{name}", key)
        for name in node.output:
            made[name] = key
    for vi in graph.output:
        dot.node(f"out:{vi.name}", vi.name, shape="ellipse", style="filled", fillcolor="#fce5cd")
        if vi.name in made:
            dot.edge(made[vi.name], f"out:{vi.name}")
    return dot
