"""The workloads: one builder per row, each returning a `Workload` of same-work callables.

Every builder takes `quick` (tiny sizes for CI: the code path is the same, only shapes shrink) and
builds the autograd_nn callable, the PyTorch one (None without torch) and, where a hand-written
version makes sense, a NumPy one, all from the same weights and data. W1-W4 live here; W5-W7, GEMM
and the registry of every row are in `workloads_more.py`.
"""
from __future__ import annotations

from typing import Any

import autograd_nn as an

from . import numpy_ref
from .common import (both_train_steps, forward_backward, labels, ours_tensor, randn, torch,
                     torch_tensor, twin_models, weights)
from .harness import Target, Workload


# ---- W1 / W2: MLP training steps -------------------------------------------------------------------
def _mlp(sizes: list[int], act: str) -> Any:
    def build(nn: Any) -> Any:
        layers: list[Any] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
        return nn.Sequential(*layers)
    return build


def _mlp_workload(key: str, name: str, sizes: list[int], act: str, loss: str, batch: int,
                  target: float) -> Workload:
    x = randn(batch, sizes[0])
    if loss == "MSELoss":
        y = randn(batch, sizes[-1])
    else:
        y = labels(batch, sizes[-1])
    lr = 0.01
    ours, theirs, model = both_train_steps(_mlp(sizes, act), loss, x, y, lr)
    w = weights(model)
    linear = sorted({k.rsplit(".", 1)[0] for k in w}, key=lambda k: int(k))
    ref = numpy_ref.MLP([w[f"{k}.weight"] for k in linear], [w[f"{k}.bias"] for k in linear], act,
                        "mse" if loss == "MSELoss" else "ce", lr)
    return Workload(key, name, {"ours": ours, "torch": theirs, "numpy": lambda: ref.step(x, y)},
                    Target("<=", target))


def w1_tiny_mlp(quick: bool = False) -> Workload:
    """2-16-16-1 tanh MLP on 100 points: forward, MSE, backward, SGD step (per-op overhead bound)."""
    return _mlp_workload("W1", "MLP 2-16-16-1 tanh, 100 pts, train step", [2, 16, 16, 1], "tanh",
                         "MSELoss", 100, 0.7)


def w2_mlp(quick: bool = False) -> Workload:
    """784-256-256-10 relu MLP, batch 128: cross-entropy training step (GEMM bound)."""
    sizes, batch = ([784, 32, 32, 10], 8) if quick else ([784, 256, 256, 10], 128)
    return _mlp_workload("W2", f"MLP {'-'.join(map(str, sizes))} relu, b{batch}, CE step", sizes,
                         "relu", "CrossEntropyLoss", batch, 1.2)


# ---- W3: one convolution ---------------------------------------------------------------------------
def _conv_setup(quick: bool) -> tuple[Any, Any, Any, Any, str]:
    shape = (2, 16, 8, 8) if quick else (32, 16, 32, 32)
    ours, theirs = twin_models(lambda nn: nn.Conv2d(16, 32, 3, padding=1))
    x = randn(*shape)
    return ours, theirs, x, randn(shape[0], 32, *shape[2:]), "x".join(map(str, shape))


def w3_conv_forward(quick: bool = False) -> Workload:
    """Conv2d 16->32 3x3 pad 1 forward under no_grad (im2col + GEMM)."""
    ours, theirs, x, _, label = _conv_setup(quick)
    xo = ours_tensor(x)

    def run_ours() -> Any:
        with an.no_grad():
            return ours(xo)

    run_torch = None
    if theirs is not None:
        xt = torch_tensor(x)

        def run_torch() -> Any:
            with torch.no_grad():
                return theirs(xt)
    w = weights(ours)
    return Workload("W3f", f"Conv2d 16->32 3x3 on {label}, forward no_grad",
                    {"ours": run_ours, "torch": run_torch,
                     "numpy": numpy_ref.conv_forward(w["weight"], w["bias"], x)},
                    Target("<=", 1.5))


def w3_conv_backward(quick: bool = False) -> Workload:
    """The same convolution, forward + backward (grads of input, weight and bias)."""
    ours, theirs, x, g, label = _conv_setup(quick)
    grad_w = lambda m: m.weight.grad
    run_torch = None
    if theirs is not None:
        run_torch = forward_backward(theirs, torch_tensor(x, True), torch_tensor(g), grad_w)
    w = weights(ours)
    return Workload("W3b", f"Conv2d 16->32 3x3 on {label}, forward+backward",
                    {"ours": forward_backward(ours, ours_tensor(x, True), ours_tensor(g), grad_w),
                     "torch": run_torch,
                     "numpy": numpy_ref.conv_forward_backward(w["weight"], w["bias"], x, g)},
                    Target("<=", 1.5))


# ---- W4: small CNN training step -------------------------------------------------------------------
def _cnn(side: int) -> Any:
    def build(nn: Any) -> Any:
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (B, 8, S/2, S/2)
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, S/4, S/4)
            nn.Flatten(), nn.Linear(16 * (side // 4) ** 2, 10),          # (B, 10)
        )
    return build


def w4_cnn(quick: bool = False) -> Workload:
    """conv-relu-maxpool x2 + linear on 64x1x28x28: cross-entropy + SGD step."""
    batch, side = (4, 12) if quick else (64, 28)
    x, y = randn(batch, 1, side, side), labels(batch, 10)
    ours, theirs, _ = both_train_steps(_cnn(side), "CrossEntropyLoss", x, y, lr=0.01)
    return Workload("W4", f"CNN (conv-relu-pool)x2+linear, {batch}x1x{side}x{side}, CE step",
                    {"ours": ours, "torch": theirs}, Target("<=", 1.5))
