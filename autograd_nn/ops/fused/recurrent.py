"""Fused pointwise parts of the LSTM and GRU cells (kernels in `kernels/recurrent.py`).

The gate pre-activations come from matmuls the caller does (BLAS); these ops fuse what follows.
The engine is single-output, so `LSTMCellFused` returns h and c side by side as (B, 2H) and
`lstm_cell` slices them. The backward works on arrays only; `composite` recomputes the forward
with Tensor ops, so `create_graph=True` still works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ShapeError
from ...function import Function
from ...kernels import recurrent as krec
from ..join import Cat
from .common import check_float

# From this many gate entries on, NumPy's vectorised tanh beats the kernels' scalar exp/tanh loops.
NUMPY_MIN = 4096


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * x) + 0.5  # stable for any x, and one vectorised pass


def _lstm_forward_np(gates: np.ndarray, c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[h | c] and the activations (i, f, g, o side by side), in vectorised NumPy."""
    hid = c_prev.shape[1]
    acts = _sigmoid(gates)  # (B, 4H): i, f, o are sigmoids...
    acts[:, 2 * hid : 3 * hid] = np.tanh(gates[:, 2 * hid : 3 * hid])  # ...and g a tanh
    i, f, g, o = (acts[:, k * hid : (k + 1) * hid] for k in range(4))
    out = np.empty((c_prev.shape[0], 2 * hid), dtype=gates.dtype)
    c = out[:, hid:]
    np.multiply(f, c_prev, out=c)
    c += i * g
    np.multiply(o, np.tanh(c), out=out[:, :hid])
    return out, acts


def _lstm_backward_np(
    grad: np.ndarray, acts: np.ndarray, c_prev: np.ndarray, out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    hid = c_prev.shape[1]
    i, f, g, o = (acts[:, k * hid : (k + 1) * hid] for k in range(4))
    dh, dc = grad[:, :hid], grad[:, hid:]
    tc = np.tanh(out[:, hid:])
    dc = dc + dh * o * (1.0 - tc * tc)  # (B, H): through h = o * tanh(c) and directly
    dgates = np.empty_like(acts)
    dgates[:, :hid] = dc * g * i * (1.0 - i)
    dgates[:, hid : 2 * hid] = dc * c_prev * f * (1.0 - f)
    dgates[:, 2 * hid : 3 * hid] = dc * i * (1.0 - g * g)
    dgates[:, 3 * hid :] = dh * tc * o * (1.0 - o)
    return dgates, dc * f


def _gru_forward_np(gi: np.ndarray, gh: np.ndarray, h_prev: np.ndarray) -> tuple:
    hid = h_prev.shape[1]
    rz = _sigmoid(gi[:, : 2 * hid] + gh[:, : 2 * hid])  # (B, 2H): r and z
    r, z = rz[:, :hid], rz[:, hid:]
    n = np.tanh(gi[:, 2 * hid :] + r * gh[:, 2 * hid :])  # (B, H)
    h = n + z * (h_prev - n)  # (1 - z) n + z h_prev
    return h, (rz, n)


def _gru_backward_np(grad: np.ndarray, acts: tuple, gh: np.ndarray, h_prev: np.ndarray) -> tuple:
    hid = h_prev.shape[1]
    rz, n = acts
    r, z = rz[:, :hid], rz[:, hid:]
    dn = grad * (1.0 - z) * (1.0 - n * n)  # through the tanh
    dgi = np.empty_like(gh)
    dgi[:, :hid] = dn * gh[:, 2 * hid :] * r * (1.0 - r)
    dgi[:, hid : 2 * hid] = grad * (h_prev - n) * z * (1.0 - z)
    dgi[:, 2 * hid :] = dn
    dgh = dgi.copy()
    dgh[:, 2 * hid :] = dn * r
    return dgi, dgh, grad * z


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
        self.vectorised = gates.size >= NUMPY_MIN
        run = _lstm_forward_np if self.vectorised else krec.lstm_cell_forward
        out, acts = run(np.ascontiguousarray(gates), c_prev)
        self.acts, self.c_prev, self.out = acts, c_prev, out
        return out

    def backward(self, g: np.ndarray) -> tuple:
        run = _lstm_backward_np if self.vectorised else krec.lstm_cell_backward
        dgates, dc_prev = run(np.ascontiguousarray(g), self.acts, self.c_prev, self.out)
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
        self.vectorised = gi.size >= NUMPY_MIN
        run = _gru_forward_np if self.vectorised else krec.gru_cell_forward
        h, acts = run(np.ascontiguousarray(gi), gh, h_prev)
        self.acts, self.gh, self.h_prev = acts, gh, h_prev
        return h

    def backward(self, g: np.ndarray) -> tuple:
        run = _gru_backward_np if self.vectorised else krec.gru_cell_backward
        dgi, dgh, dh_prev = run(np.ascontiguousarray(g), self.acts, self.gh, self.h_prev)
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
