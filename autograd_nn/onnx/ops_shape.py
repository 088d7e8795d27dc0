"""ONNX mappings of the movement primitives: reshape, permute, expand, indexing, joins, padding.

Target shapes are never copied from the trace where a dimension is dynamic: `ctx.shape` reads such
sizes at run time (see builder.py), so a Reshape to (B, T, heads, head_dim) keeps B and T free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .constants import constant
from .context import OpContext
from .ops_math import Mapping

INT64_MAX = np.iinfo(np.int64).max


def _reshape(ctx: OpContext) -> str:
    return ctx.op("Reshape", [ctx.input(0), ctx.shape(ctx.out_pairs(), allow_infer=True)])


def _permute(ctx: OpContext) -> str:
    return ctx.op("Transpose", [ctx.input(0)], perm=[int(a) for a in ctx.params["axes"]])


def _expand(ctx: OpContext) -> str:
    return ctx.op("Expand", [ctx.input(0), ctx.shape(ctx.out_pairs())])


def _flip(ctx: OpContext) -> str:
    axes = [int(a) for a in ctx.params.get("axes", ctx.params.get("axis", ()))]
    axes = axes if isinstance(axes, list) else [axes]
    n = len(axes)
    return ctx.op(
        "Slice",
        [
            ctx.input(0),
            ctx.g.ints([-1] * n),
            ctx.g.ints([-INT64_MAX] * n),
            ctx.g.ints(axes),
            ctx.g.ints([-1] * n),
        ],
    )


def _roll(ctx: OpContext) -> str:
    x = ctx.input(0)
    pairs = ctx.in_pairs(0)
    for shift, axis in zip(ctx.params["shifts"], ctx.params["axes"]):
        size = pairs[axis]
        if size[0] != size[1]:
            raise ctx.fail("roll along a dynamic axis is not supported")
        k = int(shift) % size[0] if size[0] else 0
        if k == 0:
            continue
        tail = ctx.op("Slice", [x, ctx.g.ints([-k]), ctx.g.ints([INT64_MAX]), ctx.g.ints([axis])])
        head = ctx.op("Slice", [x, ctx.g.ints([0]), ctx.g.ints([-k]), ctx.g.ints([axis])])
        x = ctx.op("Concat", [tail, head], axis=int(axis))
    return x if x != ctx.input(0) else ctx.op("Identity", [x])


def _tile(ctx: OpContext) -> str:
    return ctx.op("Tile", [ctx.input(0), ctx.g.ints(int(r) for r in ctx.params["reps"])])


def _cat(ctx: OpContext) -> str:
    return ctx.op("Concat", [ctx.input(i) for i in range(len(ctx.call.inputs))], axis=int(ctx.params["axis"]))


def _stack(ctx: OpContext) -> str:
    axis = int(ctx.params["axis"])
    parts = [ctx.op("Unsqueeze", [ctx.input(i), ctx.g.ints([axis])]) for i in range(len(ctx.call.inputs))]
    return ctx.op("Concat", parts, axis=axis)


def _pad(ctx: OpContext) -> str:
    widths = [(int(a), int(b)) for a, b in ctx.params["widths"]]
    pads = [a for a, _ in widths] + [b for _, b in widths]
    return ctx.op(
        "Pad", [ctx.input(0), ctx.g.ints(pads), ctx.scalar(float(ctx.params["value"]))], mode="constant"
    )


def _cumsum(ctx: OpContext) -> str:
    return ctx.op("CumSum", [ctx.input(0), ctx.g.const(np.array(int(ctx.params["axis"])))])


def _take_along(ctx: OpContext) -> str:
    idx = ctx.params["indices"]
    name = ctx.array_value(idx) or ctx.const(np.asarray(idx, dtype=np.int64))
    axis = int(ctx.params["axis"])
    out = ctx.op("GatherElements", [ctx.input(0), name], axis=axis)
    if not ctx.params.get("keepdims", True):
        out = ctx.op("Squeeze", [out, ctx.g.ints([axis])])
    return out


# ---- indexing ----------------------------------------------------------------------------------
def _bound(ctx: OpContext, value: Any, twin: Any, size: tuple, default: int) -> str | int:
    """A slice bound (int, or an ONNX name when it moves with a dynamic dim)."""
    if value is None:
        return default
    value, twin = int(value), int(twin if twin is not None else value)
    if value == twin:
        if size[0] == size[1] and value >= size[0]:
            return INT64_MAX
        return value
    if value - size[0] == twin - size[1]:  # counted from the end of a dynamic dim
        return value - size[0] if value - size[0] < 0 else INT64_MAX
    found = ctx.g.dim((value, twin), ctx.local())
    if found is None:
        raise ctx.fail(
            f"a slice bound that was {value} here and {twin} with the dynamic axes "
            "resized cannot be computed at run time"
        )
    return found


def _basic_index(ctx: OpContext, x: str, index: tuple, twin_index: tuple, pairs: tuple) -> str:
    """Slices, ints, None and ... (NumPy basic indexing) as Slice, Squeeze and Unsqueeze."""
    ndim = len(pairs)
    consumed = sum(1 for it in index if it is not None and it is not Ellipsis)
    items, twins = [], []
    for it, tw in zip(index, twin_index):
        if it is Ellipsis:
            items += [slice(None)] * (ndim - consumed)
            twins += [slice(None)] * (ndim - consumed)
        else:
            items.append(it)
            twins.append(tw)
    items += [slice(None)] * (ndim - consumed)
    twins += [slice(None)] * (ndim - consumed)
    starts: list = []
    ends: list = []
    axes: list[int] = []
    steps: list[int] = []
    squeeze: list[int] = []
    unsqueeze: list[int] = []
    dim, out_dim = 0, 0
    for it, tw in zip(items, twins):
        if it is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        size = pairs[dim]
        if isinstance(it, slice):
            if not _full(it):
                starts.append(_bound(ctx, it.start, tw.start, size, 0))
                ends.append(_bound(ctx, it.stop, tw.stop, size, INT64_MAX))
                axes.append(dim)
                steps.append(int(it.step or 1))
            out_dim += 1
        else:  # an int: a one-wide slice, squeezed away
            start = _bound(ctx, it if it >= 0 else it + size[0], tw if tw >= 0 else tw + size[1], size, 0)
            starts.append(start)
            ends.append(
                ctx.op("Add", [start, ctx.g.ints([1])])
                if isinstance(start, str)
                else (start + 1 if start != -1 else INT64_MAX)
            )
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        dim += 1
    if axes:
        x = ctx.op(
            "Slice", [x, _vector(ctx, starts), _vector(ctx, ends), ctx.g.ints(axes), ctx.g.ints(steps)]
        )
    if squeeze:
        x = ctx.op("Squeeze", [x, ctx.g.ints(squeeze)])
    if unsqueeze:
        x = ctx.op("Unsqueeze", [x, ctx.g.ints(unsqueeze)])
    return x


def _vector(ctx: OpContext, values: list) -> str:
    if all(isinstance(v, int) for v in values):
        return ctx.g.ints(values)
    return ctx.op("Concat", [v if isinstance(v, str) else ctx.g.ints([v]) for v in values], axis=0)


def _is_range(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu" and bool(np.all(a == (a[0] if a.size else 0) + np.arange(a.size)))


def _full(it: Any) -> bool:
    return isinstance(it, slice) and it.start is None and it.stop is None and it.step in (None, 1)


def _getitem(ctx: OpContext) -> str:
    index, twin_index = ctx.params["index"], ctx.twin_params["index"]
    pairs = ctx.in_pairs(0)
    x = ctx.input(0)
    if not ctx.params["advanced"]:
        out = _basic_index(ctx, x, index, twin_index, pairs)
        return out if out != x else ctx.op("Identity", [x])
    arrays = [i for i, it in enumerate(index) if isinstance(it, np.ndarray)]
    lead = index[: arrays[0]] if arrays else ()
    if len(arrays) != 1 or not all(_full(it) for it in lead) or any(it is Ellipsis for it in index):
        raise ctx.fail(
            "advanced indexing other than one integer index array after full slices "
            "(embedding lookups, x[:, idx]) has no mapping"
        )
    axis = arrays[0]
    arr = index[axis]
    name = ctx.array_value(arr)
    twin_arr = twin_index[axis]
    if (
        name is None
        and arr.ndim == 1
        and _is_range(arr)
        and _is_range(twin_arr)
        and (arr.size == 0 or twin_arr.size == 0 or arr[0] == twin_arr[0])
        and arr.size != twin_arr.size
    ):
        # positions 0..T-1 made with np.arange: a Slice of length T read at run time
        n = ctx.g.dim((arr.size, twin_arr.size), ctx.local())
        if n is not None:
            start = ctx.g.ints([int(arr[0]) if arr.size else int(twin_arr[0])])
            return ctx.op("Slice", [x, start, ctx.op("Add", [start, n]), ctx.g.ints([axis])])
    if name is None:  # made inside forward: a constant, rebuilt if its size varies
        name = constant(
            ctx.g,
            arr.astype(np.int64),
            twin_index[axis].astype(np.int64),
            f"{ctx.hint}/index",
            ctx.where,
            ctx.local(),
        )
    out = ctx.op("Gather", [x, name], axis=axis)
    rest = index[axis + 1 :]
    if not all(_full(it) for it in rest):
        rest_pairs = ctx.out_pairs()
        return _basic_index(
            ctx,
            out,
            (slice(None),) * (axis + arr.ndim) + rest,
            (slice(None),) * (axis + arr.ndim) + twin_index[axis + 1 :],
            rest_pairs,
        )
    return out


MAPPINGS: dict[str, Mapping] = {
    "Reshape": _reshape,
    "Permute": _permute,
    "Expand": _expand,
    "Flip": _flip,
    "Roll": _roll,
    "Tile": _tile,
    "Cat": _cat,
    "Stack": _stack,
    "ConstantPad": _pad,
    "GetItem": _getitem,
    "Cumsum": _cumsum,
    "TakeAlong": _take_along,
}
