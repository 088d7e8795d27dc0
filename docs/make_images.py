"""Render the pictures the README shows into docs/images/ (run: python docs/make_images.py).

Everything is seeded, so re-running gives the same graphs (timings in the heat map vary).
"""
from __future__ import annotations

import pathlib
import shutil
import tempfile

import numpy as np

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.examples.cnn import DigitsCNN
from autograd_nn.nn import functional as F
from autograd_nn.profiler import profile
from autograd_nn.viz import draw_graph, record_scopes

OUT = pathlib.Path(__file__).resolve().parent / "images"


def micrograd_expression() -> None:
    def leaf(value: float, name: str) -> ag.Tensor:
        t = ag.tensor(value, requires_grad=True)
        t.name = name
        return t

    a, b, c, f = leaf(2.0, "a"), leaf(-3.0, "b"), leaf(10.0, "c"), leaf(-2.0, "f")
    e = a * b
    d = e + c
    loss = d * f
    e.name, d.name, loss.name = "e", "d", "L"
    e.retain_grad()
    d.retain_grad()
    loss.backward(retain_graph=True)
    for fmt in ("svg", "png"):
        draw_graph(loss, show_backward=True).render(OUT / "micrograd_expression", format=fmt,
                                                   cleanup=True)


def mlp_graph() -> None:
    mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x, target = ag.randn(5, 4), ag.tensor(np.array([0, 2, 1, 1, 0]))
    with record_scopes():
        loss = F.cross_entropy(mlp(x), target)
    loss.backward(retain_graph=True)
    draw_graph(loss, params=mlp).render(OUT / "mlp_graph", format="png", cleanup=True)


def cnn_graph() -> None:
    model = DigitsCNN()
    x, y = ag.randn(2, 1, 8, 8), ag.tensor(np.array([1, 2]))
    with record_scopes():
        loss = F.cross_entropy(model(x), y)
    draw_graph(loss, params=model, collapse_depth=2, rankdir="TB").render(
        OUT / "digits_cnn_graph", format="png", cleanup=True)


def transformer_graphs() -> None:
    embed = nn.Embedding(20, 16)
    layer = nn.TransformerEncoderLayer(16, nhead=2, dim_feedforward=32, dropout=0.0)
    model = nn.Sequential(embed, nn.TransformerEncoder(layer, 6), nn.Linear(16, 20))
    ids = ag.randint(0, 20, (7, 2))
    with record_scopes():
        loss = F.cross_entropy(model(ids).reshape(-1, 20), ids.reshape(-1))
    kw = dict(params=model, show_values=False, show_intermediates=False)
    draw_graph(loss, **kw).render(OUT / "transformer_folded", format="svg", cleanup=True)
    draw_graph(loss, fold_repeats=False, collapse_depth=2, rankdir="TB", **kw).render(
        OUT / "transformer_collapsed", format="svg", cleanup=True)


def profile_heatmap() -> None:
    cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    images, labels = ag.randn(32, 1, 28, 28), ag.randint(0, 10, (32,))
    F.cross_entropy(cnn(images), labels).backward()  # warm-up: compiles the kernels
    with profile() as prof, record_scopes():
        loss = F.cross_entropy(cnn(images), labels)
        loss.backward(retain_graph=True)
    draw_graph(loss, params=cnn, profile=prof, show_values=False, show_intermediates=False,
               rankdir="TB").render(OUT / "profile_heatmap", format="png", cleanup=True)


# ---- degradation and TDNN (the examples' own pictures, at their default settings) ---------------
def degradation_curves() -> None:
    """Training-loss curves of plain and residual CNNs of 8 and 20 layers (about a minute)."""
    from autograd_nn.examples import degradation

    with tempfile.TemporaryDirectory() as tmp:
        result = degradation.run(tmp, verbose=False)
        shutil.copyfile(result["curves"], OUT / "degradation.png")


def tdnn_utterances() -> None:
    """Four synthetic spoken words as the TDNN sees them (words 0 and 1: same phonemes)."""
    from autograd_nn.examples import tdnn

    utterances = tdnn.spoken_digits(40, np.random.default_rng(0))
    tdnn.plot_utterances(utterances, str(OUT / "tdnn_utterances.png"))


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for make in (micrograd_expression, mlp_graph, cnn_graph, transformer_graphs, profile_heatmap):
        ag.manual_seed(0)
        make()
        print("made", make.__name__)
    for make in (degradation_curves, tdnn_utterances):
        ag.manual_seed(0)
        make()
        print("made", make.__name__)
