"""ONNX mappings of the arithmetic, pointwise, activation, reduction and softmax primitives.

Each mapping takes an `OpContext` and returns the ONNX name of the op's output. Ops that ONNX has
under the same meaning map one to one; the others are written with a few ONNX ops (PyTorch's own
exporter makes the same choices: rsqrt = Reciprocal(Sqrt), silu = x * Sigmoid(x), ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .context import OpContext

Mapping = Callable[[OpContext], str]


def _same(onnx_op: str) -> Mapping:
    def emit(ctx: OpContext) -> str:
        return ctx.op(onnx_op, [ctx.input(i) for i in range(len(ctx.call.inputs))])

    return emit


def _with_scalar(onnx_op: str, scalar_first: bool = False) -> Mapping:
    """a (op) c for the *Scalar ops, c stored in a's dtype; `scalar_first` for c (op) a."""

    def emit(ctx: OpContext) -> str:
        a, c = ctx.input(0), ctx.scalar(ctx.params["c"])
        return ctx.op(onnx_op, [c, a] if scalar_first else [a, c])

    return emit


def _pow_scalar(ctx: OpContext) -> str:
    e = float(ctx.params["exponent"])
    a = ctx.input(0)
    if e == 2.0:
        return ctx.op("Mul", [a, a])
    if e == -0.5:
        return ctx.op("Reciprocal", [ctx.op("Sqrt", [a])])
    return ctx.op("Pow", [a, ctx.scalar(e)])


def _rpow_scalar(ctx: OpContext) -> str:
    return ctx.op("Pow", [ctx.scalar(float(ctx.params["base"])), ctx.input(0)])


def _cast(ctx: OpContext) -> str:
    return ctx.op("Cast", [ctx.input(0)], to=ctx.g.tensor_type(np.dtype(ctx.params["dtype"])))


def _clamp(ctx: OpContext) -> str:
    lo, hi = ctx.params["lo"], ctx.params["hi"]
    bounds = [ctx.scalar(lo) if lo is not None else "", ctx.scalar(hi) if hi is not None else ""]
    return ctx.op("Clip", [ctx.input(0)] + bounds)


def _clamp_bound(ctx: OpContext) -> str:
    return ctx.op("Min" if ctx.params["upper"] else "Max", [ctx.input(0), ctx.scalar(ctx.params["bound"])])


def _clamp_tensor(ctx: OpContext) -> str:
    return ctx.op("Min", [ctx.op("Max", [ctx.input(0), ctx.input(1)]), ctx.input(2)])


def _log_base(base: float) -> Mapping:
    def emit(ctx: OpContext) -> str:
        return ctx.op("Div", [ctx.op("Log", [ctx.input(0)]), ctx.scalar(math.log(base))])

    return emit


def _one_minus(onnx_op: str) -> Mapping:
    def emit(ctx: OpContext) -> str:
        return ctx.op("Sub", [ctx.scalar(1.0), ctx.op(onnx_op, [ctx.input(0)])])

    return emit


def _trunc(ctx: OpContext) -> str:
    a = ctx.input(0)
    return ctx.op("Mul", [ctx.op("Sign", [a]), ctx.op("Floor", [ctx.op("Abs", [a])])])


def _round(ctx: OpContext) -> str:
    decimals = ctx.params.get("decimals", 0)
    if not decimals:
        return ctx.op("Round", [ctx.input(0)])
    scale = ctx.scalar(10.0**decimals)
    return ctx.op("Div", [ctx.op("Round", [ctx.op("Mul", [ctx.input(0), scale])]), scale])


def _lerp(ctx: OpContext) -> str:
    start, end = ctx.input(0), ctx.input(1)
    w = ctx.input(2) if len(ctx.call.inputs) > 2 else ctx.scalar(float(ctx.params["weight"]))
    return ctx.op("Add", [start, ctx.op("Mul", [w, ctx.op("Sub", [end, start])])])


# ---- activations ---------------------------------------------------------------------------------
def _leaky_relu(ctx: OpContext) -> str:
    return ctx.op("LeakyRelu", [ctx.input(0)], alpha=float(ctx.params["slope"]))


def _elu(ctx: OpContext) -> str:
    alpha, scale, input_scale = (float(ctx.params[k]) for k in ("alpha", "scale", "input_scale"))
    x = ctx.input(0)
    if input_scale != 1.0:  # CELU: alpha * (exp(x / alpha) - 1) on the negative side
        neg = ctx.op(
            "Mul",
            [
                ctx.scalar(alpha),
                ctx.op(
                    "Sub",
                    [
                        ctx.op(
                            "Exp",
                            [ctx.op("Mul", [ctx.op("Min", [x, ctx.scalar(0.0)]), ctx.scalar(input_scale)])],
                        ),
                        ctx.scalar(1.0),
                    ],
                ),
            ],
        )
        out = ctx.op("Where", [ctx.op("Greater", [x, ctx.scalar(0.0)]), x, neg])
    else:
        out = ctx.op("Elu", [x], alpha=alpha)
    return out if scale == 1.0 else ctx.op("Mul", [out, ctx.scalar(scale)])


def _gelu(approximate: str) -> Mapping:
    def emit(ctx: OpContext) -> str:
        x = ctx.input(0)
        if ctx.g.opset >= 20:
            return ctx.op("Gelu", [x], approximate=approximate)
        half = ctx.op("Mul", [x, ctx.scalar(0.5)])
        if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = ctx.op("Mul", [ctx.op("Mul", [x, x]), x])
            inner = ctx.op("Add", [x, ctx.op("Mul", [cube, ctx.scalar(0.044715)])])
            t = ctx.op("Tanh", [ctx.op("Mul", [inner, ctx.scalar(math.sqrt(2.0 / math.pi))])])
        else:  # 0.5 x (1 + erf(x / sqrt(2)))
            t = ctx.op("Erf", [ctx.op("Mul", [x, ctx.scalar(1.0 / math.sqrt(2.0))])])
        return ctx.op("Mul", [half, ctx.op("Add", [t, ctx.scalar(1.0)])])

    return emit


def _silu(ctx: OpContext) -> str:
    x = ctx.input(0)
    return ctx.op("Mul", [x, ctx.op("Sigmoid", [x])])


def _mish(ctx: OpContext) -> str:
    x = ctx.input(0)
    return ctx.op("Mul", [x, ctx.op("Tanh", [ctx.op("Softplus", [x])])])


def _softplus(ctx: OpContext) -> str:
    x, beta, threshold = ctx.input(0), float(ctx.params["beta"]), float(ctx.params["threshold"])
    bx = ctx.op("Mul", [x, ctx.scalar(beta)]) if beta != 1.0 else x
    soft = ctx.op("Softplus", [bx])
    if beta != 1.0:
        soft = ctx.op("Div", [soft, ctx.scalar(beta)])
    return ctx.op("Where", [ctx.op("Greater", [bx, ctx.scalar(threshold)]), x, soft])


def _log_sigmoid(ctx: OpContext) -> str:
    return ctx.op("Neg", [ctx.op("Softplus", [ctx.op("Neg", [ctx.input(0)])])])


def _hardtanh(ctx: OpContext) -> str:
    return ctx.op(
        "Clip",
        [ctx.input(0), ctx.scalar(float(ctx.params["min_val"])), ctx.scalar(float(ctx.params["max_val"]))],
    )


def _hardsigmoid(ctx: OpContext) -> str:
    return ctx.op("HardSigmoid", [ctx.input(0)], alpha=1.0 / 6.0, beta=0.5)


def _threshold(ctx: OpContext) -> str:
    x = ctx.input(0)
    return ctx.op(
        "Where",
        [
            ctx.op("Greater", [x, ctx.scalar(float(ctx.params["threshold"]))]),
            x,
            ctx.scalar(float(ctx.params["value"])),
        ],
    )


# ---- reductions and softmax -----------------------------------------------------------------------
def _axes(ctx: OpContext, key: str = "axis") -> list[int] | None:
    axis = ctx.params.get(key)
    if axis is None:
        return None
    return [int(a) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


def _reduce(ctx: OpContext, onnx_op: str, x: str, axes: list[int] | None, keepdims: bool) -> str:
    inputs = [x] if axes is None else [x, ctx.g.ints(axes)]
    return ctx.op(onnx_op, inputs, keepdims=int(bool(keepdims)))


def _reduction(onnx_op: str) -> Mapping:
    def emit(ctx: OpContext) -> str:
        return _reduce(ctx, onnx_op, ctx.input(0), _axes(ctx), ctx.params.get("keepdims", False))

    return emit


def _amax(ctx: OpContext) -> str:
    onnx_op = "ReduceMax" if ctx.params.get("largest", True) else "ReduceMin"
    return _reduce(ctx, onnx_op, ctx.input(0), _axes(ctx), ctx.params.get("keepdims", False))


def _count(ctx: OpContext, axes: list[int] | None) -> str:
    """The number of elements reduced over, as a scalar of the input's dtype (read at run time
    when a reduced dim is dynamic)."""
    pairs = ctx.in_pairs(0)
    picked = [pairs[a] for a in (axes if axes is not None else range(len(pairs)))]
    if all(a == b for a, b in picked):
        return ctx.scalar(float(math.prod(a for a, _ in picked)))
    size = ctx.op("Shape", [ctx.input(0)])
    if axes is not None:
        size = ctx.op("Gather", [size, ctx.g.ints(axes)], axis=0)
    n = ctx.op("ReduceProd", [size], keepdims=0)
    return ctx.op("Cast", [n], to=ctx.g.tensor_type(ctx.dtype()))


def _var(ctx: OpContext, std: bool = False) -> str:
    x, axes = ctx.input(0), _axes(ctx)
    keep = ctx.params.get("keepdims", False)
    d = ctx.op("Sub", [x, _reduce(ctx, "ReduceMean", x, axes, True)])
    total = _reduce(ctx, "ReduceSum", ctx.op("Mul", [d, d]), axes, keep)
    dof = ctx.op("Sub", [_count(ctx, axes), ctx.scalar(float(ctx.params.get("correction", 1.0)))])
    out = ctx.op("Div", [total, ctx.op("Max", [dof, ctx.scalar(0.0)])])
    return ctx.op("Sqrt", [out]) if std else out


def _norm(ctx: OpContext) -> str:
    x, axes, keep = ctx.input(0), _axes(ctx), ctx.params.get("keepdims", False)
    p = float(ctx.params.get("p", 2.0))
    if p == 2.0:
        return _reduce(ctx, "ReduceL2", x, axes, keep)
    if p == 1.0:
        return _reduce(ctx, "ReduceL1", x, axes, keep)
    if math.isinf(p):
        return _reduce(ctx, "ReduceMax" if p > 0 else "ReduceMin", ctx.op("Abs", [x]), axes, keep)
    powered = ctx.op("Pow", [ctx.op("Abs", [x]), ctx.scalar(p)])
    return ctx.op("Pow", [_reduce(ctx, "ReduceSum", powered, axes, keep), ctx.scalar(1.0 / p)])


def _softmax(onnx_op: str, key: str) -> Mapping:
    def emit(ctx: OpContext) -> str:
        return ctx.op(onnx_op, [ctx.input(0)], axis=int(ctx.params.get(key, -1)))

    return emit


MAPPINGS: dict[str, Mapping] = {
    "Add": _same("Add"),
    "Sub": _same("Sub"),
    "Mul": _same("Mul"),
    "Div": _same("Div"),
    "Pow": _same("Pow"),
    "Maximum": _same("Max"),
    "Minimum": _same("Min"),
    "Where": _same("Where"),
    "Neg": _same("Neg"),
    "Exp": _same("Exp"),
    "Log": _same("Log"),
    "Abs": _same("Abs"),
    "Sqrt": _same("Sqrt"),
    "Reciprocal": _same("Reciprocal"),
    "Sin": _same("Sin"),
    "Cos": _same("Cos"),
    "Tan": _same("Tan"),
    "Asin": _same("Asin"),
    "Acos": _same("Acos"),
    "Atan": _same("Atan"),
    "Sinh": _same("Sinh"),
    "Cosh": _same("Cosh"),
    "Tanh": _same("Tanh"),
    "Asinh": _same("Asinh"),
    "Acosh": _same("Acosh"),
    "Atanh": _same("Atanh"),
    "Erf": _same("Erf"),
    "Floor": _same("Floor"),
    "Ceil": _same("Ceil"),
    "Sign": _same("Sign"),
    "Sigmoid": _same("Sigmoid"),
    "Relu": _same("Relu"),
    "Hardswish": _same("HardSwish"),
    "Clone": _same("Identity"),
    "AddScalar": _with_scalar("Add"),
    "MulScalar": _with_scalar("Mul"),
    "DivScalar": _with_scalar("Div"),
    "RSubScalar": _with_scalar("Sub", scalar_first=True),
    "RDivScalar": _with_scalar("Div", scalar_first=True),
    "PowScalar": _pow_scalar,
    "RPowScalar": _rpow_scalar,
    "Cast": _cast,
    "Clamp": _clamp,
    "ClampBound": _clamp_bound,
    "ClampTensor": _clamp_tensor,
    "Rsqrt": lambda ctx: ctx.op("Reciprocal", [ctx.op("Sqrt", [ctx.input(0)])]),
    "Exp2": lambda ctx: ctx.op("Pow", [ctx.scalar(2.0), ctx.input(0)]),
    "Expm1": lambda ctx: ctx.op("Sub", [ctx.op("Exp", [ctx.input(0)]), ctx.scalar(1.0)]),
    "Log1p": lambda ctx: ctx.op("Log", [ctx.op("Add", [ctx.input(0), ctx.scalar(1.0)])]),
    "Log2": _log_base(2.0),
    "Log10": _log_base(10.0),
    "Erfc": _one_minus("Erf"),
    "Trunc": _trunc,
    "Round": _round,
    "Lerp": _lerp,
    "LerpTensor": _lerp,
    "LeakyRelu": _leaky_relu,
    "Elu": _elu,
    "Gelu": _gelu("none"),
    "GeluTanh": _gelu("tanh"),
    "Silu": _silu,
    "Mish": _mish,
    "Softplus": _softplus,
    "LogSigmoid": _log_sigmoid,
    "Hardtanh": _hardtanh,
    "Hardsigmoid": _hardsigmoid,
    "Threshold": _threshold,
    "Sum": _reduction("ReduceSum"),
    "Mean": _reduction("ReduceMean"),
    "Prod": _reduction("ReduceProd"),
    "LogSumExp": _reduction("ReduceLogSumExp"),
    "AMax": _amax,
    "Var": _var,
    "Std": lambda ctx: _var(ctx, std=True),
    "Norm": _norm,
    "Softmax": _softmax("Softmax", "axis"),
    "LogSoftmax": _softmax("LogSoftmax", "axis"),
}
