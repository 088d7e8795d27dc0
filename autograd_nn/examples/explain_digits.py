"""Looking inside two trained digit classifiers with `autograd_nn.explain`.

The digits CNN (`examples/cnn.py`) is explained by gradients: saliency, SmoothGrad and integrated
gradients (IG), each drawn as a heat map over the test digits. Two checks make the pictures more than
pictures:

* completeness: IG's attributions of an image must add up to f(image) - f(black image); the report
  gives the relative gap (largest, median, and the fraction of test images within 1%) at 32, 128
  and 512 integration steps;
* deletion: blanking the pixels an attribution ranks highest should hurt the prediction more than
  blanking as many random pixels. The report gives the mean drop of the predicted class's
  probability for each method and for random pixels.

The Vision Transformer (`examples/vit.py`) is explained by where it attends: per-layer attention maps
recorded with `explain.attention_maps`, and their rollout from the class token to the 16 patches.
"""

from __future__ import annotations

import os
import time
from typing import TypeVar

import numpy as np

from .. import explain, nn, optim
from .._tensor import as_tensor
from ..data import DataLoader, TensorDataset, load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import evaluate, fit
from .cnn import DigitsCNN
from .registry import example
from .vit import ViT, ViTConfig

M = TypeVar("M", bound=nn.Module)


def train_digits_model(
    model: M, epochs: int, out_dir: str, lr: float = 3e-3, batch_size: int = 32, weight_decay: float = 0.0
) -> tuple[M, float]:
    """Train on the digits with a validation split carved from the training data (the best epoch
    is kept); return the model in eval mode and its test accuracy."""
    d = load_digits()
    train = DataLoader(
        TensorDataset(d["X_train"][200:], d["y_train"][200:]), batch_size=batch_size, shuffle=True
    )
    val = DataLoader(TensorDataset(d["X_train"][:200], d["y_train"][:200]), batch_size=256)
    test = DataLoader(TensorDataset(d["X_test"], d["y_test"]), batch_size=512)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    path = os.path.join(out_dir, f"{type(model).__name__.lower()}.ckpt")
    fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs=epochs,
        val_loader=val,
        scheduler=sched,
        checkpoint_path=path,
        progress=False,
        verbose=False,
    )
    model.load_state_dict(load(path)["model"])
    model.eval()
    return model, evaluate(model, test, F.cross_entropy)["acc"]


def deletion_drop(model: nn.Module, images: np.ndarray, attributions: np.ndarray, k: int) -> float:
    """Mean drop of the predicted class's probability when the k pixels with the largest
    attribution of each image are set to 0 (blank paper)."""
    flat = images.reshape(len(images), -1).copy()
    top = np.argsort(-attributions.reshape(len(images), -1), axis=1)[:, :k]
    np.put_along_axis(flat, top, 0.0, axis=1)
    with no_grad():
        before = F.softmax(model(as_tensor(images)), dim=1).numpy()
        after = F.softmax(model(as_tensor(flat.reshape(images.shape))), dim=1).numpy()
    predicted = before.argmax(1)
    rows = np.arange(len(images))
    return float(np.mean(before[rows, predicted] - after[rows, predicted]))


def cls_rollout_maps(model: ViT, images: np.ndarray) -> np.ndarray:
    """(N, 8, 8): attention rollout from the class token to each patch, spread over its pixels."""
    rollout = explain.attention_rollout(explain.attention_maps(model, as_tensor(images))).numpy()
    p = model.config.patch_size
    side = model.config.image_size // p
    to_patches = rollout[:, 0, 1:].reshape(-1, side, side)  # (N, H/P, W/P): class token -> patch
    return np.kron(to_patches, np.ones((p, p)))  # (N, H, W)


@example("explain", "saliency, SmoothGrad, integrated gradients on the digits CNN; ViT attention")
def run(
    out_dir: str = "runs/explain",
    quick: bool = False,
    cnn_epochs: int = 15,
    vit_epochs: int = 20,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the CNN and the ViT, explain their test predictions, check IG's completeness."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        cnn_epochs, vit_epochs = 2, 1
    d = load_digits()
    x_test, y_test = d["X_test"], d["y_test"]
    start = time.perf_counter()
    cnn, cnn_acc = train_digits_model(DigitsCNN(), cnn_epochs, out_dir)
    vit_config = ViTConfig(d_model=32, num_layers=1, dim_feedforward=64) if quick else ViTConfig()
    vit, vit_acc = train_digits_model(
        ViT(vit_config), vit_epochs, out_dir, lr=2e-3, batch_size=64, weight_decay=0.05
    )
    train_time = time.perf_counter() - start

    start = time.perf_counter()
    n = 64 if quick else len(x_test)
    images = x_test[:n]
    sal = explain.saliency(cnn, images, abs=True).numpy()
    smooth = np.abs(explain.smooth_grad(cnn, images, stdevs=0.15, samples=16).numpy())
    completeness = {}
    for steps in (32, 128, 512):
        ig = explain.integrated_gradients(cnn, images, steps=steps, batch_size=4096)
        error = explain.completeness_error(cnn, images, ig)
        completeness[steps] = {
            "max": float(error.max()),
            "median": float(np.median(error)),
            "within_1_percent": float(np.mean(error < 0.01)),
        }
    rng = np.random.default_rng(seed)
    drops = {
        name: deletion_drop(cnn, images, attr, k=8)
        for name, attr in (
            ("saliency", sal),
            ("smoothgrad", smooth),
            ("integrated_gradients", ig.numpy()),
            ("random", rng.random(images.shape)),
        )
    }
    explain_time = time.perf_counter() - start
    if verbose:
        print(f"CNN test accuracy {cnn_acc:.3f}, ViT {vit_acc:.3f}")
        print("IG completeness error by steps:", completeness)
        print("probability drop after blanking the top 8 pixels:", drops)

    shown = [int(np.flatnonzero(y_test == k)[0]) for k in range(10)]
    with no_grad():
        labels = cnn(as_tensor(x_test[shown])).numpy().argmax(1)
    cnn_picture = os.path.join(out_dir, "cnn_attributions.png")
    explain.plot_heatmaps(
        x_test[shown],
        {"saliency": sal[shown], "SmoothGrad": smooth[shown], "integrated\ngradients": ig.numpy()[shown]},
        path=cnn_picture,
        titles=[f"CNN: {y}" for y in labels],
        title="What the digits CNN looks at (IG: red raises the score, blue lowers it)",
    )
    maps = explain.attention_maps(vit, as_tensor(x_test[shown]))
    heads = next(iter(maps.values())).numpy()[:, :, 0, 1:]  # (10, heads, 16): first layer, CLS
    side = vit.config.image_size // vit.config.patch_size
    rows = {
        f"layer 1\nhead {h + 1}": np.kron(
            heads[:, h].reshape(-1, side, side), np.ones((vit.config.patch_size,) * 2)
        )
        for h in range(min(2, heads.shape[1]))
    }
    rows["rollout"] = cls_rollout_maps(vit, x_test[shown])
    with no_grad():
        vit_labels = vit(as_tensor(x_test[shown])).numpy().argmax(1)
    vit_picture = os.path.join(out_dir, "vit_attention.png")
    explain.plot_heatmaps(
        x_test[shown],
        rows,
        path=vit_picture,
        titles=[f"ViT: {y}" for y in vit_labels],
        title="Where the ViT's class token attends (per head, and rolled out over the layers)",
    )
    return {
        "cnn_test_accuracy": cnn_acc,
        "vit_test_accuracy": vit_acc,
        "ig_completeness_error": completeness,
        "deletion_probability_drop": drops,
        "images_explained": n,
        "train_time_s": train_time,
        "explain_time_s": explain_time,
        "cnn_attributions": cnn_picture,
        "vit_attention": vit_picture,
    }
