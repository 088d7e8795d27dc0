"""W5-W7 and GEMM builders, and `REGISTRY`: every benchmark row in table order.

See `workloads.py` for the conventions (quick sizes, per-library factories, identical data).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import numpy_ref, overhead, training
from .common import build_model, forward_backward, lib, per_library, randn, tensor
from .harness import Target, Workload
from .workloads import w1_tiny_mlp, w2_mlp, w3_conv_backward, w3_conv_forward, w4_cnn


# ---- W5: LSTM ----------------------------------------------------------------------------------------
def lstm_step(impl: str, batch: int, seq: int, n_in: int, hidden: int) -> Callable[[], Any]:
    """nn.LSTM(n_in, hidden, batch_first) forward + backward from a fixed output gradient."""
    model = build_model(impl, lambda nn: nn.LSTM(n_in, hidden, batch_first=True))
    x, g = randn(batch, seq, n_in), randn(batch, seq, hidden)
    return forward_backward(
        model, tensor(impl, x), tensor(impl, g), lambda m: m.weight_hh_l0.grad, lambda res: res[0]
    )


def w5_lstm(quick: bool = False) -> Workload:
    """nn.LSTM(64, 128, batch_first) on (32, 32, 64): forward + backward from a fixed output grad."""
    batch, seq, n_in, hidden = (2, 4, 8, 16) if quick else (32, 32, 64, 128)
    return Workload(
        "W5",
        f"LSTM in {n_in} hid {hidden}, batch {batch}, seq {seq}, fwd+bwd",
        target=Target("<=", 1.0),
        make=per_library(lambda impl: lstm_step(impl, batch, seq, n_in, hidden)),
    )


# ---- W6: self-attention block --------------------------------------------------------------------
def attention_block(d_model: int, heads: int) -> Callable[[Any], Any]:
    def build(nn: Any) -> Any:
        class Block(nn.Module):
            """x + MultiheadAttention(x, x, x), then LayerNorm (post-norm, no dropout)."""

            def __init__(self) -> None:
                super().__init__()
                self.attn = nn.MultiheadAttention(d_model, heads, batch_first=True)
                self.norm = nn.LayerNorm(d_model)

            def forward(self, x: Any) -> Any:
                a, _ = self.attn(x, x, x, need_weights=False)  # (B, T, D)
                return self.norm(x + a)  # (B, T, D)

        return Block()

    return build


def attention_step(impl: str, batch: int, seq: int, d_model: int, heads: int) -> Callable[[], Any]:
    """`attention_block` forward + backward from a fixed output gradient."""
    model = build_model(impl, attention_block(d_model, heads))
    x, g = randn(batch, seq, d_model), randn(batch, seq, d_model)
    return forward_backward(
        model, tensor(impl, x, True), tensor(impl, g), lambda m: m.attn.in_proj_weight.grad
    )


def w6_attention(quick: bool = False) -> Workload:
    """MultiheadAttention + residual + LayerNorm, batch 8, seq 64, d_model 128, 4 heads: fwd+bwd."""
    batch, seq, d_model, heads = (2, 8, 32, 4) if quick else (8, 64, 128, 4)
    return Workload(
        "W6",
        f"MHA+residual+LayerNorm b{batch} T{seq} d{d_model} h{heads}, fwd+bwd",
        target=Target("<=", 1.0),
        make=per_library(lambda impl: attention_step(impl, batch, seq, d_model, heads)),
    )


# ---- W7: a long chain of scalar ops --------------------------------------------------------------
def _chain(x0: Any, n_ops: int) -> Callable[[], Any]:
    """x <- x * 1.0001 and x <- x + 0.001 alternately, n_ops ops in all, then backward."""

    def step() -> Any:
        x0.grad = None
        x = x0
        for i in range(n_ops):
            x = x * 1.0001 if i % 2 == 0 else x + 0.001
        x.backward()
        return x0.grad

    return step


def w7_scalar_chain(quick: bool = False) -> Workload:
    """10,000 scalar ops then backward: per-op overhead, and proof the graph walk is not recursive."""
    n_ops = 10_000  # kept in quick mode too: the depth is the point

    def check(ours: Callable[[], Any]) -> str:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(min(limit, 1000))
        try:
            ours()
        except RecursionError as err:
            raise RuntimeError(f"RecursionError on a {n_ops}-op chain: {err}") from None
        finally:
            sys.setrecursionlimit(limit)
        return f"no RecursionError at depth {n_ops} (recursion limit {min(limit, 1000)})"

    make = per_library(lambda impl: _chain(lib(impl).tensor(0.5, requires_grad=True), n_ops))
    make["numpy"] = lambda: numpy_ref.scalar_chain(n_ops)
    return Workload(
        "W7", f"chain of {n_ops:,} scalar ops + backward", target=Target("<=", 0.5), check=check, make=make
    )


# ---- GEMM --------------------------------------------------------------------------------------
def _gemm(impl: str, a: np.ndarray, b: np.ndarray) -> Callable[[], Any]:
    L = lib(impl)
    ta, tb = L.from_numpy(a), L.from_numpy(b)

    def run() -> Any:
        with L.no_grad():
            return ta @ tb

    return run


def gemm(quick: bool = False) -> Workload:
    """float32 n^3 `@` on Tensors under no_grad against NumPy's own `@` (throughput ratio)."""
    n = 128 if quick else 2048
    a, b = randn(n, n), np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    make = per_library(lambda impl: _gemm(impl, a, b))
    make["numpy"] = lambda: lambda: a @ b
    return Workload(
        "GEMM",
        f"GEMM {n}^3 float32 `@`, no_grad (throughput vs NumPy)",
        target=Target(">=", 0.95),
        baseline="numpy",
        higher_is_better=True,
        flops=2.0 * n**3,
        make=make,
    )


REGISTRY: dict[str, Callable[[bool], Workload]] = {
    "W1": w1_tiny_mlp,
    "W2": w2_mlp,
    "W3f": w3_conv_forward,
    "W3b": w3_conv_backward,
    "W4": w4_cnn,
    "W5": w5_lstm,
    "W6": w6_attention,
    "W7": w7_scalar_chain,
    "GEMM": gemm,
    "OVH": overhead.workload,
    "CNNt": training.digits_cnn,
    "LSTMt": training.char_lstm,
}
