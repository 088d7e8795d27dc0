"""ONNX mappings of the layer primitives: linear maps, convolutions, pooling, layer norm, and the
fused LSTM/GRU cell steps (used by LSTMCell/GRUCell; the multi-layer RNN modules are exported whole,
see recurrent.py).

BatchNorm, GroupNorm and InstanceNorm in eval mode reach the trace as the primitive ops they are made
of (subtract the mean, scale by rsqrt(var + eps), ...), so they export through ops_math.py.
Pooling ops carry their windows (start, count, step per axis), not the kernel size: the kernel,
stride, padding and ceil_mode are recovered by matching `kernels.pool.pool_windows`, the function
that made them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.pool import pool_output_size, pool_windows
from .context import OpContext
from .ops_math import Mapping


def _linear(ctx: OpContext) -> str:
    x, w = ctx.input(0), ctx.input(1)
    b = ctx.input(2) if len(ctx.call.inputs) > 2 else None
    if ctx.call.inputs[0].ndim == 2:
        return ctx.op("Gemm", [x, w] + ([b] if b else []), transB=1)
    y = ctx.op("MatMul", [x, ctx.op("Transpose", [w], perm=[1, 0])])
    return ctx.op("Add", [y, b]) if b else y


def _matmul(ctx: OpContext) -> str:
    return ctx.op("MatMul", [ctx.input(0), ctx.input(1)])


def _einsum(ctx: OpContext) -> str:
    equation = ",".join(ctx.params["terms"]) + "->" + ctx.params["out"]
    return ctx.op("Einsum", [ctx.input(i) for i in range(len(ctx.call.inputs))], equation=equation)


# ---- convolutions ---------------------------------------------------------------------------------
def _conv_attrs(geo: Any, transposed: bool) -> dict:
    axes = [1] if geo.one_d else [0, 1]
    begin = [geo.padding[a] for a in axes]
    end = []
    for a in axes:
        k, s, d, p = geo.kernel[a], geo.stride[a], geo.dilation[a], geo.padding[a]
        if transposed:
            end.append(p)
            continue
        size, out = geo.image[a], geo.out[a]
        for e in (p, max(0, (out - 1) * s + d * (k - 1) + 1 - size - p)):
            if (size + p + e - d * (k - 1) - 1) // s + 1 == out:
                end.append(e)
                break
    attrs = {
        "kernel_shape": [geo.kernel[a] for a in axes],
        "strides": [geo.stride[a] for a in axes],
        "dilations": [geo.dilation[a] for a in axes],
        "pads": begin + end,
        "group": geo.groups,
    }
    if transposed:  # the big image is the output: fix its size with output_padding
        attrs["output_padding"] = [
            geo.image[a]
            - (
                (geo.out[a] - 1) * geo.stride[a]
                - 2 * geo.padding[a]
                + geo.dilation[a] * (geo.kernel[a] - 1)
                + 1
            )
            for a in axes
        ]
    return attrs


def _conv(transposed: bool) -> Mapping:
    def emit(ctx: OpContext) -> str:
        inputs = [ctx.input(i) for i in range(len(ctx.call.inputs))]
        return ctx.op(
            "ConvTranspose" if transposed else "Conv", inputs, **_conv_attrs(ctx.params["geo"], transposed)
        )

    return emit


# ---- pooling ---------------------------------------------------------------------------------------
def _pool_geometry(size: int, win: tuple) -> tuple | None:
    """(kernel, stride, padding, ceil_mode) whose `pool_windows` are `win` = (start, count, step)."""
    start, count, step = win
    n_out = len(start)
    kernel = int(count.max()) if n_out else 1
    for k in range(kernel, kernel + size + 1):
        for p in range(k // 2 + 1):
            for s in range(1, size + 2 * p + 1):
                for ceil in (False, True):
                    if pool_output_size(size, k, s, p, step, ceil) != n_out:
                        continue
                    (st, ct, _), _, _ = pool_windows(size, k, s, p, step, ceil)
                    if np.array_equal(st, start) and np.array_equal(ct, count):
                        return k, s, p, ceil
    return None


def _pool_attrs(ctx: OpContext, rows: tuple, cols: tuple) -> tuple[dict, list]:
    pairs = ctx.in_pairs(0)
    one_d = len(pairs) == 3
    image = [1, pairs[2][0]] if one_d else [pairs[2][0], pairs[3][0]]
    if any(a != b for a, b in pairs[2:]):
        raise ctx.fail("pooling over a dynamic spatial axis is not supported")
    found = []
    for axis, win in enumerate((rows, cols)):
        if one_d and axis == 0:
            continue
        geo = _pool_geometry(image[axis], win)
        if geo is None:
            raise ctx.fail(
                "its pooling windows match no (kernel, stride, padding) of ONNX pooling "
                "(adaptive pooling to a size that does not divide the input?)"
            )
        found.append(geo)
    if len({g[3] for g in found}) > 1:
        raise ctx.fail("ceil_mode differs between the two axes")
    attrs = {
        "kernel_shape": [g[0] for g in found],
        "strides": [g[1] for g in found],
        "pads": [g[2] for g in found] * 2,
        "ceil_mode": int(found[0][3]),
    }
    dilations = [int(w[2]) for a, w in enumerate((rows, cols)) if not (one_d and a == 0)]
    if any(d != 1 for d in dilations):
        attrs["dilations"] = dilations
    return attrs, found


def _max_pool(ctx: OpContext) -> str:
    attrs, _ = _pool_attrs(ctx, ctx.params["rows"], ctx.params["cols"])
    return ctx.op("MaxPool", [ctx.input(0)], **attrs)


def _avg_pool(ctx: OpContext) -> str:
    win = ctx.params["win"]
    full = [int(w[1][0]) == n and len(w[0]) == 1 for w, n in zip((win.rows, win.cols), win.image)]
    if all(full):
        return ctx.op("GlobalAveragePool", [ctx.input(0)])
    attrs, found = _pool_attrs(ctx, win.rows, win.cols)
    geos = ([(1, 1, 0, False)] if len(found) == 1 else []) + found
    divisors = [pool_windows(n, k, s, p, 1, ceil)[1:] for n, (k, s, p, ceil) in zip(win.image, geos)]
    for include, pick in ((1, 0), (0, 1)):
        if np.allclose(divisors[0][pick], win.row_div) and np.allclose(divisors[1][pick], win.col_div):
            attrs["count_include_pad"] = include
            return ctx.op("AveragePool", [ctx.input(0)], **attrs)
    raise ctx.fail("average pooling with divisor_override has no ONNX mapping")


# ---- normalisation and recurrent cells -------------------------------------------------------------
def _layer_norm(ctx: OpContext) -> str:
    shape = tuple(int(s) for s in ctx.params["normalized_shape"])
    dtype = ctx.dtype()
    it = iter(range(1, len(ctx.call.inputs)))
    scale = ctx.input(next(it)) if ctx.params.get("has_weight") else ctx.const(np.ones(shape, dtype))
    inputs = [ctx.input(0), scale] + ([ctx.input(next(it))] if ctx.params.get("has_bias") else [])
    return ctx.op("LayerNormalization", inputs, axis=-len(shape), epsilon=float(ctx.params.get("eps", 1e-5)))


def _lstm_cell(ctx: OpContext) -> str:
    i, f, g, o = ctx.op("Split", [ctx.input(0)], outputs=4, axis=1, num_outputs=4)
    c = ctx.op(
        "Add",
        [
            ctx.op("Mul", [ctx.op("Sigmoid", [f]), ctx.input(1)]),
            ctx.op("Mul", [ctx.op("Sigmoid", [i]), ctx.op("Tanh", [g])]),
        ],
    )
    h = ctx.op("Mul", [ctx.op("Sigmoid", [o]), ctx.op("Tanh", [c])])
    return ctx.op("Concat", [h, c], axis=1)


def _gru_cell(ctx: OpContext) -> str:
    i_r, i_z, i_n = ctx.op("Split", [ctx.input(0)], outputs=3, axis=1, num_outputs=3)
    h_r, h_z, h_n = ctx.op("Split", [ctx.input(1)], outputs=3, axis=1, num_outputs=3)
    r = ctx.op("Sigmoid", [ctx.op("Add", [i_r, h_r])])
    z = ctx.op("Sigmoid", [ctx.op("Add", [i_z, h_z])])
    n = ctx.op("Tanh", [ctx.op("Add", [i_n, ctx.op("Mul", [r, h_n])])])
    one_minus_z = ctx.op("Sub", [ctx.scalar(1.0), z])
    return ctx.op("Add", [ctx.op("Mul", [one_minus_z, n]), ctx.op("Mul", [z, ctx.input(2)])])


MAPPINGS: dict[str, Mapping] = {
    "Linear": _linear,
    "MatMul": _matmul,
    "Einsum": _einsum,
    "Conv": _conv(False),
    "ConvTranspose": _conv(True),
    "MaxPool": _max_pool,
    "AvgPool": _avg_pool,
    "LayerNormFused": _layer_norm,
    "LSTMCellFused": _lstm_cell,
    "GRUCellFused": _gru_cell,
}
