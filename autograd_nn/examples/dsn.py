"""A deep stacking network (Deng & Yu, 2011) on the 8x8 digits, against an MLP.

A DSN is a stack of small modules, each a one-hidden-layer network (input - sigmoid hidden layer -
linear output). Module 1 sees the pixels; module k sees the pixels *and the outputs of modules
1 .. k-1*, concatenated. Modules are trained one at a time, each on its own loss, with the modules
below it frozen, so no gradient ever flows through the whole stack (the point of the design: every
training problem is shallow, and module k can correct the mistakes of the ones below). Pixels are
standardised with statistics of the training part.

    module k:  [x (B, 64), y_1 .. y_(k-1) (B, 10 each)] -> Linear - sigmoid (B, h) -> Linear (B, 10)

Here each module learns by gradient descent on cross-entropy (the original solved the upper
weights in closed form as a least-squares problem); the outputs passed up are its class
probabilities. The stack's prediction is the top module's output. The baseline is an MLP with one
hidden layer trained end to end on the pixels.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor, cat
from ..data import DataLoader, Standardizer, TensorDataset, load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import evaluate, fit
from .registry import example


class StackingModule(nn.Module):
    """One DSN module: Linear - sigmoid - Linear."""

    def __init__(self, n_inputs: int, hidden: int, num_classes: int = 10) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_inputs, hidden)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.hidden(x).sigmoid())  # (B, num_classes)


class DeepStackingNetwork(nn.Module):
    """Modules applied bottom-up; module k's input is x and the probabilities of modules < k."""

    def __init__(self, n_inputs: int, hidden: int, num_modules: int, num_classes: int = 10) -> None:
        super().__init__()
        self.stack = nn.ModuleList(
            [StackingModule(n_inputs + k * num_classes, hidden, num_classes) for k in range(num_modules)]
        )

    def features(self, x: Tensor, k: int) -> Tensor:
        """The input of module k (0-based): x followed by the outputs of modules 0 .. k-1."""
        parts = [x]
        for module in self.stack[:k]:
            parts.append(F.softmax(module(cat(parts, 1)), dim=1))  # (B, num_classes)
        return cat(parts, 1)  # (B, n_inputs + k * num_classes)

    def forward(self, x: Tensor, upto: int | None = None) -> Tensor:
        """Logits of module `upto` (1-based; default the top one)."""
        k = len(self.stack) if upto is None else upto
        return self.stack[k - 1](self.features(x, k - 1))


def _loaders(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    seed: int,
) -> tuple[DataLoader, DataLoader, DataLoader]:
    return (
        DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=np.random.default_rng(seed)),
        DataLoader(TensorDataset(x_val, y_val), batch_size=512),
        DataLoader(TensorDataset(x_test, y_test), batch_size=512),
    )


def _fit(
    model: nn.Module, loaders: tuple[DataLoader, DataLoader, DataLoader], epochs: int, lr: float, ckpt: str
) -> float:
    """Train `model` (best epoch by validation loss); its test accuracy."""
    train, val, test = loaders
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs,
        val_loader=val,
        checkpoint_path=ckpt,
        progress=False,
        verbose=False,
    )
    model.load_state_dict(load(ckpt)["model"])
    return evaluate(model, test, F.cross_entropy)["acc"]


@example("dsn", "deep stacking network (modules trained one by one on input + outputs below) vs MLP")
def run(
    out_dir: str = "runs/dsn",
    quick: bool = False,
    num_modules: int = 4,
    hidden: int = 64,
    epochs: int = 30,
    lr: float = 3e-3,
    n_val: int = 144,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the DSN module by module and an MLP of the same hidden width; report test
    accuracy after each module and the MLP's."""
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        num_modules, epochs = 2, 3
    d = load_digits(flatten=True)
    x, y = d["X_train"][n_val:], d["y_train"][n_val:]
    scaler = Standardizer(eps=0.1).fit(x)  # per pixel, training part only
    x, x_val = scaler.transform(x), scaler.transform(d["X_train"][:n_val])
    y_val = d["y_train"][:n_val]
    d["X_test"] = scaler.transform(d["X_test"])
    manual_seed(seed)
    dsn = DeepStackingNetwork(64, hidden, num_modules)
    start = time.perf_counter()
    accuracies = []
    for k, module in enumerate(dsn.stack):
        with no_grad():  # the frozen modules below turn every split into module k's inputs
            inputs = [dsn.features(as_tensor(a), k).numpy() for a in (x, x_val, d["X_test"])]
        loaders = _loaders(inputs[0], y, inputs[1], y_val, inputs[2], d["y_test"], seed + k)
        accuracies.append(_fit(module, loaders, epochs, lr, os.path.join(out_dir, f"module{k + 1}.ckpt")))
        if verbose:
            print(f"DSN with {k + 1} module(s): test accuracy {accuracies[-1]:.3f}")
    dsn_time = time.perf_counter() - start
    manual_seed(seed)
    mlp = StackingModule(64, hidden)  # the same one-hidden-layer network, alone
    start = time.perf_counter()
    mlp_acc = _fit(
        mlp,
        _loaders(x, y, x_val, y_val, d["X_test"], d["y_test"], seed),
        epochs,
        lr,
        os.path.join(out_dir, "mlp.ckpt"),
    )
    mlp_time = time.perf_counter() - start
    wide = StackingModule(64, hidden * num_modules)  # as many hidden units as the whole stack
    wide_acc = _fit(
        wide,
        _loaders(x, y, x_val, y_val, d["X_test"], d["y_test"], seed),
        epochs,
        lr,
        os.path.join(out_dir, "mlp_wide.ckpt"),
    )
    if verbose:
        print(f"MLP ({hidden} hidden): {mlp_acc:.3f}; MLP ({hidden * num_modules} hidden): {wide_acc:.3f}")
    with no_grad():
        stacked = (dsn(as_tensor(d["X_test"])).numpy().argmax(1) == d["y_test"]).mean()
    return {
        "dsn_test_accuracy_by_modules": accuracies,
        "dsn_test_accuracy": float(stacked),
        "mlp_test_accuracy": mlp_acc,
        "wide_mlp_test_accuracy": wide_acc,
        "dsn_params": sum(p.numel() for p in dsn.parameters()),
        "mlp_params": sum(p.numel() for p in mlp.parameters()),
        "wide_mlp_params": sum(p.numel() for p in wide.parameters()),
        "dsn_train_time_s": dsn_time,
        "mlp_train_time_s": mlp_time,
    }
