"""The degradation problem (He et al., 2016): a deeper plain network trains worse, a residual one
does not.

Four networks on the 8x8 digits, all with BatchNorm (so vanishing gradients at initialisation are
not the cause): a shallow and a deep *plain* CNN, and the same two depths with identity skip
connections. Each block is ResNet's `BasicBlock` (conv - BN - ReLU - conv - BN, then + x - ReLU);
the plain block is the same module without the `+ x`, so at one seed a plain network and its
residual twin start from the same weights. Depth counts the weighted layers as the paper does:
1 stem convolution + 2 per block + 1 linear layer (8 = 3 blocks, 20 = 9 blocks).

    image (B, 1, 8, 8) -> stem conv (B, w, 8, 8) -> blocks (B, w, 8, 8) -> mean over H, W (B, w)
                       -> linear (B, 10)

The paper's observation to reproduce: the deeper plain network has the *higher training loss*
(not just test loss), while the deeper residual network trains at least as well as the shallow one.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import nn, optim
from .._tensor import Tensor
from ..data import DataLoader
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import evaluate, fit
from .registry import example
from .resnet import digits_loaders


class PlainBlock(nn.BasicBlock):
    """`BasicBlock` without its skip connection: relu(bn2(conv2(relu(bn1(conv1(x))))))."""

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H, W)
        return self.relu(self.bn2(self.conv2(out)))


class DeepCNN(nn.Module):
    """`depth` weighted layers at one resolution and width, with or without residual blocks."""

    def __init__(self, depth: int, residual: bool, width: int = 16, num_classes: int = 10) -> None:
        super().__init__()
        if depth < 4 or depth % 2:
            raise ValueError(
                f"DeepCNN: depth must be even and >= 4 (stem + 2 per block + linear), got {depth}"
            )
        block = nn.BasicBlock if residual else PlainBlock
        self.depth, self.residual = depth, residual
        self.stem = nn.Sequential(nn.conv3x3(1, width), nn.BatchNorm2d(width), nn.ReLU())
        self.blocks = nn.Sequential(*[block(width, width) for _ in range((depth - 2) // 2)])
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.blocks(self.stem(x))  # (B, width, 8, 8)
        return self.fc(h.mean((2, 3)))  # (B, num_classes)


def smooth(values: list[float], alpha: float = 0.1) -> np.ndarray:
    """Exponential moving average (TensorBoard's smoothing): s_t = (1 - a) s_(t-1) + a v_t."""
    out = np.empty(len(values))
    acc = values[0] if values else 0.0
    for i, v in enumerate(values):
        acc = (1.0 - alpha) * acc + alpha * v
        out[i] = acc
    return out


def plot_degradation(curves: dict[str, list[float]], steps_per_epoch: int, path: str) -> str:
    """Training loss per step (exponential moving average) of each network, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    depths = sorted({int(label.split("-")[1]) for label in curves})
    for label, losses in curves.items():
        kind, depth = label.split("-")
        ax.plot(
            np.arange(1, len(losses) + 1) / steps_per_epoch,
            smooth(losses),
            "-" if kind == "residual" else "--",
            color="tab:red" if int(depth) == depths[-1] else "tab:blue",
            label=f"{kind}, {depth} layers",
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (moving average)")
    ax.set_title("degradation: the deeper plain net trains worse; residual nets do not", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@example("degradation", "plain vs residual CNNs of 8 and 20 layers: the degradation problem")
def run(
    out_dir: str = "runs/degradation",
    quick: bool = False,
    shallow: int = 8,
    deep: int = 20,
    epochs: int = 8,
    width: int = 16,
    lr: float = 0.1,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the four networks with the same data order and optimiser (SGD, momentum 0.9, cosine
    decay, as in the paper); report each one's final training loss and test accuracy (of its
    epoch with the best validation loss)."""
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        shallow, deep, epochs, width = 4, 10, 2, 8
    curves: dict[str, list[float]] = {}
    result: dict = {"depths": [shallow, deep]}
    steps_per_epoch = 0
    start = time.perf_counter()
    for depth in (shallow, deep):
        for residual in (False, True):
            label = f"{'residual' if residual else 'plain'}-{depth}"
            manual_seed(seed)  # same weights for a plain net and its residual twin
            model = DeepCNN(depth, residual, width)
            digits, val, test = digits_loaders(64)
            # the same batches for every network; no 13-image last batch (a noisy BatchNorm step)
            train = DataLoader(
                digits.dataset,
                batch_size=64,
                shuffle=True,
                drop_last=True,
                generator=np.random.default_rng(seed),
            )
            opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
            sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
            losses: list[float] = []

            def step(m: nn.Module, batch: tuple[Tensor, Tensor], losses: list[float] = losses) -> Tensor:
                loss = F.cross_entropy(m(batch[0]), batch[1])
                losses.append(float(loss.item()))
                return loss

            ckpt = os.path.join(out_dir, f"{label}.ckpt")
            t0 = time.perf_counter()
            fit(
                model,
                train,
                F.cross_entropy,
                opt,
                epochs,
                val_loader=val,
                scheduler=sched,
                checkpoint_path=ckpt,
                progress=False,
                verbose=False,
                step_fn=step,
            )
            seconds = time.perf_counter() - t0
            steps_per_epoch = len(train)
            model.load_state_dict(load(ckpt)["model"])
            test_acc = evaluate(model, test, F.cross_entropy)["acc"]
            curves[label] = losses
            result[label] = {
                "final_train_loss": float(np.mean(losses[-steps_per_epoch:])),
                "test_accuracy": test_acc,
                "train_time_s": seconds,
            }
            if verbose:
                print(
                    f"{label:12s} final training loss {result[label]['final_train_loss']:.4f}  "
                    f"test accuracy {test_acc:.3f}  ({seconds:.1f} s)"
                )
    result["train_time_s"] = time.perf_counter() - start
    result["curves"] = plot_degradation(curves, steps_per_epoch, os.path.join(out_dir, "degradation.png"))
    return result
