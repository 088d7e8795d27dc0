"""nn.RNN, nn.LSTM and nn.GRU exported whole, as ONNX's RNN, LSTM and GRU operators.

Why the ONNX operators rather than the unrolled steps the engine records: an unrolled graph has one
copy of the cell per time step of the example input, so its sequence length is fixed, while the
ONNX operators loop inside and take any length (a dynamic `sequence` axis works), and runtimes run
them as one fused kernel. The tracer records each call of these modules as one `ModuleCall` (its
ops are not recorded), and this file writes one ONNX node per layer.

The weights stay initializers under their state_dict names (`rnn.weight_ih_l0`, ...); the graph
reorders their gate blocks into ONNX's order (PyTorch LSTM i, f, g, o -> ONNX i, o, f, c; GRU
r, z, n -> z, r, h) with Split/Concat nodes that runtimes fold into constants. GRU uses
linear_before_reset=1, which is PyTorch's formulation. An LSTM with proj_size has no ONNX
equivalent and raises ExportError.
"""

from __future__ import annotations

from typing import Any

from .context import OpContext

_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _reordered(ctx: OpContext, name: str, mode: str) -> str:
    order = _ORDER[mode]
    if order == [0]:
        return name
    parts = ctx.op("Split", [name], outputs=len(order), axis=0, num_outputs=len(order))
    return ctx.op("Concat", [parts[i] for i in order], axis=0)


def _stacked(ctx: OpContext, names: list[str]) -> str:
    """[dirs, ...]: each direction's tensor with a leading axis, joined."""
    parts = [ctx.op("Unsqueeze", [n, ctx.g.ints([0])]) for n in names]
    return parts[0] if len(parts) == 1 else ctx.op("Concat", parts, axis=0)


def export_rnn(ctx: OpContext) -> list[str]:
    module: Any = ctx.call.module  # type: ignore[union-attr]
    mode = module.mode
    if getattr(module, "proj_size", 0):
        raise ctx.fail("an LSTM with proj_size has no ONNX equivalent")
    args = ctx.call.args  # type: ignore[union-attr]
    x_t = args[0]
    x = ctx.value(x_t)
    batched = x_t.ndim == 3
    if not batched:
        x = ctx.op("Unsqueeze", [x, ctx.g.ints([1])])
    elif module.batch_first:
        x = ctx.op("Transpose", [x], perm=[1, 0, 2])  # (T, B, I)
    hx = args[1] if len(args) > 1 else None
    states = [] if hx is None else ([hx] if mode != "LSTM" else list(hx))
    state_names = [ctx.value(s) for s in states]
    if not batched:
        state_names = [ctx.op("Unsqueeze", [s, ctx.g.ints([1])]) for s in state_names]
    dirs = 2 if module.bidirectional else 1
    hidden = module.hidden_size
    onnx_op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    attrs: dict = {"hidden_size": hidden, "direction": "bidirectional" if dirs == 2 else "forward"}
    if onnx_op == "RNN":
        attrs["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * dirs
    if onnx_op == "GRU":
        attrs["linear_before_reset"] = 1
    h_n, c_n = [], []
    for layer in range(module.num_layers):
        w, r, b = [], [], []
        for d in range(dirs):
            w_ih, w_hh, b_ih, b_hh, _ = module._weights(layer, d == 1)
            w.append(_reordered(ctx, ctx.leaf(w_ih), mode))
            r.append(_reordered(ctx, ctx.leaf(w_hh), mode))
            if b_ih is not None:
                b.append(
                    ctx.op(
                        "Concat",
                        [_reordered(ctx, ctx.leaf(b_ih), mode), _reordered(ctx, ctx.leaf(b_hh), mode)],
                        axis=0,
                    )
                )
        inputs = [x, _stacked(ctx, w), _stacked(ctx, r), _stacked(ctx, b) if b else "", ""]
        span = [layer * dirs, (layer + 1) * dirs]
        for s in state_names:
            inputs.append(ctx.op("Slice", [s, ctx.g.ints(span[:1]), ctx.g.ints(span[1:]), ctx.g.ints([0])]))
        while inputs and inputs[-1] == "":
            inputs.pop()
        outs = ctx.op(onnx_op, inputs, outputs=3 if mode == "LSTM" else 2, **attrs)
        y = ctx.op("Transpose", [outs[0]], perm=[0, 2, 1, 3])  # (T, B, dirs, H)
        x = ctx.op("Reshape", [y, ctx.g.ints([0, 0, dirs * hidden])])  # (T, B, dirs*H)
        h_n.append(outs[1])
        if mode == "LSTM":
            c_n.append(outs[2])
    results = [x] + [n[0] if len(n) == 1 else ctx.op("Concat", n, axis=0) for n in (h_n, c_n) if n]
    if not batched:
        results = [ctx.op("Squeeze", [t, ctx.g.ints([1])]) for t in results]
    elif module.batch_first:
        results[0] = ctx.op("Transpose", [results[0]], perm=[1, 0, 2])
    return results
