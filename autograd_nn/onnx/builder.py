"""GraphBuilder: the ONNX graph being written (nodes, initializers, fresh names), and the one
place that imports `onnx` (lazily: it is an optional extra).

Shapes that vary at run time. When the export has dynamic axes, the model is traced twice: once on
the given inputs and once with every dynamic axis resized (by a different amount per axis name). A
dimension whose two sizes differ is dynamic. Wherever ONNX needs a shape as a tensor (Reshape,
Expand, ConstantOfShape, Range), `shape_of` builds it: static sizes are constants, and a dynamic
size is read at run time (`Shape` with start/end) from a tensor of the graph whose dimension had
the same pair of sizes in the two traces (the op's own inputs first, then the graph inputs), or
derived from one as `c * size` or `size + c`. Reshape lets -1 stand for a single size it cannot
find exactly (safer than a derived guess: two sizes may grow in the same ratio by coincidence).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np

from ..errors import AutogradError

Pair = tuple[int, int]  # a dimension's size in the main trace and in the resized one


class ExportError(AutogradError, NotImplementedError):
    """The model cannot be exported as asked: an op with no ONNX mapping, a shape that cannot be
    made dynamic, an input that is not a Tensor. The message names the op and the module."""


def require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "autograd_nn.onnx.export needs the 'onnx' package: pip install "
            "'autograd-nn[onnx]' (or pip install onnx)"
        ) from None
    return onnx


_DTYPES = {
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "float16": "FLOAT16",
    "int64": "INT64",
    "int32": "INT32",
    "int16": "INT16",
    "int8": "INT8",
    "uint8": "UINT8",
    "bool": "BOOL",
}


class GraphBuilder:
    def __init__(self, opset: int) -> None:
        self.onnx = require_onnx()
        self.helper = self.onnx.helper
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = set()
        self._consts: dict[tuple, str] = {}
        # (value name, shape pairs) of tensors whose dims may be read at run time, in order
        self.shape_sources: list[tuple[str, tuple[Pair, ...]]] = []

    # ---- names, nodes, constants -------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c in "._/-" else "_" for c in hint) or "v"
        name, n = base, 0
        while name in self._used:
            n += 1
            name = f"{base}_{n}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> str:
        if name in self._used:
            raise ExportError(f"onnx.export: the name {name!r} is used twice")
        self._used.add(name)
        return name

    def op(
        self,
        op_type: str,
        inputs: Sequence[str],
        outputs: int | Sequence[str] = 1,
        hint: str = "",
        **attrs: Any,
    ) -> Any:
        """Add a node; returns its output name (or the list of names when outputs > 1)."""
        names = (
            [
                self.fresh(f"{hint or op_type}_out{i}" if outputs > 1 else (hint or op_type))
                for i in range(outputs)
            ]
            if isinstance(outputs, int)
            else list(outputs)
        )
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            self.helper.make_node(
                op_type, list(inputs), names, name=self.fresh(f"n_{hint or op_type}"), **attrs
            )
        )
        return names[0] if isinstance(outputs, int) and outputs == 1 else names

    def tensor_type(self, dtype: np.dtype) -> int:
        key = _DTYPES.get(np.dtype(dtype).name)
        if key is None:
            raise ExportError(f"onnx.export: dtype {np.dtype(dtype)} has no ONNX equivalent here")
        return getattr(self.onnx.TensorProto, key)

    def initializer(self, name: str, array: np.ndarray) -> str:
        self.tensor_type(array.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, array: Any, dtype: Any = None, hint: str = "const") -> str:
        """An initializer holding `array`; small ones are shared by value."""
        arr = np.asarray(array, dtype=dtype)
        key = None
        if arr.size <= 16:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.initializer(self.fresh(hint), arr)
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values: Iterable[int]) -> str:
        return self.const(np.array(list(values), dtype=np.int64), hint="ints")

    def scalar_like(self, value: float, dtype: np.dtype) -> str:
        return self.const(np.array(value, dtype=dtype), hint="scalar")

    # ---- shapes that may vary at run time ------------------------------------------------------
    def add_shape_source(self, name: str, pairs: tuple[Pair, ...]) -> None:
        if any(a != b for a, b in pairs):
            self.shape_sources.append((name, pairs))

    def dim(
        self, pair: Pair, local: Sequence[tuple[str, tuple[Pair, ...]]] = (), derived: bool = True
    ) -> str | None:
        """A 1-element int64 tensor holding a dimension's size at run time, or None if unknown."""
        if pair[0] == pair[1]:
            return self.ints([pair[0]])
        candidates = list(local) + self.shape_sources
        for name, pairs in candidates:
            for axis, p in enumerate(pairs):
                if p == pair:
                    return self._size(name, axis)
        if not derived:
            return None
        for name, pairs in candidates:
            for axis, (s0, s1) in enumerate(pairs):
                if s0 == s1:
                    continue
                if pair[0] * s1 == pair[1] * s0 and pair[0] % s0 == 0:
                    size = self._size(name, axis)
                    return self.op("Mul", [size, self.ints([pair[0] // s0])], hint="dim")
                if pair[0] - s0 == pair[1] - s1:
                    size = self._size(name, axis)
                    return self.op("Add", [size, self.ints([pair[0] - s0])], hint="dim")
        return None

    def _size(self, name: str, axis: int) -> str:
        """[size of `name` along `axis`] at run time, as a 1-element int64 tensor."""
        return self.op(
            "Gather", [self.op("Shape", [name], hint="dim"), self.ints([axis])], hint="dim", axis=0
        )

    def shape_of(
        self,
        pairs: Sequence[Pair],
        local: Sequence[tuple[str, tuple[Pair, ...]]] = (),
        allow_infer: bool = False,
        what: str = "",
    ) -> str:
        """An int64 shape tensor for `pairs`; with `allow_infer` one unknown size may become -1."""
        if all(a == b for a, b in pairs):
            return self.ints([a for a, _ in pairs])
        exact = [self.dim(pair, local, derived=False) for pair in pairs]
        missing = [i for i, part in enumerate(exact) if part is None]
        parts = list(exact)
        if allow_infer and len(missing) == 1:  # -1: the one size the element count determines
            parts[missing[0]] = self.ints([-1])
        else:
            for i in missing:
                parts[i] = self.dim(pairs[i], local)
                if parts[i] is None:
                    raise ExportError(
                        f"onnx.export: {what}: cannot tell at run time the size of a "
                        f"dimension that was {pairs[i][0]} here and {pairs[i][1]} "
                        "with the dynamic axes resized; export with fewer dynamic "
                        "axes"
                    )
        # every None was filled above
        return self.op("Concat", cast(list[str], parts), hint="shape", axis=0)
