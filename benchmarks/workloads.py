"""The workloads: one builder per row, each returning a `Workload` of same-work factories.

Every builder takes `quick` (tiny sizes for CI: the code path is the same, only shapes shrink) and
makes the data with NumPy. Its `make` holds one factory per implementation; each worker process
calls only its own library's factory (see `common.py`), so a builder never imports a library at its
top. W1-W4 live here; W5-W7, GEMM and the registry of every row are in `workloads_more.py`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from . import numpy_ref
from .common import (
    build_model,
    forward_backward,
    labels,
    lib,
    param_values,
    per_library,
    randn,
    sgd_step,
    tensor,
)
from .harness import Target, Workload


# ---- W1 / W2: MLP training steps -------------------------------------------------------------------
def _mlp(sizes: list[int], act: str) -> Callable[[Any], Any]:
    def build(nn: Any) -> Any:
        layers: list[Any] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if act == "tanh" else nn.ReLU())
        return nn.Sequential(*layers)

    return build


def _mlp_numpy(sizes: list[int], act: str, loss: str, lr: float, x: Any, y: Any) -> Callable:
    """The NumPy baseline with the weights `param_values` gives Sequential's Linear layers."""
    ws, bs = [], []
    for k, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        idx = 2 * k  # Sequential index of the k-th Linear (an activation follows each but the last)
        ws.append(param_values(f"{idx}.weight", (fan_out, fan_in)))
        bs.append(param_values(f"{idx}.bias", (fan_out,)))
    ref = numpy_ref.MLP(ws, bs, act, "mse" if loss == "MSELoss" else "ce", lr)
    return lambda: ref.step(x, y)


def _mlp_workload(
    key: str, name: str, sizes: list[int], act: str, loss: str, batch: int, target: float
) -> Workload:
    x = randn(batch, sizes[0])
    y = randn(batch, sizes[-1]) if loss == "MSELoss" else labels(batch, sizes[-1])
    lr = 0.01
    make = per_library(lambda impl: sgd_step(impl, _mlp(sizes, act), loss, x, y, lr))
    make["numpy"] = lambda: _mlp_numpy(sizes, act, loss, lr, x, y)
    return Workload(key, name, target=Target("<=", target), make=make)


def w1_tiny_mlp(quick: bool = False) -> Workload:
    """2-16-16-1 tanh MLP on 100 points: forward, MSE, backward, SGD step (per-op overhead bound)."""
    return _mlp_workload(
        "W1", "MLP 2-16-16-1 tanh, 100 pts, train step", [2, 16, 16, 1], "tanh", "MSELoss", 100, 0.5
    )


def w2_mlp(quick: bool = False) -> Workload:
    """784-256-256-10 relu MLP, batch 128: cross-entropy training step (GEMM bound)."""
    sizes, batch = ([784, 32, 32, 10], 8) if quick else ([784, 256, 256, 10], 128)
    return _mlp_workload(
        "W2",
        f"MLP {'-'.join(map(str, sizes))} relu, b{batch}, CE step",
        sizes,
        "relu",
        "CrossEntropyLoss",
        batch,
        1.0,
    )


# ---- W3: one convolution ---------------------------------------------------------------------------
def _conv_shape(quick: bool) -> tuple[int, ...]:
    return (2, 16, 8, 8) if quick else (32, 16, 32, 32)


def _conv_build(nn: Any) -> Any:
    return nn.Conv2d(16, 32, 3, padding=1)


def _conv_forward(impl: str, x: Any) -> Callable[[], Any]:
    L = lib(impl)
    model, xt = build_model(impl, _conv_build), tensor(impl, x)

    def run() -> Any:
        with L.no_grad():
            return model(xt)

    return run


def w3_conv_forward(quick: bool = False) -> Workload:
    """Conv2d 16->32 3x3 pad 1 forward under no_grad (im2col + GEMM)."""
    shape = _conv_shape(quick)
    x = randn(*shape)
    make = per_library(lambda impl: _conv_forward(impl, x))
    make["numpy"] = lambda: numpy_ref.conv_forward(
        param_values("weight", (32, 16, 3, 3)), param_values("bias", (32,)), x
    )
    return Workload(
        "W3f",
        f"Conv2d 16->32 3x3 on {'x'.join(map(str, shape))}, forward no_grad",
        target=Target("<=", 1.25),
        make=make,
    )


def w3_conv_backward(quick: bool = False) -> Workload:
    """The same convolution, forward + backward (grads of input, weight and bias)."""
    shape = _conv_shape(quick)
    x, g = randn(*shape), randn(shape[0], 32, *shape[2:])
    make = per_library(
        lambda impl: forward_backward(
            build_model(impl, _conv_build), tensor(impl, x, True), tensor(impl, g), lambda m: m.weight.grad
        )
    )
    make["numpy"] = lambda: numpy_ref.conv_forward_backward(
        param_values("weight", (32, 16, 3, 3)), param_values("bias", (32,)), x, g
    )
    return Workload(
        "W3b",
        f"Conv2d 16->32 3x3 on {'x'.join(map(str, shape))}, forward+backward",
        target=Target("<=", 1.0),
        make=make,
    )


# ---- W4: small CNN training step -------------------------------------------------------------------
def cnn(side: int, c1: int = 8, c2: int = 16) -> Callable[[Any], Any]:
    def build(nn: Any) -> Any:
        return nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c1, S/2, S/2)
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c2, S/4, S/4)
            nn.Flatten(),
            nn.Linear(c2 * (side // 4) ** 2, 10),  # (B, 10)
        )

    return build


def w4_cnn(quick: bool = False) -> Workload:
    """conv-relu-maxpool x2 + linear on 64x1x28x28: cross-entropy + SGD step."""
    batch, side = (4, 12) if quick else (64, 28)
    x, y = randn(batch, 1, side, side), labels(batch, 10)
    return Workload(
        "W4",
        f"CNN (conv-relu-pool)x2+linear, {batch}x1x{side}x{side}, CE step",
        target=Target("<=", 1.0),
        make=per_library(lambda impl: sgd_step(impl, cnn(side), "CrossEntropyLoss", x, y, lr=0.01)),
    )
