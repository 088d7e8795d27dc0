"""From the perceptron to the multilayer perceptron.

1. A perceptron (one linear unit) on two well separated blobs, trained with Rosenblatt's criterion
   max(0, -y (w.x + b)): it only moves when a point is on the wrong side, and it stops there.
2. An MLP on the two moons and on XOR, which no line separates, with the logistic loss
   (binary cross-entropy on one logit per sample); ReLU, sigmoid and tanh hidden units compared.
3. An MLP on the 8x8 digits flattened to 64 inputs, softmax cross-entropy over 10 classes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor
from ..data import (
    DataLoader,
    Standardizer,
    TensorDataset,
    load_digits,
    make_gaussian_mixture,
    make_moons,
    make_xor,
)
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..training import evaluate, fit
from .registry import example

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class Perceptron(nn.Module):
    """One linear unit: the logit w.x + b; predict class 1 where it is positive."""

    def __init__(self, n_inputs: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(n_inputs, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)  # (B, 1)


class MLP(nn.Module):
    """Linear -> act [-> dropout] -> ... -> Linear, with `hidden` widths in between."""

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[int],
        n_outputs: int,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        dims = [n_inputs, *hidden]
        layers: list[nn.Module] = []
        for d_in, d_out in itertools.pairwise(dims):
            layers += [nn.Linear(d_in, d_out), ACTIVATIONS[activation]()]
            layers += [nn.Dropout(dropout)] if dropout > 0 else []
        layers.append(nn.Linear(dims[-1], n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, n_inputs) -> (B, n_outputs)


def perceptron_loss(logit: Tensor, y: Tensor) -> Tensor:
    """Rosenblatt's criterion: mean of max(0, -s * logit) with signs s = 2y - 1 in {-1, +1}."""
    sign = y.float().reshape(-1, 1) * 2.0 - 1.0  # (B, 1)
    return F.relu(-sign * logit).mean()


def logistic_loss(logit: Tensor, y: Tensor) -> Tensor:
    """Binary cross-entropy on one logit per sample (the numerically stable form)."""
    return F.binary_cross_entropy_with_logits(logit.reshape(-1), y.float())


def _loader(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


def train_binary(
    model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 0.01, batch_size: int = 32
) -> dict[str, float]:
    """Fit with Adam on the logistic loss; return the final train loss and accuracy."""
    opt = optim.Adam(model.parameters(), lr=lr)
    fit(model, _loader(x, y, batch_size), logistic_loss, opt, epochs=epochs, progress=False, verbose=False)
    return evaluate(model, _loader(x, y, len(y), shuffle=False), logistic_loss)


def run_perceptron(epochs: int = 5) -> tuple[Perceptron, np.ndarray, np.ndarray, dict]:
    """Online perceptron (batch size 1, SGD) on two blobs four standard deviations apart."""
    x, y = make_gaussian_mixture(200, n_modes=2, radius=2.0, std=0.5, seed=1)
    model = Perceptron()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, _loader(x, y, 1), perceptron_loss, opt, epochs=epochs, progress=False, verbose=False)
    return model, x, y, evaluate(model, _loader(x, y, len(y), shuffle=False), perceptron_loss)


def run_digits(epochs: int, hidden: Sequence[int] = (256, 128), out_dir: str = ".") -> dict:
    """MLP on flattened, standardized digits: (B, 64) -> (B, 10) logits. The epoch with the lowest
    validation loss (validation carved from the training split) is kept; the test split is
    measured once, at the end."""
    d = load_digits(flatten=True, val_fraction=0.1)
    scaler = Standardizer(eps=0.1).fit(d["X_train"])  # per pixel; eps tames blank borders
    x_train, x_val, x_test = (scaler.transform(d[k]) for k in ("X_train", "X_val", "X_test"))
    model = MLP(64, hidden, 10, activation="relu", dropout=0.2)
    opt = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    val = _loader(x_val, d["y_val"], 256, shuffle=False)
    history = fit(
        model,
        _loader(x_train, d["y_train"], 32),
        F.cross_entropy,
        opt,
        epochs=epochs,
        val_loader=val,
        scheduler=sched,
        progress=False,
        verbose=False,
        restore_best=True,
    )
    result = evaluate(model, _loader(x_test, d["y_test"], 256, shuffle=False), F.cross_entropy)
    curves = history.plot(os.path.join(out_dir, "digits_mlp_curves.png"), "digits MLP")
    return {
        "test_accuracy": result["acc"],
        "test_loss": result["loss"],
        "best_epoch": history.best_epoch,
        "curves": curves,
    }


@example("mlp", "perceptron, MLPs on moons/XOR (ReLU vs sigmoid vs tanh) and on flattened digits")
def run(
    out_dir: str = "runs/mlp", quick: bool = False, epochs: int = 100, digits_epochs: int = 30, seed: int = 0
) -> dict:
    """Train the perceptron, the toy MLPs and the digits MLP; plot decision boundaries."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    epochs, digits_epochs = (5, 2) if quick else (epochs, digits_epochs)
    perceptron, xp, yp, p_result = run_perceptron(epochs=2 if quick else 5)
    moons_x, moons_y = make_moons(200, noise=0.1, seed=0)
    xor_x, xor_y = make_xor(200, noise=0.15, seed=0)
    moons_models, activation_table = {}, {}
    for act in ACTIVATIONS:  # same width, depth, optimizer and steps: only the nonlinearity differs
        manual_seed(seed)
        moons_models[act] = MLP(2, (32, 32), 1, activation=act)
        activation_table[act] = train_binary(moons_models[act], moons_x, moons_y, epochs)
    manual_seed(seed)
    xor_model = MLP(2, (16, 16), 1, activation="tanh")
    xor_result = train_binary(xor_model, xor_x, xor_y, epochs)
    moons_test_x, moons_test_y = make_moons(200, noise=0.1, seed=1)
    moons_test = evaluate(
        moons_models["relu"], _loader(moons_test_x, moons_test_y, 200, False), logistic_loss
    )
    boundaries = plot_decision_boundaries(
        [(perceptron, xp, yp, f"perceptron: acc {p_result['acc']:.2f}")]
        + [
            (m, moons_x, moons_y, f"moons, {a}: acc {activation_table[a]['acc']:.3f}")
            for a, m in moons_models.items()
        ]
        + [(xor_model, xor_x, xor_y, f"XOR, tanh: acc {xor_result['acc']:.3f}")],
        os.path.join(out_dir, "decision_boundaries.png"),
    )
    manual_seed(seed)
    digits = run_digits(digits_epochs, out_dir=out_dir)
    return {
        "perceptron_train_accuracy": p_result["acc"],
        "moons_train_accuracy": activation_table["relu"]["acc"],
        "moons_test_accuracy": moons_test["acc"],
        "xor_train_accuracy": xor_result["acc"],
        "activations": {
            a: {"train_loss": r["loss"], "train_accuracy": r["acc"]} for a, r in activation_table.items()
        },
        "digits_test_accuracy": digits["test_accuracy"],
        "digits_test_loss": digits["test_loss"],
        "digits_best_epoch": digits["best_epoch"],
        "decision_boundaries": boundaries,
        "digits_curves": digits["curves"],
    }


def plot_decision_boundaries(panels: list[tuple[nn.Module, np.ndarray, np.ndarray, str]], path: str) -> str:
    """One panel per (model, x, y, title): the predicted class over a grid, and the points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.2))
    for ax, (model, x, y, title) in zip(np.atleast_1d(axes), panels):
        lo, hi = x.min(0) - 0.5, x.max(0) + 0.5
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
        grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)  # (150*150, 2)
        model.eval()
        with no_grad():
            logit = model(as_tensor(grid)).numpy().reshape(gx.shape)  # (150, 150)
        ax.contourf(gx, gy, logit > 0, levels=1, cmap="coolwarm", alpha=0.3)
        ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.2)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
