"""Fine-tuning and LoRA: adapt a pretrained classifier to a new task three ways.

1. Pretrain an MLP on the digits 0-4 (task A).
2. Adapt it to task B, the digits 5-9 relabelled 0-4, by
   - full fine-tuning: every weight trains, starting from the pretrained ones;
   - head-only fine-tuning: the body is frozen, only the last Linear layer trains;
   - LoRA (Hu et al., 2021): every Linear weight W is frozen and adapted as W + (alpha / r) B A,
     with A (r, in) and B (out, r) the only trained numbers; B starts at zero, so the adapted model
     starts out as the pretrained one.
3. Merge the LoRA update into W (one Linear again, no extra cost at inference) and check that the
   merged model computes what the adapted one does.

The report gives, per method, the trainable and total parameter counts and the accuracy on task B.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor
from ..data import DataLoader, TensorDataset, load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import save
from ..training import History, evaluate, fit
from .registry import example

METHODS = ("full fine-tuning", "head only", "LoRA")


class DigitsMLP(nn.Module):
    """The body fc1 - ReLU - fc2 - ReLU, then the head: a Linear layer to the classes."""

    def __init__(self, hidden: tuple[int, int] = (256, 128), num_classes: int = 5) -> None:
        super().__init__()
        h1, h2 = hidden
        self.fc1 = nn.Linear(64, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.head = nn.Linear(h2, num_classes)

    def body(self, x: Tensor) -> Tensor:
        return self.fc2(self.fc1(x).relu()).relu()  # (B, 64) -> (B, h1) -> (B, h2)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))  # (B, num_classes)


def split_tasks(n_val_fraction: float = 0.15) -> dict[str, dict[str, np.ndarray]]:
    """Task A: digits 0-4; task B: digits 5-9 relabelled 0-4. Each with train/val/test arrays
    (validation held out of the already shuffled training split)."""
    d = load_digits(flatten=True)
    tasks = {}
    for name, lo in (("A", 0), ("B", 5)):
        keep_tr = (d["y_train"] >= lo) & (d["y_train"] < lo + 5)
        keep_te = (d["y_test"] >= lo) & (d["y_test"] < lo + 5)
        x, y = d["X_train"][keep_tr], d["y_train"][keep_tr] - lo
        n_val = int(len(x) * n_val_fraction)
        tasks[name] = {
            "X_train": x[n_val:],
            "y_train": y[n_val:],
            "X_val": x[:n_val],
            "y_val": y[:n_val],
            "X_test": d["X_test"][keep_te],
            "y_test": d["y_test"][keep_te] - lo,
        }
    return tasks


def loaders(task: dict[str, np.ndarray], batch_size: int) -> tuple[DataLoader, ...]:
    """(train, val, test) loaders of one task; only the training one shuffles."""
    return tuple(
        DataLoader(
            TensorDataset(task[f"X_{s}"], task[f"y_{s}"]),
            batch_size=batch_size if s == "train" else 1024,
            shuffle=s == "train",
        )
        for s in ("train", "val", "test")
    )


def trainable(model: nn.Module) -> list:
    """The parameters that will be trained (the optimizer gets only these)."""
    return [p for p in model.parameters() if p.requires_grad]


def adapt(method: str, pretrained: nn.Module, hidden: tuple[int, int], r: int, alpha: float) -> nn.Module:
    """A copy of the pretrained model, set up for `method` (frozen parts, LoRA adapters)."""
    model = DigitsMLP(hidden)
    model.load_state_dict(pretrained.state_dict())  # copies the arrays
    if method == "head only":
        model.fc1.requires_grad_(False)
        model.fc2.requires_grad_(False)
    elif method == "LoRA":
        nn.apply_lora(model, target_modules=lambda name, module: True, r=r, alpha=alpha)
    elif method != "full fine-tuning":
        raise ValueError(f"lora example: unknown method {method!r}; choose from {METHODS}")
    return model


def check_merge(model: nn.Module, x: np.ndarray) -> float:
    """Merge the adapters into the base weights; the largest output change it causes."""
    model.eval()
    with no_grad():
        before = model(as_tensor(x)).numpy()  # (N, classes)
        nn.merge_lora(model)
        after = model(as_tensor(x)).numpy()
    return float(np.abs(after - before).max())


def plot_adaptation(histories: dict[str, History], report: dict[str, dict], path: str) -> str:
    """Left: validation accuracy on task B per epoch; right: accuracy vs trainable parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, h in histories.items():
        ax1.plot(range(1, len(h["val_acc"]) + 1), h["val_acc"], marker="o", label=name)
    ax1.set(xlabel="epoch", ylabel="validation accuracy", title="adapting to digits 5-9")
    ax1.legend(fontsize=8)
    for name, rep in report.items():
        ax2.scatter(rep["trainable"], rep["accuracy"], s=60)
        ax2.annotate(
            f"{name}\n{rep['trainable']:,} / {rep['total']:,}",
            (rep["trainable"], rep["accuracy"]),
            fontsize=8,
            xytext=(6, -12),
            textcoords="offset points",
        )
    ax2.set(
        xscale="log",
        xlabel="trainable parameters (log)",
        ylabel="test accuracy (task B)",
        title="accuracy vs trainable parameters",
    )
    ax2.margins(x=0.6, y=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@example("lora", "fine-tuning vs head-only vs LoRA adapters on a shifted digits task")
def run(
    out_dir: str = "runs/lora",
    quick: bool = False,
    pretrain_epochs: int = 20,
    adapt_epochs: int = 20,
    hidden: tuple[int, int] = (256, 128),
    r: int = 4,
    alpha: float = 8.0,
    lr: dict[str, float] | None = None,
    batch_size: int = 32,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Pretrain on task A, adapt to task B three ways, merge the LoRA adapters.

    quick=True pretrains for 6 epochs and adapts for 6."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        pretrain_epochs = adapt_epochs = 6
    lr = {"pretrain": 2e-3, "full fine-tuning": 1e-3, "head only": 1e-2, "LoRA": 1e-2, **(lr or {})}
    tasks = split_tasks()
    a_train, a_val, a_test = loaders(tasks["A"], batch_size)
    b_train, b_val, b_test = loaders(tasks["B"], batch_size)

    pretrained = DigitsMLP(hidden)
    fit(
        pretrained,
        a_train,
        F.cross_entropy,
        optim.Adam(pretrained.parameters(), lr["pretrain"]),
        epochs=pretrain_epochs,
        val_loader=a_val,
        progress=False,
        verbose=verbose,
    )
    result: dict[str, Any] = {
        "pretrained_task_A_accuracy": evaluate(pretrained, a_test, F.cross_entropy)["acc"],
        "pretrained_task_B_accuracy": evaluate(pretrained, b_test, F.cross_entropy)["acc"],
    }

    histories, report, models = {}, {}, {}
    for method in METHODS:
        manual_seed(seed + 1)  # the same batches for every method
        model = adapt(method, pretrained, hidden, r, alpha)
        n_train, n_total = nn.count_parameters(model)
        if verbose:
            print(f"--- {method}: {n_train:,} of {n_total:,} parameters trainable")
        opt = optim.Adam(trainable(model), lr=lr[method])
        start = time.perf_counter()
        histories[method] = fit(
            model,
            b_train,
            F.cross_entropy,
            opt,
            epochs=adapt_epochs,
            val_loader=b_val,
            progress=False,
            verbose=verbose,
        )
        report[method] = {
            "trainable": n_train,
            "total": n_total,
            "accuracy": evaluate(model, b_test, F.cross_entropy)["acc"],
            "train_time_s": time.perf_counter() - start,
        }
        models[method] = model

    lora_model = models["LoRA"]
    adapters = {k: v for k, v in lora_model.state_dict().items() if "lora_" in k}
    save(adapters, os.path.join(out_dir, "lora_adapters.ckpt"))
    result["lora_adapter_numbers"] = sum(int(v.numel()) for v in adapters.values())
    result["merge_max_abs_diff"] = check_merge(lora_model, tasks["B"]["X_test"])
    result["merged_accuracy"] = evaluate(lora_model, b_test, F.cross_entropy)["acc"]
    result["methods"] = report
    result["figure"] = plot_adaptation(histories, report, os.path.join(out_dir, "lora.png"))
    return result
