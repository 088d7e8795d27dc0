"""A small residual network (He et al., 2016) on the 8x8 digits.

Each stage is a stack of `BasicBlock`s (two 3x3 convolutions and a skip connection x + F(x)); the
first block of every stage after the first halves the resolution with stride 2 and doubles the
width, so its shortcut is a projection (1x1 convolution with stride 2, then BatchNorm) instead of
the identity. Global average pooling and one Linear layer classify.

    image (B, 1, 8, 8) -> stem (B, 16, 8, 8) -> stage 1 (B, 16, 8, 8) -> stage 2 (B, 32, 4, 4)
                       -> average pool (B, 32) -> logits (B, 10)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from .._tensor import Tensor
from ..data import DataLoader, TensorDataset, load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import confusion_matrix, evaluate, fit
from .registry import example


@dataclass
class ResNetConfig:
    """Widths of the stages (each after the first halves H and W) and blocks per stage."""

    widths: tuple[int, ...] = (16, 32)
    blocks: tuple[int, ...] = (1, 1)
    in_channels: int = 1
    num_classes: int = 10


class ResNet(nn.Module):
    """stem conv - stages of BasicBlocks - global average pool - linear."""

    def __init__(self, config: ResNetConfig | None = None) -> None:
        super().__init__()
        cfg = config or ResNetConfig()
        if len(cfg.widths) != len(cfg.blocks):
            raise ValueError(f"ResNet: {len(cfg.widths)} widths for {len(cfg.blocks)} stages")
        self.config = cfg
        w0 = cfg.widths[0]
        self.stem = nn.Sequential(nn.conv3x3(cfg.in_channels, w0), nn.BatchNorm2d(w0), nn.ReLU())
        stages, inplanes = [], w0
        for i, (width, n_blocks) in enumerate(zip(cfg.widths, cfg.blocks)):
            stride = 1 if i == 0 else 2
            blocks = [
                nn.BasicBlock(inplanes, width, stride, downsample=nn.make_downsample(inplanes, width, stride))
            ]
            blocks += [nn.BasicBlock(width, width) for _ in range(n_blocks - 1)]
            stages.append(nn.Sequential(*blocks))
            inplanes = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, cfg.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.stem(x)  # (B, w0, H, W)
        h = self.stages(h)  # (B, w_last, H / 2^(stages-1), W / 2^(stages-1))
        h = self.pool(h).flatten(1)  # (B, w_last)
        return self.fc(h)  # (B, num_classes)


def digits_loaders(
    batch_size: int, n_val: int = 144, n_train: int | None = None
) -> tuple[DataLoader, DataLoader, DataLoader]:
    """Train / validation / test loaders on the digits; validation is held out of the training
    split (already shuffled by `load_digits`), so the test set is never used to pick a model."""
    d = load_digits()
    x, y = d["X_train"], d["y_train"]
    x_val, y_val = x[:n_val], y[:n_val]
    x_tr, y_tr = x[n_val:], y[n_val:]
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    train = DataLoader(TensorDataset(x_tr, y_tr), batch_size=batch_size, shuffle=True)
    val = DataLoader(TensorDataset(x_val, y_val), batch_size=512)
    test = DataLoader(TensorDataset(d["X_test"], d["y_test"]), batch_size=512)
    return train, val, test


def plot_mistakes(model: nn.Module, loader: DataLoader, path: str, n: int = 16) -> str:
    """The first `n` misclassified test digits with their true and predicted labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrong_x, wrong_y, wrong_pred = [], [], []
    model.eval()
    with no_grad():
        for xb, yb in loader:
            pred = model(xb).numpy().argmax(-1)  # (B,)
            wrong = pred != yb.numpy()
            wrong_x.append(xb.numpy()[wrong])
            wrong_y.append(yb.numpy()[wrong])
            wrong_pred.append(pred[wrong])
    x, y = np.concatenate(wrong_x)[:n], np.concatenate(wrong_y)[:n]
    p = np.concatenate(wrong_pred)[:n]
    fig, axes = plt.subplots(1, max(len(x), 1), figsize=(1.1 * max(len(x), 1), 1.5))
    for ax, img, true, guess in zip(np.atleast_1d(axes), x, y, p):
        ax.imshow(img[0], cmap="gray_r")
        ax.set_title(f"{true}->{guess}", fontsize=8)
    for ax in np.atleast_1d(axes):
        ax.axis("off")
    fig.suptitle(f"misclassified test digits (true->predicted): {len(x)} shown", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@example("resnet", "small ResNet (BasicBlocks, projection shortcut) on the 8x8 digits")
def run(
    out_dir: str = "runs/resnet",
    quick: bool = False,
    epochs: int = 8,
    config: ResNetConfig | None = None,
    lr: float = 1e-2,
    batch_size: int = 32,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train, keep the best epoch by validation loss, report test accuracy.

    quick=True trains a narrower network for 3 epochs (a few seconds)."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        epochs, config = 3, config or ResNetConfig(widths=(8, 16))
    train, val, test = digits_loaders(batch_size)
    model = ResNet(config)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    ckpt = os.path.join(out_dir, "best.ckpt")
    start = time.perf_counter()
    history = fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs=epochs,
        val_loader=val,
        scheduler=sched,
        checkpoint_path=ckpt,
        progress=verbose and not quick,
        verbose=verbose,
    )
    train_time = time.perf_counter() - start
    model.load_state_dict(load(ckpt)["model"])
    result = evaluate(model, test, F.cross_entropy)
    xb, yb = next(iter(test))
    confusion = confusion_matrix(model.eval()(xb), yb, 10)
    return {
        "test_accuracy": result["acc"],
        "test_loss": result["loss"],
        "best_epoch": history.best_epoch,
        "train_time_s": train_time,
        "parameters": sum(p.numel() for p in model.parameters()),
        "checkpoint": ckpt,
        "curves": history.plot(os.path.join(out_dir, "curves.png"), "small ResNet on digits"),
        "mistakes": plot_mistakes(model, test, os.path.join(out_dir, "mistakes.png")),
        "confusion_matrix": confusion.tolist(),
    }
