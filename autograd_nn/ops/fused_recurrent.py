"""Fused pointwise parts of the LSTM and GRU cells (kernels in `kernels/recurrent.py`).

The gate pre-activations come from matmuls the caller does (BLAS); these ops fuse what follows.
The engine is single-output, so `LSTMCellFused` returns h and c side by side as (B, 2H) and
`lstm_cell` slices them. The backward works on arrays only; `composite` recomputes the forward
with Tensor ops, so `create_graph=True` still works.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from ..kernels import recurrent as krec
from .fused_common import check_float
from .join import Cat


def _check_gates(op: str, gates: np.ndarray, state: np.ndarray, k: int, names: str) -> None:
    """gates (B, k*H) and state (B, H), same float dtype."""
    check_float(op, gates, state)
    if gates.ndim != 2 or state.ndim != 2 or gates.shape != (state.shape[0], k * state.shape[1]):
        raise ShapeError(f"{op}: expected {names}, got {gates.shape} and {state.shape}")


class LSTMCellFused(Function):
    """(gates (B, 4H) in order i, f, g, o; c_prev (B, H)) -> [h | c] (B, 2H)."""

    differentiable_backward = False

    def forward(self, gates: np.ndarray, c_prev: np.ndarray) -> np.ndarray:
        _check_gates("LSTMCellFused", gates, c_prev, 4, "gates (B, 4H) and c_prev (B, H)")
        c_prev = np.ascontiguousarray(c_prev)
        out, acts = krec.lstm_cell_forward(np.ascontiguousarray(gates), c_prev)
        self.acts, self.c_prev, self.out = acts, c_prev, out
        return out

    def backward(self, g: np.ndarray) -> tuple:
        dgates, dc_prev = krec.lstm_cell_backward(np.ascontiguousarray(g), self.acts, self.c_prev,
                                                  self.out)
        return dgates, dc_prev if self.needs_input_grad[1] else None

    def composite(self, gates: Any, c_prev: Any) -> Any:
        i, f, g, o = gates.chunk(4, dim=1)
        c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return Cat.apply(h, c, axis=1)


class GRUCellFused(Function):
    """(gi, gh (B, 3H) in order r, z, n; h_prev (B, H)) -> h (B, H), PyTorch's GRUCell formulation."""

    differentiable_backward = False

    def forward(self, gi: np.ndarray, gh: np.ndarray, h_prev: np.ndarray) -> np.ndarray:
        op = "GRUCellFused"
        _check_gates(op, gi, h_prev, 3, "gi (B, 3H) and h_prev (B, H)")
        check_float(op, gi, gh)
        if gh.shape != gi.shape:
            raise ShapeError(f"{op}: gi {gi.shape} and gh {gh.shape} must have the same shape")
        gh, h_prev = np.ascontiguousarray(gh), np.ascontiguousarray(h_prev)
        h, acts = krec.gru_cell_forward(np.ascontiguousarray(gi), gh, h_prev)
        self.acts, self.gh, self.h_prev = acts, gh, h_prev
        return h

    def backward(self, g: np.ndarray) -> tuple:
        dgi, dgh, dh_prev = krec.gru_cell_backward(np.ascontiguousarray(g), self.acts, self.gh,
                                                   self.h_prev)
        need = self.needs_input_grad
        return (dgi if need[0] else None, dgh if need[1] else None, dh_prev if need[2] else None)

    def composite(self, gi: Any, gh: Any, h_prev: Any) -> Any:
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)
        r = (i_r + h_r).sigmoid()
        z = (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        return (1.0 - z) * n + z * h_prev


def lstm_cell(gates: Any, c_prev: Any) -> tuple[Any, Any]:
    """Fused LSTM pointwise step: (h, c) from gates (B, 4H) = x @ W_ih^T + h @ W_hh^T + b, c_prev."""
    out = LSTMCellFused.apply(gates, c_prev)
    hid = out.shape[1] // 2
    return out[:, :hid], out[:, hid:]


def gru_cell(gi: Any, gh: Any, h_prev: Any) -> Any:
    """Fused GRU pointwise step: h from gi = x @ W_ih^T + b_ih, gh = h_prev @ W_hh^T + b_hh, h_prev."""
    return GRUCellFused.apply(gi, gh, h_prev)
