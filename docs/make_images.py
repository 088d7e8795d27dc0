"""Render the pictures the README shows into docs/images/ (run: python docs/make_images.py).

Each picture's Graphviz source is written next to it as NAME.dot, and `tests/test_docs_images.py`
fails when a committed .dot no longer matches what this script builds from today's library (the
DOT text is compared, not pixels): re-run the script and commit the new pictures when it does.
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
from collections.abc import Callable

import graphviz
import numpy as np

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.examples.cnn import DigitsCNN
from autograd_nn.nn import functional as F
from autograd_nn.profiler import profile
from autograd_nn.viz import draw_graph, record_scopes

OUT = pathlib.Path(__file__).resolve().parent / "images"


def micrograd_expression() -> graphviz.Digraph:
    """micrograd's README expression, with values, grads (the root's is 1.0) and backward order."""

    def leaf(value: float, name: str) -> ag.Tensor:
        t = ag.tensor(value, requires_grad=True)
        t.name = name
        return t

    a, b, c, f = leaf(2.0, "a"), leaf(-3.0, "b"), leaf(10.0, "c"), leaf(-2.0, "f")
    e = a * b
    d = e + c
    loss = d * f
    e.name, d.name, loss.name = "e", "d", "L"
    for t in (e, d, loss):  # keep the grads of non-leaves, the root's too (dL/dL = 1), as micrograd
        t.retain_grad()
    loss.backward(retain_graph=True)
    return draw_graph(loss, show_backward=True)


def mlp_graph() -> graphviz.Digraph:
    mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x, target = ag.randn(5, 4), ag.tensor(np.array([0, 2, 1, 1, 0]))
    with record_scopes():
        loss = F.cross_entropy(mlp(x), target)
    loss.backward(retain_graph=True)
    return draw_graph(loss, params=mlp)


def cnn_graph() -> graphviz.Digraph:
    model = DigitsCNN()
    x, y = ag.randn(2, 1, 8, 8), ag.tensor(np.array([1, 2]))
    with record_scopes():
        loss = F.cross_entropy(model(x), y)
    return draw_graph(loss, params=model, collapse_depth=2, rankdir="TB")


def _transformer_loss() -> tuple[nn.Module, ag.Tensor]:
    embed = nn.Embedding(20, 16)
    layer = nn.TransformerEncoderLayer(16, nhead=2, dim_feedforward=32, dropout=0.0)
    model = nn.Sequential(embed, nn.TransformerEncoder(layer, 6), nn.Linear(16, 20))
    ids = ag.randint(0, 20, (7, 2))
    with record_scopes():
        loss = F.cross_entropy(model(ids).reshape(-1, 20), ids.reshape(-1))
    return model, loss


def transformer_folded() -> graphviz.Digraph:
    model, loss = _transformer_loss()
    return draw_graph(loss, params=model, show_values=False, show_intermediates=False)


def transformer_collapsed() -> graphviz.Digraph:
    model, loss = _transformer_loss()
    return draw_graph(
        loss,
        params=model,
        show_values=False,
        show_intermediates=False,
        fold_repeats=False,
        collapse_depth=2,
        rankdir="TB",
    )


def profile_heatmap() -> graphviz.Digraph:
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 14 * 14, 10)
    )
    images, labels = ag.randn(32, 1, 28, 28), ag.randint(0, 10, (32,))
    F.cross_entropy(cnn(images), labels).backward()  # warm-up: compiles the kernels
    with profile() as prof, record_scopes():
        loss = F.cross_entropy(cnn(images), labels)
        loss.backward(retain_graph=True)
    return draw_graph(
        loss, params=cnn, profile=prof, show_values=False, show_intermediates=False, rankdir="TB"
    )


# name -> (builder, the formats the README uses)
PICTURES: dict[str, tuple[Callable[[], graphviz.Digraph], tuple[str, ...]]] = {
    "micrograd_expression": (micrograd_expression, ("svg", "png")),
    "mlp_graph": (mlp_graph, ("png",)),
    "digits_cnn_graph": (cnn_graph, ("png",)),
    "transformer_folded": (transformer_folded, ("svg",)),
    "transformer_collapsed": (transformer_collapsed, ("svg",)),
    "profile_heatmap": (profile_heatmap, ("png",)),
}


def build(name: str) -> graphviz.Digraph:
    """The picture's graph, built from seed 0 whatever ran before."""
    ag.manual_seed(0)
    return PICTURES[name][0]()


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


# ---- pictures made by training an example in full ----------------------------------------------
def _example_pictures(name: str, pictures: dict[str, str], **kwargs: object) -> None:
    """Run example `name` at its defaults in a scratch folder; copy result[key] to docs/images."""
    from threadpoolctl import threadpool_limits

    from autograd_nn.examples import get

    with tempfile.TemporaryDirectory() as scratch, threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        result = get(name).run(out_dir=scratch, verbose=False, **kwargs)
        print(
            name, f"{time.perf_counter() - start:.0f} s:", {k: v for k, v in result.items() if k != "history"}
        )
        for key, target in pictures.items():
            shutil.copyfile(result[key], OUT / target)


def clip_similarity() -> None:
    _example_pictures("clip", {"similarity": "clip_similarity.png"})


def diffusion_samples() -> None:
    _example_pictures(
        "diffusion",
        {"samples": "diffusion_samples.png", "trajectory": "diffusion_trajectory.png"},
        classifier_checkpoint=None,
    )


def explain_heatmaps() -> None:
    _example_pictures(
        "explain", {"cnn_attributions": "explain_cnn.png", "vit_attention": "explain_vit_attention.png"}
    )


# maker name -> (maker, the pictures it writes): pictures an example draws itself (PNG), made by
# training the example at its defaults (seconds to minutes each)
EXAMPLE_PICTURES: dict[str, tuple[Callable[[], None], tuple[str, ...]]] = {
    "degradation": (degradation_curves, ("degradation",)),
    "tdnn_utterances": (tdnn_utterances, ("tdnn_utterances",)),
    "clip_similarity": (clip_similarity, ("clip_similarity",)),
    "diffusion_samples": (diffusion_samples, ("diffusion_samples", "diffusion_trajectory")),
    "explain_heatmaps": (explain_heatmaps, ("explain_cnn", "explain_vit_attention")),
}


def main(names: list[str]) -> None:
    """Render the named pictures (default: all): graphs with their DOT source, then the examples'."""
    OUT.mkdir(exist_ok=True)
    for name in names or [*PICTURES, *EXAMPLE_PICTURES]:
        if name in EXAMPLE_PICTURES:
            ag.manual_seed(0)
            EXAMPLE_PICTURES[name][0]()
        else:
            dot = build(name)
            (OUT / f"{name}.dot").write_text(dot.source, encoding="utf-8")
            for fmt in PICTURES[name][1]:
                dot.render(OUT / name, format=fmt, cleanup=True)
        print("made", name)


if __name__ == "__main__":
    main(sys.argv[1:])
