"""A whole recurrent layer, one direction, as one op: `LSTMLayer`, `GRULayer`, `RNNLayer`.

What cuDNN does and PyTorch's CPU path does not. The input projection of every step is one GEMM the
module does before (x @ W_ih^T for all steps at once, an ordinary op). The op then loops over time on
buffers allocated once per sequence: per step one BLAS product with W_hh and one kernel
(`kernels/rnn_layer.py`) for all the pointwise maths. Backward is back-propagation through time inside
the same op: per step the pointwise kernel and one product with W_hh going back; the weight gradient
is one GEMM over all steps (the per-step gate gradients and the states they multiply, stacked), not
one per step.

The batch rows of a sequence are independent, so with more than one thread the op splits the batch
into blocks and runs each block's whole time loop on a pool thread (`threads.py`); the weight GEMMs
are split over the pool by rows (`ops/gemm.py`).

The engine is single-output, so each op returns one flat array: the outputs h_1..h_T (T, B, P) in
time order, followed (LSTM) by the cell states c_1..c_T (T, B, H); `nn/recurrent.py` takes views.
The backward works on arrays only; `composite` is the same layer in Tensor ops, step by step, so
`create_graph=True` (gradients of gradients) still works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import ShapeError
from ...function import Function
from ...kernels import rnn_layer as k
from ...threads import blocks, get_num_threads, parallel_for
from ..gemm import matmul
from ..join import Cat, Stack
from .common import check_float

MIN_ROWS = 8  # rows of a batch block: fewer make each step's GEMM too thin to pay
MIN_MACS = 1 << 22  # multiply-adds of a block's whole forward before a second thread pays


def _spans(t: int, b: int, gates: int, p: int) -> list[tuple[int, int]]:
    """Batch blocks for the thread pool (one block on one thread, or when the layer is small)."""
    parts = min(get_num_threads(), b // MIN_ROWS, (t * b * gates * p) // MIN_MACS)
    return blocks(b, max(1, parts))


def _order(t: int, reverse: bool) -> list[int]:
    return list(range(t - 1, -1, -1)) if reverse else list(range(t))


def _weight_grad(dz: np.ndarray, hs: np.ndarray, h0: np.ndarray, reverse: bool) -> np.ndarray:
    """sum over steps of dz_t^T h_prev(t): one GEMM over all steps, plus the first step's h0 term."""
    t, _b, g = dz.shape
    p = hs.shape[2]
    now, before = (slice(0, t - 1), slice(1, t)) if reverse else (slice(1, t), slice(0, t - 1))
    first = t - 1 if reverse else 0
    gw = matmul(dz[now].reshape(-1, g).T, hs[before].reshape(-1, p))  # (G, P)
    gw += dz[first].T @ h0
    return gw


def _check(
    op: str,
    gi: np.ndarray,
    gates: int,
    states: list[tuple[str, np.ndarray, int]],
    w_hh: np.ndarray,
    extra: list[np.ndarray],
) -> tuple[int, int, int]:
    """(T, B, H) after checking dtypes and shapes; `states` are (name, array, width)."""
    check_float(op, gi, w_hh, *[s for _, s, _ in states], *extra)
    if gi.ndim != 3 or gi.shape[2] % gates:
        raise ShapeError(f"{op}: gi must be (T, B, {gates}*H), got {gi.shape}")
    t, b, gh = gi.shape
    hid = gh // gates
    for name, s, width in states:
        if s.shape != (b, width):
            raise ShapeError(f"{op}: {name} must be ({b}, {width}) for gi {gi.shape}, got {s.shape}")
    if w_hh.shape != (gh, states[0][2]):
        raise ShapeError(f"{op}: w_hh must be ({gh}, {states[0][2]}), got {w_hh.shape}")
    return t, b, hid


def _steps(gi: Any, reverse: bool) -> tuple[list, list[int]]:
    steps = list(gi.unbind(0))
    return steps, _order(len(steps), reverse)


def _flat(seq: list) -> Any:
    return Stack.apply(*seq, axis=0).reshape(-1)


class LSTMLayer(Function):
    """gi (T, B, 4H) = x W_ih^T + b_ih + b_hh, h0 (B, P), c0 (B, H), w_hh (4H, P)[, w_hr (P, H)]
    -> [h_1..h_T (T, B, P) | c_1..c_T (T, B, H)] flattened. P = proj_size or H."""

    differentiable_backward = False

    def forward(self, gi, h0, c0, w_hh, *w_hr, reverse=False):
        w_r = w_hr[0] if w_hr else None
        p = w_hh.shape[1]
        t, b, hid = _check(
            "LSTMLayer", gi, 4, [("h0", h0, p), ("c0", c0, w_hh.shape[0] // 4)], w_hh, list(w_hr)
        )
        if w_r is not None and w_r.shape != (p, hid):
            raise ShapeError(f"LSTMLayer: w_hr must be ({p}, {hid}), got {w_r.shape}")
        self.save(h0, c0, w_hh, *w_hr)
        gi, h0c, c0c = (np.ascontiguousarray(a) for a in (gi, h0, c0))
        y = np.empty(t * b * (p + hid), gi.dtype)
        hs, cs = y[: t * b * p].reshape(t, b, p), y[t * b * p :].reshape(t, b, hid)
        acts = np.empty((t, b, 5 * hid), gi.dtype)
        hp = np.empty((t, b, hid), gi.dtype) if w_r is not None else None
        order, spans = _order(t, reverse), _spans(t, b, 4 * hid, p)
        w_t = np.ascontiguousarray(w_hh.T)  # a transposed view costs 1.5x per step's GEMM
        scale, shift = k.lstm_gate_scales(hid, gi.dtype)
        wr_t = np.ascontiguousarray(w_r.T) if w_r is not None else None

        def run(block: int) -> None:
            r0, r1 = spans[block]
            z = np.empty((r1 - r0, 4 * hid), gi.dtype)
            h_prev, c_prev = h0c[r0:r1], c0c[r0:r1]
            for s in order:
                np.matmul(h_prev, w_t, out=z)
                h = hs[s, r0:r1] if hp is None else hp[s, r0:r1]
                k.lstm_forward_step(z, gi[s, r0:r1], scale, shift, c_prev, acts[s, r0:r1], cs[s, r0:r1], h)
                if wr_t is not None:  # projected: hp holds the unprojected h
                    np.matmul(h, wr_t, out=hs[s, r0:r1])
                h_prev, c_prev = hs[s, r0:r1], cs[s, r0:r1]

        parallel_for(len(spans), run)
        self.state = (acts, hs, cs, hp, h0c, c0c, order, spans, reverse)
        return y

    def backward(self, g):
        acts, hs, cs, hp, h0, c0, order, spans, reverse = self.state
        w_hh = self.saved[2]
        w_r = self.saved[3] if len(self.saved) > 3 else None
        t, b, p = hs.shape
        hid = cs.shape[2]
        g = np.ascontiguousarray(g)
        dhs, dcs = g[: t * b * p].reshape(t, b, p), g[t * b * p :].reshape(t, b, hid)
        dz = np.empty((t, b, 4 * hid), g.dtype)
        dh0, dc0 = np.empty((b, p), g.dtype), np.empty((b, hid), g.dtype)
        dh_all = np.empty((t, b, p), g.dtype) if w_r is not None else None

        def run(block: int) -> None:
            r0, r1 = spans[block]
            dh_rec = np.zeros((r1 - r0, p), g.dtype)
            dc = np.zeros((r1 - r0, hid), g.dtype)
            if w_r is not None:
                dhp, zero = np.empty((r1 - r0, hid), g.dtype), np.zeros((r1 - r0, hid), g.dtype)
            for i in range(t - 1, -1, -1):
                s = order[i]
                c_prev = cs[order[i - 1], r0:r1] if i else c0[r0:r1]
                if w_r is None:
                    k.lstm_backward_step(
                        dhs[s, r0:r1], dh_rec, dcs[s, r0:r1], acts[s, r0:r1], c_prev, dz[s, r0:r1], dc
                    )
                else:  # through the projection h = hp W_hr^T first
                    assert dh_all is not None
                    np.add(dhs[s, r0:r1], dh_rec, out=dh_all[s, r0:r1])
                    np.matmul(dh_all[s, r0:r1], w_r, out=dhp)
                    k.lstm_backward_step(dhp, zero, dcs[s, r0:r1], acts[s, r0:r1], c_prev, dz[s, r0:r1], dc)
                np.matmul(dz[s, r0:r1], w_hh, out=dh_rec)
            dh0[r0:r1], dc0[r0:r1] = dh_rec, dc

        parallel_for(len(spans), run)
        need = self.needs_input_grad
        grads = [
            dz,
            dh0 if need[1] else None,
            dc0 if need[2] else None,
            _weight_grad(dz, hs, h0, reverse) if need[3] else None,
        ]
        if w_r is not None:
            assert dh_all is not None and hp is not None
            grads.append(matmul(dh_all.reshape(-1, p).T, hp.reshape(-1, hid)) if need[4] else None)
        return tuple(grads)

    def composite(self, gi, h0, c0, w_hh, *w_hr):
        steps, order = _steps(gi, self.state[-1])
        h, c = h0, c0
        hs, cs = [None] * len(steps), [None] * len(steps)
        for s in order:
            i, f, g, o = (steps[s] + h @ w_hh.T).chunk(4, dim=1)  # (B, H) each
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            if w_hr:
                h = h @ w_hr[0].T  # (B, P)
            hs[s], cs[s] = h, c
        return Cat.apply(_flat(hs), _flat(cs), axis=0)


class GRULayer(Function):
    """gi (T, B, 3H) = x W_ih^T + b_ih, h0 (B, H), w_hh (3H, H)[, b_hh (3H,)] -> h_1..h_T (T, B, H)."""

    differentiable_backward = False

    def forward(self, gi, h0, w_hh, *b_hh, reverse=False):
        t, b, hid = _check("GRULayer", gi, 3, [("h0", h0, w_hh.shape[1])], w_hh, list(b_hh))
        if b_hh and b_hh[0].shape != (3 * hid,):
            raise ShapeError(f"GRULayer: b_hh must be ({3 * hid},), got {b_hh[0].shape}")
        self.save(h0, w_hh, *b_hh)
        gi, h0c = np.ascontiguousarray(gi), np.ascontiguousarray(h0)
        bias = np.ascontiguousarray(b_hh[0]) if b_hh else np.zeros(3 * hid, gi.dtype)
        hs = np.empty((t, b, hid), gi.dtype)
        acts = np.empty((t, b, 4 * hid), gi.dtype)
        order, spans = _order(t, reverse), _spans(t, b, 3 * hid, hid)
        w_t = np.ascontiguousarray(w_hh.T)  # a transposed view costs 1.5x per step's GEMM

        def run(block: int) -> None:
            r0, r1 = spans[block]
            z = np.empty((r1 - r0, 3 * hid), gi.dtype)
            h_prev = h0c[r0:r1]
            for s in order:
                np.matmul(h_prev, w_t, out=z)
                k.gru_forward_step(z, gi[s, r0:r1], bias, h_prev, acts[s, r0:r1], hs[s, r0:r1])
                h_prev = hs[s, r0:r1]

        parallel_for(len(spans), run)
        self.state = (acts, hs, h0c, order, spans, reverse)
        return hs

    def backward(self, g):
        acts, hs, h0, order, spans, reverse = self.state
        w_hh = self.saved[1]
        t, b, hid = hs.shape
        g = np.ascontiguousarray(g)
        dgi, dgh = np.empty((t, b, 3 * hid), g.dtype), np.empty((t, b, 3 * hid), g.dtype)
        dh0 = np.empty((b, hid), g.dtype)

        def run(block: int) -> None:
            r0, r1 = spans[block]
            dh_rec = np.zeros((r1 - r0, hid), g.dtype)
            dh_direct = np.zeros((r1 - r0, hid), g.dtype)
            for i in range(t - 1, -1, -1):
                s = order[i]
                h_prev = hs[order[i - 1], r0:r1] if i else h0[r0:r1]
                k.gru_backward_step(
                    g[s, r0:r1], dh_rec, dh_direct, acts[s, r0:r1], h_prev, dgi[s, r0:r1], dgh[s, r0:r1]
                )
                np.matmul(dgh[s, r0:r1], w_hh, out=dh_rec)
            np.add(dh_rec, dh_direct, out=dh0[r0:r1])

        parallel_for(len(spans), run)
        need = self.needs_input_grad
        grads = [dgi, dh0 if need[1] else None, _weight_grad(dgh, hs, h0, reverse) if need[2] else None]
        if len(need) > 3:
            grads.append(dgh.reshape(-1, 3 * hid).sum(axis=0) if need[3] else None)
        return tuple(grads)

    def composite(self, gi, h0, w_hh, *b_hh):
        steps, order = _steps(gi, self.state[-1])
        h = h0
        hs = [None] * len(steps)
        for s in order:
            gh = h @ w_hh.T  # (B, 3H)
            if b_hh:
                gh = gh + b_hh[0]
            i_r, i_z, i_n = steps[s].chunk(3, dim=1)
            h_r, h_z, h_n = gh.chunk(3, dim=1)
            r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
            n = (i_n + r * h_n).tanh()
            h = (1.0 - z) * n + z * h
            hs[s] = h
        return Stack.apply(*hs, axis=0)


class RNNLayer(Function):
    """gi (T, B, H) = x W_ih^T + b_ih + b_hh, h0 (B, H), w_hh (H, H) -> h_1..h_T (T, B, H), with
    h_t = tanh(gi_t + h_{t-1} W_hh^T) (or relu)."""

    differentiable_backward = False

    def forward(self, gi, h0, w_hh, *, relu=False, reverse=False):
        t, b, hid = _check("RNNLayer", gi, 1, [("h0", h0, w_hh.shape[1])], w_hh, [])
        self.save(h0, w_hh)
        gi, h0c = np.ascontiguousarray(gi), np.ascontiguousarray(h0)
        hs = np.empty((t, b, hid), gi.dtype)
        order, spans = _order(t, reverse), _spans(t, b, hid, hid)
        w_t = np.ascontiguousarray(w_hh.T)  # a transposed view costs 1.5x per step's GEMM

        def run(block: int) -> None:
            r0, r1 = spans[block]
            z = np.empty((r1 - r0, hid), gi.dtype)
            h_prev = h0c[r0:r1]
            for s in order:
                np.matmul(h_prev, w_t, out=z)
                k.rnn_forward_step(z, gi[s, r0:r1], relu, hs[s, r0:r1])
                h_prev = hs[s, r0:r1]

        parallel_for(len(spans), run)
        self.state = (hs, h0c, order, spans, relu, reverse)
        return hs

    def backward(self, g):
        hs, h0, order, spans, relu, reverse = self.state
        w_hh = self.saved[1]
        t, b, hid = hs.shape
        g = np.ascontiguousarray(g)
        dz = np.empty((t, b, hid), g.dtype)
        dh0 = np.empty((b, hid), g.dtype)

        def run(block: int) -> None:
            r0, r1 = spans[block]
            dh_rec = np.zeros((r1 - r0, hid), g.dtype)
            for i in range(t - 1, -1, -1):
                s = order[i]
                k.rnn_backward_step(g[s, r0:r1], dh_rec, hs[s, r0:r1], relu, dz[s, r0:r1])
                np.matmul(dz[s, r0:r1], w_hh, out=dh_rec)
            dh0[r0:r1] = dh_rec

        parallel_for(len(spans), run)
        need = self.needs_input_grad
        return dz, dh0 if need[1] else None, _weight_grad(dz, hs, h0, reverse) if need[2] else None

    def composite(self, gi, h0, w_hh):
        steps, order = _steps(gi, self.state[-1])
        h = h0
        hs = [None] * len(steps)
        act: Callable[[Any], Any] = (lambda v: v.relu()) if self.state[4] else (lambda v: v.tanh())
        for s in order:
            h = act(steps[s] + h @ w_hh.T)
            hs[s] = h
        return Stack.apply(*hs, axis=0)


def lstm_layer(
    gi: Any, h0: Any, c0: Any, w_hh: Any, w_hr: Any = None, reverse: bool = False
) -> tuple[Any, Any, Any]:
    """One LSTM layer and direction: (outputs (T, B, P), h_n (B, P), c_n (B, H))."""
    t, b = gi.shape[:2]
    p, hid = w_hh.shape[1], w_hh.shape[0] // 4
    args = (gi, h0, c0, w_hh) if w_hr is None else (gi, h0, c0, w_hh, w_hr)
    y = LSTMLayer.apply(*args, reverse=reverse)
    out = y[: t * b * p].reshape(t, b, p)
    last = 0 if reverse else t - 1
    return out, out[last], y[t * b * p :].reshape(t, b, hid)[last]


def gru_layer(gi: Any, h0: Any, w_hh: Any, b_hh: Any = None, reverse: bool = False) -> tuple[Any, Any]:
    """One GRU layer and direction: (outputs (T, B, H), h_n (B, H))."""
    out = GRULayer.apply(*((gi, h0, w_hh) if b_hh is None else (gi, h0, w_hh, b_hh)), reverse=reverse)
    return out, out[0 if reverse else out.shape[0] - 1]


def rnn_layer(gi: Any, h0: Any, w_hh: Any, relu: bool = False, reverse: bool = False) -> tuple[Any, Any]:
    """One Elman RNN layer and direction: (outputs (T, B, H), h_n (B, H))."""
    out = RNNLayer.apply(gi, h0, w_hh, relu=relu, reverse=reverse)
    return out, out[0 if reverse else out.shape[0] - 1]
