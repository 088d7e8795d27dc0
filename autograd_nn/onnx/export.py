"""`export(model, args, f, ...)`: write a model as an ONNX graph, with torch.onnx.export's signature.

How: the model runs once on `args` in eval mode while a tracer (trace.py) records every op call;
each op is mapped to ONNX operators (ops_math.py, ops_shape.py, ops_nn.py; recurrent modules whole,
recurrent.py); parameters and buffers become initializers named by their state_dict names; tensors
made inside forward become constants. With `dynamic_axes` the model runs a second time with those
axes resized, so the exporter knows which sizes vary and reads them at run time (builder.py).
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..grad_mode import no_grad
from .builder import ExportError, GraphBuilder, require_onnx
from .constants import constant
from .context import OpContext, describe_scope
from .ops_math import MAPPINGS as MATH
from .ops_nn import MAPPINGS as NN
from .ops_shape import MAPPINGS as SHAPE
from .recurrent import export_rnn
from .trace import ModuleCall, Tracer, flatten

DEFAULT_OPSET = 20  # PyTorch's default
MIN_OPSET = 18  # Reduce* take axes as inputs and Split takes num_outputs from 18 on
MAPPINGS = {**MATH, **SHAPE, **NN}


def export(
    model: Any,
    args: Any = (),
    f: Any = None,
    *,
    kwargs: dict | None = None,
    verbose: bool | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: MappingType[str, Any] | None = None,
    export_params: bool = True,
    keep_initializers_as_inputs: bool = False,
) -> Any:
    """Export `model` to ONNX, as torch.onnx.export(model, args, f, ...) does.

    args: the example inputs (a Tensor or a tuple; a trailing dict is keyword arguments). Tensor
    arguments become the graph's inputs, other values are fixed into the graph. f: a path or a
    binary file object to write to (None: only return). input_names / output_names: names of the
    graph's inputs and outputs, in order. dynamic_axes: {name: {axis: axis_name}} or {name: [axis]}
    for sizes that may vary (batch, sequence); the same axis_name in two inputs means one size.
    opset_version: the ONNX opset (18 to the newest the installed onnx knows; default 20).
    export_params=False leaves the weights out (they become inputs);
    keep_initializers_as_inputs also lists them as inputs. Returns the `onnx.ModelProto`.
    Needs the `onnx` package (`pip install 'autograd-nn[onnx]'`). The model runs in eval mode
    (its mode is restored afterwards); an op with no ONNX mapping raises ExportError naming the op
    and the module it ran in.
    """
    onnx = require_onnx()
    from ..nn.module import Module  # late: nn sits above this package's imports

    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: model must be an nn.Module, got {type(model).__name__}")
    args, kwargs = _split_args(args, kwargs)
    inputs = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]
    if not inputs:
        raise TypeError("onnx.export: args must contain at least one Tensor (the model's input)")
    opset = _opset(onnx, opset_version)
    names_in = _names("input_names", input_names, len(inputs), _default_inputs(model, args, kwargs))
    axes = _dynamic_axes(dynamic_axes, names_in, output_names, inputs)
    was_training = model.training
    model.eval()
    try:
        calls, out = _trace(model, args, kwargs)
        twins, twin_shapes = _twin_calls(model, args, kwargs, inputs, names_in, axes, calls)
        proto = _build(
            onnx,
            model,
            opset,
            inputs,
            twin_shapes,
            names_in,
            output_names,
            axes,
            calls,
            twins,
            out,
            export_params,
            keep_initializers_as_inputs,
        )
    finally:
        model.train(was_training)
    onnx.checker.check_model(proto)
    if f is not None:
        _write(proto.SerializeToString(), f)
    return proto


# ---- arguments -------------------------------------------------------------------------------------
def _split_args(args: Any, kwargs: dict | None) -> tuple[tuple, dict]:
    if isinstance(args, Tensor):
        args = (args,)
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"onnx.export: args must be a Tensor or a tuple of inputs, got {type(args).__name__}")
    args = tuple(args)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):  # torch.onnx's convention: a trailing dict is kwargs
        kwargs.update(args[-1])
        args = args[:-1]
    return args, kwargs


def _opset(onnx: Any, opset_version: int | None) -> int:
    newest = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"onnx.export: opset_version must be an int from {MIN_OPSET} to {newest}, got {opset_version!r}"
        )
    return opset


def _default_inputs(model: Any, args: tuple, kwargs: dict) -> list[str]:
    try:
        params = list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        params = []
    names = [
        params[i] if i < len(params) else f"input_{i}" for i, a in enumerate(args) if isinstance(a, Tensor)
    ]
    return names + [k for k, v in kwargs.items() if isinstance(v, Tensor)]


def _names(what: str, given: Sequence[str] | None, count: int, default: list[str]) -> list[str]:
    if given is None:
        return default
    if isinstance(given, str) or not all(isinstance(n, str) and n for n in given):
        raise TypeError(f"onnx.export: {what} must be a list of non-empty strings, got {given!r}")
    given = list(given)
    if len(given) > count:
        raise ValueError(f"onnx.export: {len(given)} {what} for {count} tensors")
    if len(set(given)) != len(given):
        raise ValueError(f"onnx.export: {what} {given} has a repeated name")
    return given + default[len(given) :]


def _dynamic_axes(
    dynamic_axes: Any, names_in: list[str], output_names: Any, inputs: list[Tensor]
) -> dict[str, dict[int, str]]:
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, MappingType):
        raise TypeError(f"onnx.export: dynamic_axes must be a dict, got {type(dynamic_axes).__name__}")
    known = set(names_in) | set(output_names or ())
    out: dict[str, dict[int, str]] = {}
    for name, spec in dynamic_axes.items():
        if name not in known:
            raise ValueError(
                f"onnx.export: dynamic_axes names {name!r}, which is not one of the "
                f"input_names or output_names {sorted(known)}"
            )
        if isinstance(spec, MappingType):
            pairs = list(spec.items())
        elif isinstance(spec, (list, tuple)):
            pairs = [(a, f"{name}_dynamic_axes_{i + 1}") for i, a in enumerate(spec)]
        else:
            raise TypeError(
                f"onnx.export: dynamic_axes[{name!r}] must be a dict or a list of axes, "
                f"got {type(spec).__name__}"
            )
        ndim = inputs[names_in.index(name)].ndim if name in names_in else None
        axes: dict[int, str] = {}
        for axis, label in pairs:
            if not isinstance(axis, int) or isinstance(axis, bool) or not isinstance(label, str):
                raise TypeError(
                    f"onnx.export: dynamic_axes[{name!r}] must map int axes to str "
                    f"names, got {axis!r}: {label!r}"
                )
            if ndim is not None and not -ndim <= axis < ndim:
                raise ValueError(
                    f"onnx.export: dynamic_axes[{name!r}] has axis {axis}, but input {name!r} has {ndim} dims"
                )
            axes[axis % ndim if ndim else axis] = label
        out[name] = axes
    return out


# ---- tracing ---------------------------------------------------------------------------------------
def _is_recurrent(module: Any) -> bool:
    from ..nn.recurrent import RNNBase  # late: nn sits above this package's imports

    return isinstance(module, RNNBase)


def _trace(model: Any, args: tuple, kwargs: dict) -> tuple[list, Any]:
    tracer = Tracer(_is_recurrent)
    tracer.watch(model)
    try:
        with no_grad(), tracer:
            out = model(*args, **kwargs)
    finally:
        tracer.unwatch()
    return tracer.calls, out


def _resized(t: Tensor, axes: dict[int, str], delta: dict[str, int]) -> Tensor:
    """`t` with its dynamic axes resized (repeating its values), or, with none, new values:
    floats moved by noise, integers shuffled (so ids stay valid)."""
    arr = t._data
    if not axes:
        rng = np.random.default_rng(1)
        if arr.dtype.kind == "f":
            return as_tensor((arr + rng.standard_normal(arr.shape)).astype(arr.dtype))
        return as_tensor(rng.permutation(arr.reshape(-1)).reshape(arr.shape))
    for axis, label in axes.items():
        n = arr.shape[axis]
        arr = np.take(arr, np.arange(n + delta[label]) % max(n, 1), axis=axis)
    return as_tensor(np.ascontiguousarray(arr))


def _twin_calls(
    model: Any, args: tuple, kwargs: dict, inputs: list[Tensor], names_in: list[str], axes: dict, calls: list
) -> tuple[list, list]:
    """The calls of a second run, matched one to one with `calls`: every dynamic input axis resized
    (+1, +2, ... per axis name; smaller instead if the model refuses larger sizes), and inputs
    without dynamic axes given new values, so a tensor computed from the input's values outside the
    recorded ops (a mask made by a comparison) shows up as a constant that changed, not as a wrong
    constant frozen into the graph."""
    labels = list(dict.fromkeys(label for n in names_in for label in axes.get(n, {}).values()))
    error: Exception | None = None
    for sign in (1, -1):
        delta = {label: sign * (i + 1) for i, label in enumerate(labels)}
        swap = {id(t): _resized(t, axes.get(n, {}), delta) for t, n in zip(inputs, names_in)}
        if any(min(s.shape, default=1) < 1 for s in swap.values()):
            continue
        a2 = tuple(swap.get(id(a), a) if isinstance(a, Tensor) else a for a in args)
        k2 = {k: swap.get(id(v), v) if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        try:
            twins, _ = _trace(model, a2, k2)
        except Exception as err:  # the model refuses the new size: try the other direction
            error = err
            continue
        for _i, (mine, theirs) in enumerate(zip(calls, twins)):
            if mine.name != theirs.name or len(mine.inputs) != len(theirs.inputs):
                raise ExportError(
                    f"onnx.export: with the dynamic axes resized, the model runs "
                    f"{theirs.name!r} {describe_scope(theirs.scope)} where it ran "
                    f"{mine.name!r} {describe_scope(mine.scope)}: its forward "
                    "branches on a size that the dynamic axes change"
                )
        if len(twins) != len(calls):
            raise ExportError(
                f"onnx.export: with the dynamic axes resized the model runs "
                f"{len(twins)} ops instead of {len(calls)}: its forward loops or "
                "branches on a size that the dynamic axes change"
            )
        return twins, [swap[id(t)].shape for t in inputs]
    raise ExportError(
        f"onnx.export: the model fails when run again with the dynamic axes {labels} "
        "resized and other inputs given new values "
        f"({type(error).__name__}: {error}); are those axes really dynamic?"
    )


# ---- building the graph ----------------------------------------------------------------------------
def _build(
    onnx: Any,
    model: Any,
    opset: int,
    inputs: list[Tensor],
    twin_shapes: list,
    names_in: list[str],
    output_names: Sequence[str] | None,
    axes: dict,
    calls: list,
    twins: list | None,
    out: Any,
    export_params: bool,
    keep_inits: bool,
) -> Any:
    g = GraphBuilder(opset)
    helper = onnx.helper
    names: dict[int, str] = {}
    arrays: dict[int, Tensor] = {}
    state = {}
    for n, p in list(model.named_buffers())[::-1] + list(model.named_parameters())[::-1]:
        state[id(p)] = state[id(p._data)] = n  # by the Tensor, and by its array (for detach())
    graph_inputs: list[Any] = []  # onnx ValueInfoProtos
    weights: list[tuple[str, Tensor]] = []
    labels: dict[tuple, str] = {}  # (size, resized size) of a dynamic input axis -> its name
    for t, shape, name in zip(inputs, twin_shapes, names_in):
        names[id(t)] = g.reserve(name)
        arrays[id(t._data)] = t
        dims = [axes.get(name, {}).get(i, n) for i, n in enumerate(t.shape)]
        graph_inputs.append(helper.make_tensor_value_info(name, g.tensor_type(t.dtype), dims))
        g.add_shape_source(name, tuple(zip(t.shape, shape)))
        for i, label in axes.get(name, {}).items():
            labels.setdefault((t.shape[i], shape[i]), label)
    for call, twin in zip(calls, twins or [None] * len(calls)):
        ctx = OpContext(
            g, call, twin, names, arrays, lambda t: _leaf(g, t, None, "", [], names, arrays, state, weights)
        )
        for j, t in enumerate(call.inputs):
            if id(t) not in names:
                twin_t = twin.inputs[j] if twin is not None else None
                _leaf(g, t, twin_t, ctx.where, ctx.local(), names, arrays, state, weights)
        if isinstance(call, ModuleCall):
            results = export_rnn(ctx)
            produced = call.outputs
        else:
            mapping = MAPPINGS.get(call.name)
            if mapping is None:
                raise ExportError(f"onnx.export: {ctx.where}: the op {call.name!r} has no ONNX mapping")
            results = [mapping(ctx)]
            produced = (call.output,)
        for t, name in zip(produced, results):
            names[id(t)] = name
            arrays[id(t._data)] = t
            g.add_shape_source(name, ctx.pairs(t))
    return _finish(
        onnx,
        g,
        model,
        opset,
        out,
        twins,
        calls,
        names,
        arrays,
        state,
        weights,
        axes,
        labels,
        output_names,
        graph_inputs,
        export_params,
        keep_inits,
    )


def _leaf(
    g: GraphBuilder,
    t: Tensor,
    twin: Tensor | None,
    where: str,
    local: list,
    names: dict,
    arrays: dict,
    state: dict,
    weights: list,
) -> str:
    """The ONNX name of a tensor no recorded op made: a parameter, a buffer, or a constant."""
    if id(t) in names:
        return names[id(t)]
    same = arrays.get(id(t._data))  # detach() and .data share the array: one initializer
    if same is not None and id(same) in names and same.shape == t.shape and same.dtype == t.dtype:
        names[id(t)] = names[id(same)]
        return names[id(t)]
    key = id(t) if id(t) in state else id(t._data)
    if key in state:
        name = g.reserve(state[key])
        g.initializer(name, t._data)
        weights.append((name, t))
    else:
        hint = f"{where.split(' in module ')[-1].split(' ')[0].strip(chr(39))}/const" if where else "const"
        name = constant(g, t._data, twin._data if twin is not None else None, hint, where, local)
    names[id(t)] = name
    arrays[id(t._data)] = t
    return name


def _finish(
    onnx: Any,
    g: GraphBuilder,
    model: Any,
    opset: int,
    out: Any,
    twins: list | None,
    calls: list,
    names: dict,
    arrays: dict,
    state: dict,
    weights: list,
    axes: dict,
    labels: dict,
    output_names: Sequence[str] | None,
    graph_inputs: list,
    export_params: bool,
    keep_inits: bool,
) -> Any:
    helper = onnx.helper
    results = flatten(out)
    if not results:
        raise ExportError(f"onnx.export: the model returned {type(out).__name__}, no Tensor")
    default = ["output"] if len(results) == 1 else [f"output_{i}" for i in range(len(results))]
    names_out = _names("output_names", output_names, len(results), default)
    twin_out = _twin_outputs(results, calls, twins)
    graph_outputs = []
    for k, (t, name) in enumerate(zip(results, names_out)):
        source = names.get(id(t)) or _leaf(g, t, None, "", [], names, arrays, state, weights)
        g.op("Identity", [source], [g.reserve(name)], hint=name)
        given = axes.get(name, {})
        dims: list = []
        for i, n in enumerate(t.shape):
            other = twin_out[k][i] if twin_out[k] is not None else n
            if i in given:
                dims.append(given[i])
            elif other != n:
                dims.append(labels.get((n, other), f"{name}_dynamic_axes_{i + 1}"))
            else:
                dims.append(n)
        graph_outputs.append(helper.make_tensor_value_info(name, g.tensor_type(t.dtype), dims))
    initializers = g.initializers
    if not export_params:  # the weights become inputs the caller must feed
        keep = {n for n, _ in weights}
        initializers = [i for i in g.initializers if i.name not in keep]
        keep_inits = True
    if keep_inits:
        graph_inputs += [
            helper.make_tensor_value_info(n, g.tensor_type(t.dtype), list(t.shape)) for n, t in weights
        ]
    graph = helper.make_graph(
        g.nodes, type(model).__name__, graph_inputs, graph_outputs, initializer=initializers
    )
    opsets = [helper.make_opsetid("", opset)]
    from ..version import __version__

    proto = helper.make_model(
        graph, opset_imports=opsets, producer_name="autograd_nn", producer_version=__version__
    )
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    return proto


def _twin_outputs(results: list, calls: list, twins: list | None) -> list:
    if twins is None:
        return [None] * len(results)
    found: dict[int, tuple] = {}
    for call, twin in zip(calls, twins):
        produced = call.outputs if isinstance(call, ModuleCall) else (call.output,)
        made = twin.outputs if isinstance(twin, ModuleCall) else (twin.output,)
        for mine, theirs in zip(produced, made):
            found[id(mine)] = theirs.shape
    return [found.get(id(t)) for t in results]


def _write(data: bytes, f: Any) -> None:
    if hasattr(f, "write"):
        f.write(data)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"onnx.export: f must be a path or a binary file object, got {type(f).__name__}")
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


__all__ = ["export", "ExportError"]
