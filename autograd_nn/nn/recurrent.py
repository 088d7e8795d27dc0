"""Recurrent layers: RNNCell, LSTMCell, GRUCell and the multi-layer RNN, LSTM, GRU.

Parameter names, shapes, gate order (LSTM: i, f, g, o; GRU: r, z, n), default initialisation
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) and return conventions follow PyTorch, so state dicts
load across both ways.

A multi-layer module computes the input projection of every time step in one GEMM per layer and
direction (F.linear over the whole sequence, both biases folded in where they sit outside every
nonlinearity), then runs the recurrence as one fused op per layer and direction
(`ops/fused/rnn_layer.py`): the loop over time with one GEMM and one vectorised pointwise kernel per
step, back-propagation through time inside the same op, the weight gradient as one GEMM over all
steps, and the batch split over autograd_nn's threads. Its `composite` is the per-step maths below,
so `create_graph=True` works through it. With `FUSED_LAYERS = False` the modules run that per-step
path directly (one graph node per step and operation), as the cells always do.

Cells. The LSTM/GRU cell pointwise maths runs as one fused op from `ops/fused/recurrent.py` (one
Numba pass for small states, vectorised NumPy above the crossover; a Tensor-op `composite` keeps
`create_graph=True` working); `FUSED_CELLS = False` runs the plain Tensor-op maths instead.

State goes in and out explicitly: `forward(x, hx)` returns the new state; nothing is kept on the
module between calls.
"""

from __future__ import annotations

import math
from typing import Any

from .. import functional as F
from .._tensor import Tensor, cat, empty, stack, zeros
from ..devices import as_device
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from ..ops.fused import gru_cell, lstm_cell
from ..ops.fused.rnn_layer import gru_layer, lstm_layer, rnn_layer
from . import init
from .module import Module
from .packed_sequence import PackedSequence, packed_positions, padded_from_packed
from .parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
# The pointwise part of an LSTM/GRU step runs as one fused node (Numba for small states, vectorised
# NumPy for large ones; benchmarked against the Tensor-op version below, which stays as the reference
# maths and runs when this is False).
FUSED_CELLS = True
# A multi-layer module runs each layer and direction as one fused op over the whole sequence
# (ops/fused/rnn_layer.py: the time loop, BPTT and one weight-gradient GEMM inside one node). False
# runs the per-step path below instead (the cells' code), one graph node per step and operation.
FUSED_LAYERS = True


# ---- one time step, shared by the cells and the multi-layer modules ---------------------------
def _rnn_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    """h' = act(gi + h W_hh^T + b_hh), where gi = x W_ih^T + b_ih."""
    pre = gi + F.linear(h, w_hh)  # (B, H)
    if b_hh is not None:
        pre = pre + b_hh
    return pre.relu() if relu else pre.tanh()


def _lstm_step(gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    """gates = gi + h W_hh^T + b_hh in order i, f, g, o; c' = f*c + i*g; h' = o*tanh(c')."""
    gates = gi + F.linear(h, w_hh)  # (B, 4H)
    if b_hh is not None:
        gates = gates + b_hh
    if FUSED_CELLS:
        return lstm_cell(gates, c)  # (B, H), (B, H)
    i, f, g, o = gates.chunk(4, dim=1)  # (B, H) each
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """r, z = sigmoid(gi + gh); n = tanh(gi_n + r * gh_n); h' = (1 - z) * n + z * h."""
    gh = F.linear(h, w_hh)  # (B, 3H)
    if b_hh is not None:
        gh = gh + b_hh
    if FUSED_CELLS:
        return gru_cell(gi, gh, h)  # (B, H)
    i_r, i_z, i_n = gi.chunk(3, dim=1)  # (B, H) each
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return (1.0 - z) * n + z * h


def _batched(name: str, x: Tensor, expected_ndim: int) -> bool:
    """True for a batched input of `expected_ndim` dims, False for the unbatched one below it."""
    require_tensor(name, "input", x, 1)
    if x.ndim not in (expected_ndim - 1, expected_ndim):
        raise ShapeError(
            f"{name}: expected a {expected_ndim}-D (batched) or "
            f"{expected_ndim - 1}-D (unbatched) input, got shape {x.shape}"
        )
    return x.ndim == expected_ndim


# ---- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters weight_ih (G*H, I), weight_hh (G*H, H), bias_ih and bias_hh (G*H,) for G gates,
    all initialised U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gate = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gate, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gate, hidden_size, dtype=dtype))
        self.bias_ih = Parameter(empty(gate, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(empty(gate, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _prepare(self, x: Tensor, hx: Any) -> tuple[Tensor, Any, bool]:
        """Check shapes; give unbatched inputs a batch dim of 1; default states are zeros."""
        name = f"{type(self).__name__}({self.input_size}, {self.hidden_size})"
        batched = _batched(name, x, 2)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input shape {x.shape} does not end in input_size={self.input_size}")
        x = x if batched else x.unsqueeze(0)  # (B, I)
        states = hx if isinstance(hx, tuple) else (hx,)
        out = []
        for s in states:
            if s is None:
                out.append(zeros(x.shape[0], self.hidden_size, dtype=x.dtype))  # (B, H)
                continue
            if s.shape != ((x.shape[0], self.hidden_size) if batched else (self.hidden_size,)):
                raise ShapeError(
                    f"{name}: state shape {s.shape} does not match input shape "
                    f"{x.shape} (expected (batch, {self.hidden_size}))"
                )
            out.append(s if batched else s.unsqueeze(0))  # (B, H)
        return x, out, batched

    def _gi(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)  # (B, G*H)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu with nonlinearity='relu')."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, hx)
        h = _rnn_step(self._gi(x), h, self.weight_hh, self.bias_hh, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)  # (B, H) or (H,)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(RNNCellBase):
    """Long short-term memory cell; returns (h', c'). Gates in PyTorch's order i, f, g, o."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        x, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx))
        h, c = _lstm_step(self._gi(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """Gated recurrent unit cell (Cho et al. 2014, PyTorch's form: r gates h W_hn + b_hn)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, hx)
        h = _gru_step(self._gi(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


# ---- multi-layer, optionally bidirectional -----------------------------------------------------
class RNNBase(Module):
    """Stacked recurrent layers over a whole sequence.

    Input (T, B, I), or (B, T, I) with batch_first, or unbatched (T, I). Output (T, B, D*H) with
    D = 2 if bidirectional else 1, and the final state h_n (num_layers*D, B, H) (plus c_n for the
    LSTM), layer-major with the reverse direction second, as in PyTorch. Dropout (training only)
    is applied to the outputs of every layer except the last. An LSTM with proj_size > 0 projects
    each h_t to proj_size with `weight_hr_l{k}` (Sak et al. 2014), so h and the output use proj_size.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"RNNBase: unknown mode {mode!r}")
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(
                f"{mode}: num_layers ({num_layers}) and hidden_size ({hidden_size}) must be positive"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{mode}: dropout must be in [0, 1], got {dropout}")
        if proj_size and (mode != "LSTM" or not 0 < proj_size < hidden_size):
            raise ValueError(
                f"{mode}: proj_size ({proj_size}) is only for LSTM and must be "
                f"between 0 and hidden_size ({hidden_size}), exclusive"
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gate = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size  # the size of h
        dirs = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * dirs
            for suffix in ("", "_reverse")[:dirs]:
                shapes: dict[str, tuple[int, ...]] = {
                    f"weight_ih_l{layer}{suffix}": (gate, layer_in),
                    f"weight_hh_l{layer}{suffix}": (gate, out_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate,)
                if proj_size:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer: int, reverse: bool) -> tuple:
        s = f"l{layer}{'_reverse' if reverse else ''}"
        return tuple(
            self._parameters.get(f"{kind}_{s}")
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        )

    def _name(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _initial(self, hx: Any, batch: int, batched: bool, dtype: Any) -> list:
        """The initial states as a list (h0 or h0, c0), each (num_layers*D, B, H), zeros if None.

        With proj_size, h0 is (num_layers*D, B, proj_size)."""
        count = 2 if self.mode == "LSTM" else 1
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [self.proj_size or self.hidden_size, self.hidden_size][:count]
        if hx is None:
            return [zeros(layers, batch, size, dtype=dtype) for size in sizes]
        states = tuple(hx) if count == 2 else (hx,)
        if count == 2 and len(states) != 2:
            raise ShapeError(f"{self._name()}: hx must be a tuple (h_0, c_0)")
        out = []
        for s, size in zip(states, sizes):
            want = (layers, batch, size) if batched else (layers, size)
            if tuple(s.shape) != want:
                raise ShapeError(
                    f"{self._name()}: expected initial state of shape {want}, got {tuple(s.shape)}"
                )
            out.append(s if batched else s.unsqueeze(1))
        return out

    def _direction(
        self, gi: Tensor, state: list, weights: tuple, reverse: bool, masks: list | None = None
    ) -> tuple:
        """Run one direction of one layer over precomputed input projections gi (T, B, G*H).

        `weights` are (weight_hh, bias_hh or None, weight_hr or None). With `masks` (one (B, 1) bool
        array per step: the sequence is still running), a finished sequence keeps its state, so each
        ends at its own length and the reverse direction starts at its own last step."""
        w_hh, b_hh, w_hr = weights
        if FUSED_LAYERS and masks is None:  # packed sequences (masks) take the per-step path
            if self.mode == "LSTM":
                return lstm_layer(gi, state[0], state[1], w_hh, w_hr, reverse)
            if self.mode == "GRU":
                return (*gru_layer(gi, state[0], w_hh, b_hh, reverse), None)
            return (*rnn_layer(gi, state[0], w_hh, self.mode == "RNN_RELU", reverse), None)
        steps = gi.unbind(0)  # T x (B, G*H)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        outs: list[Tensor] = []
        h = state[0]
        c = state[1] if self.mode == "LSTM" else None
        for t in order:
            h_prev, c_prev = h, c
            if self.mode == "LSTM":
                assert c is not None  # an LSTM's state is (h, c)
                h, c = _lstm_step(steps[t], h, c, w_hh, b_hh)
                if w_hr is not None:
                    h = F.linear(h, w_hr)  # (B, proj_size)
            elif self.mode == "GRU":
                h = _gru_step(steps[t], h, w_hh, b_hh)
            else:
                h = _rnn_step(steps[t], h, w_hh, b_hh, self.mode == "RNN_RELU")
            if masks is not None and not masks[t].all():
                h = h.where(masks[t], h_prev)
                c = c.where(masks[t], c_prev) if c is not None else None
            outs.append(h)
        if reverse:
            outs.reverse()
        return stack(outs, 0), h, c  # (T, B, H), (B, H), (B, H) or None

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        batched = _batched(self._name(), input, 3)
        x = input if batched else input.unsqueeze(1)  # (T, B, I) or (B, T, I)
        if batched and self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I)
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{self._name()}: input shape {input.shape} does not end in input_size={self.input_size}"
            )
        if x.shape[0] == 0:
            raise ShapeError(f"{self._name()}: the input sequence is empty (shape {input.shape})")
        state = self._initial(hx, x.shape[1], batched, x.dtype)
        x, hidden = self._layers(x, state)
        output = x.transpose(0, 1) if batched and self.batch_first else x
        if not batched:
            output, hidden = output.squeeze(1), [s.squeeze(1) for s in hidden]
        return output, (tuple(hidden) if self.mode == "LSTM" else hidden[0])

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> tuple[PackedSequence, Any]:
        """The layers over a PackedSequence (see `nn/packed_sequence.py`): run padded, longest
        first, with each sequence stopping at its length; the output is packed the same way and the
        final states come back in the caller's batch order."""
        x, lengths = padded_from_packed(packed)  # (T, B, I), lengths longest first
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{self._name()}: packed input of size {x.shape[-1]}, expected input_size={self.input_size}"
            )
        if hx is not None and packed.sorted_indices is not None:
            order = packed.sorted_indices._data
            hx = (
                tuple(s.index_select(1, order) for s in hx)
                if self.mode == "LSTM"
                else hx.index_select(1, order)
            )
        state = self._initial(hx, x.shape[1], True, x.dtype)
        masks = [(lengths > t)[:, None] for t in range(x.shape[0])]
        x, hidden = self._layers(x, state, masks)
        t_idx, b_idx, _ = packed_positions(lengths)
        output = PackedSequence(
            x[t_idx, b_idx], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        if packed.unsorted_indices is not None:
            hidden = [s.index_select(1, packed.unsorted_indices._data) for s in hidden]
        return output, (tuple(hidden) if self.mode == "LSTM" else hidden[0])

    def _layers(self, x: Tensor, state: list, masks: list | None = None) -> tuple[Tensor, list]:
        """Every layer and direction over x (T, B, I): (output (T, B, D*H), [h_n] or [h_n, c_n])."""
        dirs = 2 if self.bidirectional else 1
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0.0:
                x = F.dropout(x, self.dropout, self.training)
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d == 1)
                # every step's input projection at once, (T, B, G*H); b_hh is outside every
                # nonlinearity except the GRU's (r * (h W_hn + b_hn)): add both biases here, once
                if b_ih is not None and self.mode != "GRU":
                    gi, b_hh = F.linear(x, w_ih, b_ih + b_hh), None
                else:
                    gi = F.linear(x, w_ih, b_ih)
                k = layer * dirs + d
                s0 = [s[k] for s in state]  # (B, H) each
                out, h, c = self._direction(gi, s0, (w_hh, b_hh, w_hr), d == 1, masks)
                outs.append(out)
                h_n.append(h)
                if c is not None:
                    c_n.append(c)
            x = outs[0] if dirs == 1 else cat(outs, -1)  # (T, B, D*H)
        return x, [stack(h_n, 0)] + ([stack(c_n, 0)] if c_n else [])  # (L*D, B, H) each

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), or relu.

    Returns (output, h_n).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Multi-layer LSTM; returns (output, (h_n, c_n)). Gates in PyTorch's order i, f, g, o."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(RNNBase):
    """Multi-layer GRU; returns (output, h_n). Gates in PyTorch's order r, z, n."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
        )
