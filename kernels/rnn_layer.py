"""One time step of a whole recurrent layer, forward and backward, into preallocated buffers.

`ops/fused/rnn_layer.py` runs a layer over its sequence inside one op: each step is one BLAS product
(h_prev @ W_hh^T, or dz @ W_hh going back) and one call of a kernel below, which does all the
pointwise maths of the step in a single pass and writes into slices of buffers allocated once per
sequence. Nothing is allocated per step.

The forward kernels save what the backward needs, so the backward kernels call no transcendental
function: LSTM acts = (i, f, g, o, tanh(c)) (B, 5H); GRU acts = (r, z, n, h W_hn + b_hn) (B, 4H);
RNN needs only its outputs.

`tanh_fast` is exact (libm) for float64 and a rational approximation for float32 (max error about
6 ulp on this machine's test, 3.4e-7 absolute): with `error_model="numpy"` (no ZeroDivisionError
branch) LLVM vectorises the whole step, about 0.3 ns an element, where a scalar libm call costs
5-30. A sigmoid is 0.5 * tanh(0.5 x) + 0.5. The constants are float32 so that float32 arithmetic
stays float32 (float32 x float32 is float32; float64 x float32 is float64).

Arrays are C-contiguous, of one float dtype; the caller checks shapes. `nogil=True`: the caller may
run independent batch blocks on several threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

_C = np.float32(7.90531110763549805)  # tanh is +-1 to float32 precision beyond this
_ZERO, _HALF, _ONE = np.float32(0.0), np.float32(0.5), np.float32(1.0)


def _tanh_rational32(x):  # pragma: no cover - inlined into the kernels
    """tanh(x) in float32 as a 13/6 rational function of x on [-C, C] (the coefficients of Eigen's
    float tanh)."""
    x = _C if x > _C else x
    x = -_C if x < -_C else x
    x2 = x * x
    p = np.float32(-2.76076847742355e-16)
    p = p * x2 + np.float32(2.00018790482477e-13)
    p = p * x2 + np.float32(-8.60467152213735e-11)
    p = p * x2 + np.float32(5.12229709037114e-08)
    p = p * x2 + np.float32(1.48572235717979e-05)
    p = p * x2 + np.float32(6.37261928875436e-04)
    p = p * x2 + np.float32(4.89352455891786e-03)
    q = np.float32(1.19825839466702e-06)
    q = q * x2 + np.float32(1.18534705686654e-04)
    q = q * x2 + np.float32(2.26843463243900e-03)
    q = q * x2 + np.float32(4.89352518554385e-03)
    return x * p / q


_tanh_rational32_jit = njit(cache=True, error_model="numpy")(_tanh_rational32)


def tanh_fast(x):
    """tanh: exact for float64; the vectorisable rational approximation for float32 under Numba."""
    return math.tanh(x)


@overload(tanh_fast)
def _tanh_fast_jit(x):  # pragma: no cover - compile-time dispatch on the dtype
    if x == types.float32:
        return lambda x: _tanh_rational32_jit(x)
    return lambda x: math.tanh(x)


@njit(cache=True, error_model="numpy")
def _sigmoid(x):  # pragma: no cover - inlined
    return _HALF * tanh_fast(_HALF * x) + _HALF


# ---- LSTM ----------------------------------------------------------------------------------------
# Each loop below touches few arrays: with many, LLVM's run-time overlap checks between them exceed
# its limit and the loop stays scalar (one loop doing the whole step measured 85 us for B=32, H=128;
# these three passes 9 us).
def lstm_gate_scales(hid: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) (4H,) such that act = scale * tanh(scale * z) + shift gives the sigmoid
    (0.5, 0.5) of gates i, f, o and the tanh (1, 0) of gate g, all in one pass."""
    scale = np.full(4 * hid, 0.5, dtype)
    shift = np.full(4 * hid, 0.5, dtype)
    scale[2 * hid : 3 * hid], shift[2 * hid : 3 * hid] = 1.0, 0.0
    return scale, shift


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_forward_step(z, gi, scale, shift, c_prev, acts, c, h):  # pragma: no cover - jitted
    """z = h_prev @ W_hh^T (B, 4H), gi = the step's input projection plus both biases (B, 4H),
    (scale, shift) from `lstm_gate_scales`, c_prev (B, H) -> acts (B, 5H) = i, f, g, o, tanh(c);
    c = f c_prev + i g (B, H); h = o tanh(c) (B, H)."""
    b, hid = c.shape
    h4 = 4 * hid
    for r in range(b):
        for j in range(h4):
            acts[r, j] = scale[j] * tanh_fast(scale[j] * (z[r, j] + gi[r, j])) + shift[j]
        for j in range(hid):
            c[r, j] = acts[r, hid + j] * c_prev[r, j] + acts[r, j] * acts[r, 2 * hid + j]
        for j in range(hid):
            tc = tanh_fast(c[r, j])
            acts[r, h4 + j] = tc
            h[r, j] = acts[r, 3 * hid + j] * tc


@njit(cache=True, error_model="numpy", nogil=True)
def lstm_backward_step(dh_a, dh_b, dc_out, acts, c_prev, dz, dc):  # pragma: no cover - jitted
    """Gradient of the step's h (dh_a + dh_b, (B, H)) and c (dc_out + dc, where dc holds the one
    coming back from the next step) -> dz (B, 4H), the gradient of the gate pre-activations, and
    dc <- the gradient of c_prev (in place)."""
    b, hid = dc.shape
    for r in range(b):
        for j in range(hid):
            dhv = dh_a[r, j] + dh_b[r, j]
            o = acts[r, 3 * hid + j]
            tc = acts[r, 4 * hid + j]
            dz[r, 3 * hid + j] = dhv * tc * o * (_ONE - o)
            dc[r, j] = dc[r, j] + dc_out[r, j] + dhv * o * (_ONE - tc * tc)
        for j in range(hid):
            i = acts[r, j]
            f = acts[r, hid + j]
            g = acts[r, 2 * hid + j]
            dcv = dc[r, j]
            dz[r, j] = dcv * g * i * (_ONE - i)
            dz[r, hid + j] = dcv * c_prev[r, j] * f * (_ONE - f)
            dz[r, 2 * hid + j] = dcv * i * (_ONE - g * g)
            dc[r, j] = dcv * f


# ---- GRU -----------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def gru_forward_step(z, gi, b_hh, h_prev, acts, h):  # pragma: no cover - jitted
    """z = h_prev @ W_hh^T (B, 3H), gi = x W_ih^T + b_ih (B, 3H), b_hh (3H,) -> acts (B, 4H) =
    r, z, n, h W_hn + b_hn; h = n + z (h_prev - n) (B, H). PyTorch's GRU: r gates h W_hn + b_hn."""
    b, hid = h.shape
    h2 = 2 * hid
    for r in range(b):
        for j in range(h2):
            acts[r, j] = _sigmoid(gi[r, j] + z[r, j] + b_hh[j])
        for j in range(hid):
            hn = z[r, h2 + j] + b_hh[h2 + j]
            acts[r, 3 * hid + j] = hn
            acts[r, h2 + j] = tanh_fast(gi[r, h2 + j] + acts[r, j] * hn)
        for j in range(hid):
            n = acts[r, h2 + j]
            h[r, j] = n + acts[r, hid + j] * (h_prev[r, j] - n)


@njit(cache=True, error_model="numpy", nogil=True)
def gru_backward_step(dh_a, dh_b, dh_direct, acts, h_prev, dgi, dgh):  # pragma: no cover - jitted
    """Gradient of the step's h (dh_a + dh_b + dh_direct) -> dgi, dgh (B, 3H): the gradients of
    gi and of gh = h_prev W_hh^T + b_hh; dh_direct <- dh * z, h_prev's gradient that does not go
    through W_hh (in place)."""
    b, hid = dh_direct.shape
    h2 = 2 * hid
    for r in range(b):
        for j in range(hid):
            d = dh_a[r, j] + dh_b[r, j] + dh_direct[r, j]
            zz = acts[r, hid + j]
            n = acts[r, h2 + j]
            dn = d * (_ONE - zz) * (_ONE - n * n)
            dgi[r, h2 + j] = dn
            dgi[r, hid + j] = d * (h_prev[r, j] - n) * zz * (_ONE - zz)
            dh_direct[r, j] = d * zz
        for j in range(hid):
            rr = acts[r, j]
            dn = dgi[r, h2 + j]
            dr = dn * acts[r, 3 * hid + j] * rr * (_ONE - rr)
            dgi[r, j] = dr
            dgh[r, j] = dr
            dgh[r, hid + j] = dgi[r, hid + j]
            dgh[r, h2 + j] = dn * rr


# ---- Elman RNN -----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", nogil=True)
def rnn_forward_step(z, gi, relu, h):  # pragma: no cover - jitted
    """h = act(z + gi) with z = h_prev @ W_hh^T and gi = x W_ih^T + b_ih + b_hh, act tanh or relu."""
    b, hid = h.shape
    for r in range(b):
        if relu:
            for j in range(hid):
                v = z[r, j] + gi[r, j]
                h[r, j] = _ZERO if v < 0 else v
        else:
            for j in range(hid):
                h[r, j] = tanh_fast(z[r, j] + gi[r, j])


@njit(cache=True, error_model="numpy", nogil=True)
def rnn_backward_step(dh_a, dh_b, h, relu, dz):  # pragma: no cover - jitted
    """dz = (dh_a + dh_b) * act'(pre-activation), from the step's output h."""
    b, hid = h.shape
    for r in range(b):
        if relu:
            for j in range(hid):
                d = dh_a[r, j] + dh_b[r, j]
                dz[r, j] = d if h[r, j] > 0 else _ZERO
        else:
            for j in range(hid):
                hv = h[r, j]
                dz[r, j] = (dh_a[r, j] + dh_b[r, j]) * (_ONE - hv * hv)
