"""Pointwise parts of the LSTM and GRU cells, forward and backward (PyTorch's gate layouts).

The matrix products (x @ W_ih^T, h @ W_hh^T) stay with BLAS; these kernels fuse the dozen pointwise
operations that follow them into one pass over (B, H), saving the activated gates for the backward.
All arrays are C-contiguous float32 or float64 of one dtype; shapes are checked by the caller.

LSTM: gates (B, 4H) in the order i, f, g, o; c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g),
h = sigmoid(o) * tanh(c). The output is h and c side by side, (B, 2H).
GRU: gi = x @ W_ih^T + b_ih and gh = h_prev @ W_hh^T + b_hh, both (B, 3H) in the order r, z, n;
r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
h = (1 - z) * n + z * h_prev.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _sigmoid(v):
    """1 / (1 + exp(-v)) without overflow for large |v| (float64)."""
    if v >= 0.0:
        return 1.0 / (1.0 + np.exp(-v))
    e = np.exp(v)
    return e / (1.0 + e)


@njit(cache=True)
def lstm_cell_forward(gates, c_prev):
    """Returns (out (B, 2H) = [h | c], acts (B, 4H) = the activated gates i, f, g, o)."""
    b, h4 = gates.shape
    hid = h4 // 4
    out = np.empty((b, 2 * hid), gates.dtype)
    acts = np.empty_like(gates)
    for r in range(b):
        for j in range(hid):
            i = _sigmoid(np.float64(gates[r, j]))
            f = _sigmoid(np.float64(gates[r, hid + j]))
            g = np.tanh(np.float64(gates[r, 2 * hid + j]))
            o = _sigmoid(np.float64(gates[r, 3 * hid + j]))
            c = f * c_prev[r, j] + i * g
            acts[r, j] = i
            acts[r, hid + j] = f
            acts[r, 2 * hid + j] = g
            acts[r, 3 * hid + j] = o
            out[r, j] = o * np.tanh(c)
            out[r, hid + j] = c
    return out, acts


@njit(cache=True)
def lstm_cell_backward(dout, acts, c_prev, out):
    """From dout = [dh | dc] (B, 2H) to (dgates (B, 4H), dc_prev (B, H))."""
    b, h4 = acts.shape
    hid = h4 // 4
    dgates = np.empty_like(acts)
    dc_prev = np.empty_like(c_prev)
    for r in range(b):
        for j in range(hid):
            i = np.float64(acts[r, j])
            f = np.float64(acts[r, hid + j])
            g = np.float64(acts[r, 2 * hid + j])
            o = np.float64(acts[r, 3 * hid + j])
            tc = np.tanh(np.float64(out[r, hid + j]))
            dh = np.float64(dout[r, j])
            dc = dout[r, hid + j] + dh * o * (1.0 - tc * tc)
            dgates[r, j] = dc * g * i * (1.0 - i)
            dgates[r, hid + j] = dc * c_prev[r, j] * f * (1.0 - f)
            dgates[r, 2 * hid + j] = dc * i * (1.0 - g * g)
            dgates[r, 3 * hid + j] = dh * tc * o * (1.0 - o)
            dc_prev[r, j] = dc * f
    return dgates, dc_prev


@njit(cache=True)
def gru_cell_forward(gi, gh, h_prev):
    """Returns (h (B, H), acts (B, 3H) = r, z, n)."""
    b, h3 = gi.shape
    hid = h3 // 3
    h = np.empty_like(h_prev)
    acts = np.empty_like(gi)
    for row in range(b):
        for j in range(hid):
            r = _sigmoid(np.float64(gi[row, j]) + gh[row, j])
            z = _sigmoid(np.float64(gi[row, hid + j]) + gh[row, hid + j])
            n = np.tanh(np.float64(gi[row, 2 * hid + j]) + r * gh[row, 2 * hid + j])
            acts[row, j] = r
            acts[row, hid + j] = z
            acts[row, 2 * hid + j] = n
            h[row, j] = (1.0 - z) * n + z * h_prev[row, j]
    return h, acts


@njit(cache=True)
def gru_cell_backward(dh, acts, gh, h_prev):
    """From dh (B, H) to (dgi (B, 3H), dgh (B, 3H), dh_prev (B, H))."""
    b, h3 = acts.shape
    hid = h3 // 3
    dgi = np.empty_like(acts)
    dgh = np.empty_like(acts)
    dh_prev = np.empty_like(h_prev)
    for row in range(b):
        for j in range(hid):
            r = np.float64(acts[row, j])
            z = np.float64(acts[row, hid + j])
            n = np.float64(acts[row, 2 * hid + j])
            d = np.float64(dh[row, j])
            dn = d * (1.0 - z) * (1.0 - n * n)
            dz = d * (h_prev[row, j] - n) * z * (1.0 - z)
            dr = dn * gh[row, 2 * hid + j] * r * (1.0 - r)
            dgi[row, j] = dr
            dgi[row, hid + j] = dz
            dgi[row, 2 * hid + j] = dn
            dgh[row, j] = dr
            dgh[row, hid + j] = dz
            dgh[row, 2 * hid + j] = dn * r
            dh_prev[row, j] = d * z
    return dgi, dgh, dh_prev
