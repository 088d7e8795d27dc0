"""A scalar autograd tour, micrograd style: every number is a 0-d Tensor that remembers its op.

1. The expression from micrograd's README, whose value and gradients are known (24.7041, 138.8338,
   645.5773): our engine must reproduce them exactly (float64).
2. One tanh neuron, o = tanh(x1 w1 + x2 w2 + b), drawn as a graph with each value's data and grad.
3. A tiny MLP built from scalar Parameters only (no matrices): Neuron -> Layer -> MLP, trained with
   SGD to fit four points, as in micrograd's demo.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, tensor
from ..dtypes import float64
from ..random import generator, manual_seed
from ..training import fit
from .registry import example

# micrograd's demo data: four 3-d inputs and their +-1 targets.
DEMO_X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
DEMO_Y = [1.0, -1.0, -1.0, 1.0]


def scalar(value: float, name: str | None = None, requires_grad: bool = True) -> Tensor:
    """A named float64 0-d tensor, micrograd's `Value`."""
    t = tensor(value, dtype=float64, requires_grad=requires_grad)
    if name:
        t.name = name
    return t


def readme_expression() -> dict[str, float]:
    """micrograd's README example, g = f / 2 + 10 / f with f = (c - d)^2: g, dg/da, dg/db."""
    a, b = scalar(-4.0, "a"), scalar(2.0, "b")
    c = a + b
    d = a * b + b**3
    c = c + c + 1.0
    c = c + 1.0 + c + (-a)
    d = d + d * 2.0 + (b + a).relu()
    d = d + 3.0 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return {"g": g.item(), "a_grad": a.grad.item(), "b_grad": b.grad.item()}


def neuron_expression() -> tuple[Tensor, dict[str, Tensor]]:
    """o = tanh(x1 w1 + x2 w2 + b), with every intermediate named and keeping its grad."""
    x1, x2 = scalar(2.0, "x1"), scalar(0.0, "x2")
    w1, w2 = scalar(-3.0, "w1"), scalar(1.0, "w2")
    b = scalar(6.8813735870195432, "b")  # chosen so that n = 0.8814 and o = tanh(n) = 0.7071
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.name, x2w2.name = "x1*w1", "x2*w2"
    s = x1w1 + x2w2
    s.name = "x1*w1 + x2*w2"
    n = s + b
    n.name = "n"
    o = n.tanh()
    o.name = "o"
    named = {
        "x1": x1,
        "x2": x2,
        "w1": w1,
        "w2": w2,
        "b": b,
        "x1*w1": x1w1,
        "x2*w2": x2w2,
        "x1*w1 + x2*w2": s,
        "n": n,
        "o": o,
    }
    for t in named.values():
        if t.grad_fn is not None:
            t.retain_grad()  # keep intermediate grads so the picture can show them
    o.backward(retain_graph=True)  # keep the graph alive to draw it
    return o, named


class Neuron(nn.Module):
    """One neuron with a scalar Parameter per weight: act(sum_i w_i x_i + b)."""

    def __init__(self, n_inputs: int, nonlinear: bool = True) -> None:
        super().__init__()
        rng = generator()
        self.w = nn.ParameterList(
            [nn.Parameter(np.float64(rng.uniform(-1.0, 1.0))) for _ in range(n_inputs)]
        )  # n_inputs 0-d weights
        self.b = nn.Parameter(np.float64(0.0))  # a 0-d bias
        self.nonlinear = nonlinear

    def forward(self, x: Sequence[Tensor]) -> Tensor:
        act: Tensor = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi  # a chain of scalar multiply-adds
        return act.tanh() if self.nonlinear else act


class Layer(nn.Module):
    """`n_outputs` independent neurons reading the same inputs."""

    def __init__(self, n_inputs: int, n_outputs: int, nonlinear: bool = True) -> None:
        super().__init__()
        self.neurons = nn.ModuleList([Neuron(n_inputs, nonlinear) for _ in range(n_outputs)])

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        return [neuron(x) for neuron in self.neurons]


class ScalarMLP(nn.Module):
    """micrograd's MLP: layers of scalar neurons; the last layer is linear."""

    def __init__(self, n_inputs: int, sizes: Sequence[int]) -> None:
        super().__init__()
        dims = [n_inputs, *sizes]
        self.layers = nn.ModuleList(
            [Layer(dims[i], dims[i + 1], nonlinear=i < len(sizes) - 1) for i in range(len(sizes))]
        )

    def forward(self, x: Sequence[float | Tensor]) -> Tensor | list[Tensor]:
        h = [xi if isinstance(xi, Tensor) else scalar(xi, requires_grad=False) for xi in x]
        for layer in self.layers:
            h = layer(h)
        return h[0] if len(h) == 1 else h


def squared_error(model: ScalarMLP, batch: tuple[list, list]) -> Tensor:
    """sum_i (model(x_i) - y_i)^2 over the whole (tiny) dataset."""
    xs, ys = batch
    loss = scalar(0.0, requires_grad=False)
    for x, y in zip(xs, ys):
        loss = loss + (model(x) - y) ** 2
    return loss


@example("micrograd", "scalar autograd tour: micrograd's expression, a neuron graph, a scalar MLP")
def run(
    out_dir: str = "runs/micrograd", quick: bool = False, steps: int = 100, lr: float = 0.05, seed: int = 0
) -> dict:
    """Check micrograd's numbers, draw a neuron's graph, train a scalar MLP on four points."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    readme = readme_expression()
    o, named = neuron_expression()
    graph = _draw(o, os.path.join(out_dir, "neuron_graph"))
    model = ScalarMLP(3, [4, 4, 1])
    opt = optim.SGD(model.parameters(), lr=lr)
    history = fit(
        model,
        [(DEMO_X, DEMO_Y)],
        None,
        opt,
        epochs=10 if quick else steps,
        step_fn=squared_error,
        progress=False,
        verbose=False,
    )
    curve = history.plot(os.path.join(out_dir, "scalar_mlp_loss.png"), "scalar MLP, sum of squares")
    preds = [model(x).item() for x in DEMO_X]
    return {
        "readme_g": readme["g"],
        "readme_a_grad": readme["a_grad"],
        "readme_b_grad": readme["b_grad"],
        "neuron_grads": {k: t.grad.item() for k, t in named.items() if t.grad is not None},
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "initial_loss": history["loss"][0],
        "final_loss": history["loss"][-1],
        "predictions": preds,
        "targets": DEMO_Y,
        "graph": graph,
        "curves": curve,
    }


def _draw(root: Tensor, path: str) -> str | None:
    """The neuron's graph with data and grad on every value, as PNG (None without Graphviz)."""
    try:
        from ..viz import draw_graph

        return draw_graph(root, format="png").render(path, cleanup=True)
    except (ImportError, OSError, RuntimeError):  # graphviz package or `dot` program missing
        return None
