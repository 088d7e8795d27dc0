"""Normalisation schemes side by side: the same small CNN on the digits with BatchNorm, Ghost
BatchNorm, LayerNorm, GroupNorm, InstanceNorm, or no normalisation after each convolution.

Every scheme computes y = (x - mean) / sqrt(var + eps) * gamma + beta; they differ only in which
values of the (N, C, H, W) activations share one mean and variance (Wu & He, 2018, figure 2):

    BatchNorm     one channel, over the batch and all positions      (N, H, W) per channel
    GhostNorm     BatchNorm within virtual batches of a few samples  (N/k, H, W) per channel
    LayerNorm     one sample, over all channels and positions        (C, H, W) per sample
    GroupNorm     one sample, over a group of channels               (C/G, H, W) per sample
    InstanceNorm  one sample and one channel                         (H, W) per sample, channel

Each model starts from the same weights and sees the same batches; the figure draws that table and
the training curves of every scheme.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from .. import nn, optim
from .._tensor import Tensor
from ..data import DataLoader, TensorDataset, load_digits
from ..nn import functional as F
from ..random import manual_seed
from ..training import evaluate, fit
from .registry import example

NormFactory = Callable[[int, int], nn.Module]  # (channels, spatial size) -> module

SCHEMES: dict[str, NormFactory] = {
    "none": lambda c, s: nn.Identity(),
    "batch": lambda c, s: nn.BatchNorm2d(c),
    "ghost batch": lambda c, s: nn.GhostBatchNorm2d(c, virtual_batch_size=16),
    "layer": lambda c, s: nn.LayerNorm((c, s, s)),  # over (C, H, W) of each sample
    "group": lambda c, s: nn.GroupNorm(4, c),
    "instance": lambda c, s: nn.InstanceNorm2d(c, affine=True),
}


class NormCNN(nn.Module):
    """conv - norm - relu - pool, twice, then linear; `norm` picks the normalisation layer."""

    def __init__(
        self, norm: NormFactory, channels: tuple[int, int] = (16, 32), size: int = 8, num_classes: int = 10
    ) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            norm(c1, size),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            norm(c2, size // 2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(c2 * (size // 4) ** 2, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.features(x)  # (B, c2, size/4, size/4)
        return self.classifier(h.flatten(1))  # (B, num_classes)


def train_scheme(
    name: str,
    data: dict,
    epochs: int,
    channels: tuple[int, int],
    lr: float,
    batch_size: int,
    seed: int,
    verbose: bool,
) -> dict:
    """Train one NormCNN from the seed's initial weights; per-step losses and per-epoch curves."""
    manual_seed(seed)  # the same initial weights and batch order for every scheme
    model = NormCNN(SCHEMES[name], channels)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    train = DataLoader(TensorDataset(data["X_train"], data["y_train"]), batch_size=batch_size, shuffle=True)
    val = DataLoader(TensorDataset(data["X_val"], data["y_val"]), batch_size=512)
    step_losses: list[float] = []

    def step(model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        loss = F.cross_entropy(model(batch[0]), batch[1])
        step_losses.append(loss.item())
        return loss

    start = time.perf_counter()
    history = fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs=epochs,
        val_loader=val,
        step_fn=step,
        progress=False,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    test = DataLoader(TensorDataset(data["X_test"], data["y_test"]), batch_size=512)
    test_acc = evaluate(model, test, F.cross_entropy)["acc"]
    return {
        "step_loss": step_losses,
        "loss": history["loss"],
        "val_loss": history["val_loss"],
        "val_acc": history["val_acc"],
        "test_acc": test_acc,
        "train_time_s": seconds,
    }


def statistics_mask(scheme: str, n: int = 4, c: int = 8, groups: int = 4, virtual: int = 2) -> np.ndarray:
    """(n, c) booleans: the (sample, channel) pairs that share one mean and variance with sample 0,
    channel 0 (all positions H, W of a marked pair take part)."""
    mask = np.zeros((n, c), bool)
    if scheme == "batch":
        mask[:, 0] = True
    elif scheme == "ghost batch":
        mask[:virtual, 0] = True
    elif scheme == "layer":
        mask[0, :] = True
    elif scheme == "group":
        mask[0, : c // groups] = True
    elif scheme == "instance":
        mask[0, 0] = True
    return mask


def smooth(values: list[float], k: int) -> np.ndarray:
    """Moving average over k steps (valid part only)."""
    k = max(1, min(k, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


def plot_comparison(curves: dict[str, dict], path: str) -> str:
    """Top: which values share statistics in each scheme; bottom: training loss per step and
    validation accuracy per epoch of every scheme."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = list(curves)
    fig = plt.figure(figsize=(2.0 * len(names), 7.0))
    grid = fig.add_gridspec(2, len(names), height_ratios=(1.0, 2.2))
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(statistics_mask(name), cmap="Blues", vmin=0.0, vmax=1.5)
        ax.set_xticks(np.arange(-0.5, 8, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, 4, 1), minor=True)
        ax.grid(which="minor", color="gray", linewidth=0.5)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_xlabel("C (each cell: all H, W)", fontsize=7)
        ax.set_ylabel("N", fontsize=7)
        ax.set_title(name, fontsize=9)
    half = len(names) // 2
    loss_ax = fig.add_subplot(grid[1, :half])
    acc_ax = fig.add_subplot(grid[1, half:])
    for name, c in curves.items():
        steps_per_epoch = len(c["step_loss"]) / len(c["val_acc"])
        k = max(1, int(steps_per_epoch // 2))
        loss_ax.plot(np.arange(len(smooth(c["step_loss"], k))) + k, smooth(c["step_loss"], k), label=name)
        acc_ax.plot(range(1, len(c["val_acc"]) + 1), c["val_acc"], marker="o", label=name)
    loss_ax.set(xlabel="step", ylabel="training loss", yscale="log", title="training loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    acc_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_ax.legend(fontsize=8)
    acc_ax.legend(fontsize=8)
    fig.suptitle("normalisation schemes: statistics shared (blue) and training curves")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@example("normalization", "the same CNN with Batch/Ghost/Layer/Group/Instance norm or none")
def run(
    out_dir: str = "runs/normalization",
    quick: bool = False,
    epochs: int = 5,
    schemes: tuple[str, ...] = tuple(SCHEMES),
    channels: tuple[int, int] = (16, 32),
    lr: float = 0.05,
    batch_size: int = 64,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train one model per scheme; return per-scheme curves and final accuracies.

    quick=True trains narrower models on 640 images for 2 epochs in batches of 32."""
    unknown = [s for s in schemes if s not in SCHEMES]
    if unknown:
        raise ValueError(f"normalization: unknown schemes {unknown}; choose from {list(SCHEMES)}")
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        epochs, channels, batch_size = 2, (8, 16), 32
    d = load_digits()
    n_val = 144
    n_train = 640 if quick else len(d["X_train"]) - n_val
    data = {
        "X_train": d["X_train"][n_val : n_val + n_train],
        "y_train": d["y_train"][n_val : n_val + n_train],
        "X_val": d["X_train"][:n_val],
        "y_val": d["y_train"][:n_val],
        "X_test": d["X_test"],
        "y_test": d["y_test"],
    }
    curves = {}
    for name in schemes:
        if verbose:
            print(f"--- {name} norm")
        curves[name] = train_scheme(name, data, epochs, channels, lr, batch_size, seed, verbose)
    figure = plot_comparison(curves, os.path.join(out_dir, "normalization.png"))
    return {
        "test_accuracy": {k: c["test_acc"] for k, c in curves.items()},
        "final_val_accuracy": {k: c["val_acc"][-1] for k, c in curves.items()},
        "train_time_s": {k: c["train_time_s"] for k, c in curves.items()},
        "curves": {k: {m: c[m] for m in ("loss", "val_loss", "val_acc")} for k, c in curves.items()},
        "figure": figure,
    }
