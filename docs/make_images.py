"""Render the pictures the README shows into docs/images/ (run: python docs/make_images.py).

Everything is seeded, so re-running gives the same graphs (timings in the heat map vary).
`python docs/make_images.py NAME ...` renders only the named functions; the example pictures
(clip_similarity, diffusion_samples, explain_heatmaps) train their examples in full (minutes).
"""
from __future__ import annotations

import pathlib
import shutil
import sys
import tempfile
import time

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


# ---- pictures made by training an example in full ----------------------------------------------
def _example_pictures(name: str, pictures: dict[str, str], **kwargs: object) -> None:
    """Run example `name` at its defaults in a scratch folder; copy result[key] to docs/images."""
    from threadpoolctl import threadpool_limits

    from autograd_nn.examples import get

    with tempfile.TemporaryDirectory() as scratch, threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        result = get(name).run(out_dir=scratch, verbose=False, **kwargs)
        print(name, f"{time.perf_counter() - start:.0f} s:",
              {k: v for k, v in result.items() if k != "history"})
        for key, target in pictures.items():
            shutil.copyfile(result[key], OUT / target)


def clip_similarity() -> None:
    _example_pictures("clip", {"similarity": "clip_similarity.png"})


def diffusion_samples() -> None:
    _example_pictures("diffusion", {"samples": "diffusion_samples.png",
                                    "trajectory": "diffusion_trajectory.png"},
                      classifier_checkpoint=None)


def explain_heatmaps() -> None:
    _example_pictures("explain", {"cnn_attributions": "explain_cnn.png",
                                  "vit_attention": "explain_vit_attention.png"})


GRAPH_PICTURES = (micrograd_expression, mlp_graph, cnn_graph, transformer_graphs, profile_heatmap)
EXAMPLE_PICTURES = (clip_similarity, diffusion_samples, explain_heatmaps)

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    makers = {make.__name__: make for make in (*GRAPH_PICTURES, *EXAMPLE_PICTURES)}
    unknown = set(sys.argv[1:]) - set(makers)
    if unknown:
        sys.exit(f"unknown pictures {sorted(unknown)}; choose from {sorted(makers)}")
    for name, make in makers.items():
        if sys.argv[1:] and name not in sys.argv[1:]:
            continue
        ag.manual_seed(0)
        make()
        print("made", name)
