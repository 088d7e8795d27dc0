"""Tensors a model makes inside forward from NumPy (positions, masks, filler tokens) become constants
of the graph. When their shape follows a dynamic axis they cannot be stored: the two traces show two
sizes. Three patterns cover what models make this way, and are rebuilt from run-time sizes:

- uniform: every element the same value (np.full, zeros) -> ConstantOfShape;
- arange: a 1-D run start, start + 1, ... (position ids) -> Range;
- triangular: a 2-D (L, S) two-valued mask split along a diagonal (causal masks, as bool or as
  0 / -inf) -> Where(col - row <= k, a, b).
Anything else raises ExportError naming the op and module that used it.
"""

from __future__ import annotations

import numpy as np

from .builder import ExportError, GraphBuilder, Pair

Local = list[tuple[str, tuple[Pair, ...]]]


def constant(
    g: GraphBuilder, main: np.ndarray, twin: np.ndarray | None, hint: str, where: str, local: Local
) -> str:
    """The ONNX name of a constant tensor, rebuilt at run time when its shape is dynamic."""
    if twin is None or (twin.shape == main.shape and np.array_equal(twin, main, equal_nan=True)):
        return g.const(main, hint=hint)
    if twin.shape == main.shape:
        raise ExportError(
            f"onnx.export: {where}: a tensor made inside forward (not from the inputs "
            "or parameters) has different values on a second run: random, or "
            "computed from the input's values outside the recorded ops (a "
            "comparison such as x > 0 makes a mask the graph cannot follow yet)"
        )
    pairs = tuple(zip(main.shape, twin.shape))
    if (
        main.size
        and _uniform(main)
        and (twin.size == 0 or _uniform(twin))
        and (twin.size == 0 or twin.flat[0] == main.flat[0])
    ):
        value = g.onnx.numpy_helper.from_array(main.reshape(-1)[:1].copy(), "value")
        return g.op("ConstantOfShape", [g.shape_of(pairs, local, what=where)], hint=hint, value=value)
    if main.ndim == 1 and _arange(main) and _arange(twin) and main[0] == twin[0]:
        start = g.const(main[0], hint=hint)
        n = g.dim(pairs[0], local)
        if n is not None:
            count = g.op("Cast", [g.op("Squeeze", [n], hint=hint)], hint=hint, to=g.tensor_type(main.dtype))
            return g.op(
                "Range",
                [start, g.op("Add", [start, count], hint=hint), g.const(np.array(1, main.dtype), hint=hint)],
                hint=hint,
            )
    if main.ndim == 2 and twin.ndim == 2:
        found = _triangular(main)
        if found is not None and _triangular(twin) == found:
            return _build_triangular(g, pairs, found, main.dtype, hint, where, local)
    raise ExportError(
        f"onnx.export: {where}: a tensor made inside forward with NumPy (shape "
        f"{main.shape} here, {twin.shape} with the dynamic axes resized) depends on a "
        "dynamic axis and is not a fill, a range or a triangular mask; build it from "
        "the inputs with tensor ops, or export without that dynamic axis"
    )


def _uniform(a: np.ndarray) -> bool:
    return bool(np.all(a == a.flat[0])) if a.size else True


def _arange(a: np.ndarray) -> bool:
    return a.size > 0 and a.dtype.kind in "iuf" and bool(np.all(a == a[0] + np.arange(a.size)))


def _triangular(a: np.ndarray) -> tuple | None:
    """(k, below, above) if a == where(tri(L, S, k), below, above), else None."""
    if a.size == 0:
        return None
    below = a[0, 0]
    k = int(np.sum(a[0] == below)) - 1
    rest = a[0, k + 1 :]
    above = rest[0] if rest.size else (a[-1, -1] if a[-1, -1] != below else None)
    if above is None or not np.all(rest == above):
        return None
    expected = np.where(np.tri(a.shape[0], a.shape[1], k, dtype=bool), below, above)
    return (k, below.item(), above.item()) if np.array_equal(expected, a) else None


def _build_triangular(
    g: GraphBuilder, pairs: tuple, found: tuple, dtype: np.dtype, hint: str, where: str, local: Local
) -> str:
    k, below, above = found
    sizes = []
    for pair in pairs:
        n = g.dim(pair, local)
        if n is None:
            raise ExportError(
                f"onnx.export: {where}: cannot tell at run time the size of a mask "
                f"dimension that was {pair[0]} here and {pair[1]} resized"
            )
        sizes.append(g.op("Squeeze", [n], hint=hint))
    zero, one = g.const(np.array(0, np.int64), hint=hint), g.const(np.array(1, np.int64), hint=hint)
    rows = g.op("Unsqueeze", [g.op("Range", [zero, sizes[0], one], hint=hint), g.ints([1])], hint=hint)
    cols = g.op("Unsqueeze", [g.op("Range", [zero, sizes[1], one], hint=hint), g.ints([0])], hint=hint)
    cond = g.op(
        "LessOrEqual",
        [g.op("Sub", [cols, rows], hint=hint), g.const(np.array(k, np.int64), hint=hint)],
        hint=hint,
    )
    return g.op(
        "Where",
        [cond, g.const(np.array(below, dtype), hint=hint), g.const(np.array(above, dtype), hint=hint)],
        hint=hint,
    )
