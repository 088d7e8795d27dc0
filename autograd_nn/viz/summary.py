"""A table of a model, layer by layer (like torchinfo): output shapes, parameters, mult-adds.

>>> model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
>>> info = summary(model, input_shape=(32, 784), verbose=0)  # returns a ModelSummary quietly
>>> info.total_params, info.total_mult_adds
(101770, 3252224)

`summary` returns a ModelSummary and prints nothing itself, so `print(summary(model, shape))` in a
script shows the table exactly once, and a bare `summary(model, shape)` in a notebook or REPL shows
it once as the cell's value. (torchinfo also prints inside `summary` when run from a script, which
makes `print(summary(...))` show the table twice; pass `verbose=1` for that behaviour.)

One forward pass runs under `no_grad` in eval mode (BatchNorm statistics are left alone; each
module's train/eval flag is restored), with a pre-hook and a forward hook on every module, removed
afterwards also when forward raises. Rows follow the calls in order, indented by call depth (the
model is depth 0). Consecutive calls of one module by the same parent (a cell unrolled over time)
are one row marked 'x N'; a module called again later (a shared layer) gets a new row whose
parameters, already counted, show as '(shared)'. Columns:

- ``num_params``: the row's own parameters (not its children's), each counted once, where it first
  appears; ``trainable``: 'all', 'partial' or 'none' of them require grad ('--': there are none).
- ``mult_adds``: multiply-adds of the row's own work, summed over its calls. Linear: in * out per
  output row; Conv: output elements * in_channels / groups * prod(kernel) (transposed: input
  elements * out_channels / groups * prod(kernel)); MultiheadAttention: q/k/v projections, scores
  and the weighted sum (out_proj is a Linear row of its own); RNN/LSTM/GRU and cells: the input and
  hidden matmuls of every step; Bilinear and LoRALinear likewise; any other module 0.
- ``input_shape`` / ``output_shape`` of the first / last call; ``params_percent`` of all parameters.

A row whose children are hidden by `depth` shows the parameters and mult-adds of its whole subtree.
The totals count every parameter of the model once (also in modules forward did not call), the
mult-adds of every call, and the bytes of the inputs, of the outputs of the innermost modules (the
forward activations) and of the parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..dtypes import get_default_dtype
from ..grad_mode import no_grad
from ..nn.attention import MultiheadAttention
from ..nn.conv import _ConvNd
from ..nn.linear import Bilinear, Linear
from ..nn.lora import LoRALinear
from ..nn.module import Module
from ..nn.recurrent import RNNBase, RNNCellBase

__all__ = ["COLUMNS", "LayerInfo", "ModelSummary", "summary"]

COLUMNS = {
    "input_shape": "Input shape",
    "output_shape": "Output shape",
    "num_params": "Params",
    "params_percent": "Params %",
    "trainable": "Trainable",
    "mult_adds": "Mult-adds",
}
_SHOWN_OUTPUTS = 3  # most tensor shapes listed in one cell


@dataclass(eq=False)
class LayerInfo:
    """One row: a module call (or a run of consecutive calls of the same module)."""

    name: str  # dotted name in the model ('' for the model itself)
    class_name: str
    depth: int  # call depth: 0 for the model, 1 for what it calls, ...
    module: Module = field(repr=False)
    shared: bool = False  # the module already had a row (a shared layer called again)
    calls: int = 0
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)  # of the first call
    output_shapes: list[tuple[int, ...]] = field(default_factory=list)  # of the last call
    num_params: int = 0  # own parameters not counted in an earlier row
    trainable_params: int = 0  # of those, the ones that require grad
    mult_adds: int = 0  # own, summed over the calls
    output_bytes: int = 0  # bytes of the outputs, summed over the calls
    children: list[LayerInfo] = field(default_factory=list, repr=False)

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        """The shape of the (first) output tensor, or None if it returned no tensor."""
        return self.output_shapes[0] if self.output_shapes else None

    @property
    def total_params(self) -> int:
        """Parameters of this row and the rows below it."""
        return self.num_params + sum(c.total_params for c in self.children)

    @property
    def total_trainable_params(self) -> int:
        return self.trainable_params + sum(c.total_trainable_params for c in self.children)

    @property
    def total_mult_adds(self) -> int:
        """Mult-adds of this row and the rows below it."""
        return self.mult_adds + sum(c.total_mult_adds for c in self.children)

    @property
    def trainable(self) -> str:
        """'all', 'partial' or 'none' of the own parameters require grad; '--' if there are none."""
        return _trainable_text(self.num_params, self.trainable_params)


@dataclass(eq=False)
class ModelSummary:
    """What `summary` found: the rows (`layers`) and the totals, printable as a table."""

    layers: list[LayerInfo]  # every row, all depths, in call order
    total_params: int
    trainable_params: int
    input_bytes: int
    activation_bytes: int
    params_bytes: int
    depth: int = 3
    col_names: tuple[str, ...] = ("output_shape", "num_params", "trainable", "mult_adds")

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_mult_adds(self) -> int:
        return sum(row.mult_adds for row in self.layers)

    @property
    def total_bytes(self) -> int:
        """Inputs, forward activations and parameters together."""
        return self.input_bytes + self.activation_bytes + self.params_bytes

    def layer(self, name: str) -> LayerInfo:
        """The first row of the module with this dotted name ('' for the model)."""
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"ModelSummary: no row named {name!r}; rows: {[r.name for r in self.layers]}")

    def __str__(self) -> str:  # the table
        return _format(self)

    __repr__ = __str__


def summary(
    model: Module,
    input_shape: Any = None,
    input_data: Any = None,
    dtypes: Sequence[Any] | None = None,
    depth: int = 3,
    col_names: Sequence[str] = ("output_shape", "num_params", "trainable", "mult_adds"),
    verbose: int = 0,
) -> ModelSummary:
    """Run `model` once on made-up (or given) inputs and tabulate its layers (see module docs).

    Args:
        model: the Module to describe.
        input_shape: the shape of the input, batch dimension included, e.g. ``(32, 3, 28, 28)``;
            a list of shapes for a model taking several inputs. Float inputs are standard normal
            (seeded, the global random state is untouched); integer and bool inputs are zeros.
        input_data: instead of `input_shape`, the inputs themselves: a Tensor or array, a list or
            tuple of them (positional arguments) or a dict (keyword arguments).
        dtypes: one dtype per shape in `input_shape` (default: the default float dtype).
        depth: show rows down to this call depth (0: the model only); deeper rows are folded into
            their parent row.
        col_names: the columns after the layer name, from the keys of `COLUMNS`.
        verbose: 0 (the default) returns the summary quietly; 1 also prints the table.

    Returns:
        A `ModelSummary`: the rows and totals as attributes; `str()` gives the table.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a Module, got {type(model).__name__}")
    if not isinstance(depth, int) or depth < 0:
        raise ValueError(f"summary: depth must be a non-negative int, got {depth!r}")
    if verbose not in (0, 1) or isinstance(verbose, bool):
        raise ValueError(f"summary: verbose must be 0 (quiet) or 1 (print the table), got {verbose!r}")
    col_names = tuple(col_names)
    unknown = [c for c in col_names if c not in COLUMNS]
    if unknown:
        raise ValueError(f"summary: unknown column(s) {unknown}; choose from {list(COLUMNS)}")
    args, kwargs = _make_inputs(input_shape, input_data, dtypes)
    layers = _run(model, args, kwargs)
    _count_params(layers)
    params = list(model.parameters())
    result = ModelSummary(
        layers,
        total_params=sum(p._data.size for p in params),
        trainable_params=sum(p._data.size for p in params if p.requires_grad),
        input_bytes=_nbytes([args, kwargs]),
        activation_bytes=sum(row.output_bytes for row in layers if not row.children),
        params_bytes=sum(p._data.nbytes for p in params),
        depth=depth,
        col_names=col_names,
    )
    if verbose:
        print(result)
    return result


# ---- inputs -------------------------------------------------------------------------------------
def _make_inputs(input_shape: Any, input_data: Any, dtypes: Sequence[Any] | None) -> tuple[list, dict]:
    """Positional and keyword arguments for the forward pass."""
    if (input_shape is None) == (input_data is None):
        raise ValueError("summary: give exactly one of input_shape or input_data")
    if isinstance(input_data, dict):
        return [], {k: _as_input(v) for k, v in input_data.items()}
    if input_data is not None:
        many = isinstance(input_data, (list, tuple))
        return [_as_input(v) for v in (input_data if many else [input_data])], {}
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (input_shape,)
    single = all(isinstance(d, (int, np.integer)) for d in input_shape)
    shapes = [tuple(input_shape)] if single else [tuple(s) for s in input_shape]
    for s in shapes:
        if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in s):
            raise ValueError(f"summary: input shapes must be tuples of non-negative ints, got {s}")
    kinds = [get_default_dtype()] * len(shapes) if dtypes is None else [np.dtype(d) for d in dtypes]
    if len(kinds) != len(shapes):
        raise ValueError(f"summary: {len(shapes)} input shape(s) but {len(kinds)} dtype(s)")
    rng = np.random.default_rng(0)
    return [
        as_tensor((rng.standard_normal(shape) if dtype.kind in "fc" else np.zeros(shape)).astype(dtype))
        for shape, dtype in zip(shapes, kinds)
    ], {}


def _as_input(value: Any) -> Any:
    return Tensor(value) if isinstance(value, np.ndarray) else value


def _tensors(value: Any) -> list[Tensor]:
    """The tensors in a (possibly nested) output or argument structure, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [t for v in value for t in _tensors(v)] if isinstance(value, (list, tuple)) else []


def _nbytes(value: Any) -> int:
    return sum(t._data.nbytes for t in _tensors(value))


# ---- the forward pass with hooks ------------------------------------------------------------
def _run(model: Module, args: list, kwargs: dict) -> list[LayerInfo]:
    """Call the model once with hooks on every module; the rows, in call order."""
    names: dict[int, list[str]] = {}
    for name, m in model.named_modules(remove_duplicate=False):
        names.setdefault(id(m), []).append(name)
    rows: list[LayerInfo] = []  # every row, in call order
    top: list[LayerInfo] = []  # rows called from outside any module (the model)
    stack: list[LayerInfo] = []  # the rows whose forward is running
    calls_under: dict[tuple[int, int], int] = {}  # (parent row, module) -> rows made so far
    seen: set[int] = set()

    def pre_hook(module: Module, inputs: tuple) -> None:
        parent = stack[-1] if stack else None
        siblings = parent.children if parent is not None else top
        if siblings and siblings[-1].module is module:  # called again right away: same row
            row = siblings[-1]
        else:
            key = (id(parent), id(module))
            count = calls_under.get(key, 0)
            calls_under[key] = count + 1
            name = _call_name(names[id(module)], parent.name if parent else None, count)
            row = LayerInfo(name, type(module).__name__, len(stack), module, shared=id(module) in seen)
            seen.add(id(module))
            rows.append(row)
            siblings.append(row)
        row.calls += 1
        if row.calls == 1:
            row.input_shapes = [tuple(t.shape) for t in _tensors(inputs)]
        stack.append(row)

    def hook(module: Module, inputs: tuple, output: Any) -> None:
        row = stack.pop()
        row.output_shapes = [tuple(t.shape) for t in _tensors(output)]
        row.output_bytes += _nbytes(output)
        row.mult_adds += _mult_adds(module, inputs, output)

    modules = list(model.modules())
    modes = [m.training for m in modules]
    handles = []
    try:
        for m in modules:
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(hook))
        model.eval()
        with no_grad():
            model(*args, **kwargs)
    except Exception as exc:
        shapes = [tuple(t.shape) for t in _tensors([args, kwargs])]
        exc.add_note(
            f"summary: the forward pass of {type(model).__name__} failed on input(s) of shape {shapes}"
        )
        raise
    finally:
        for h in handles:
            h.remove()
        for m, mode in zip(modules, modes):
            m.training = mode
    return rows


def _call_name(candidates: list[str], parent: str | None, count: int) -> str:
    """The dotted name of the `count`-th row of a module under a parent row named `parent`.

    A module registered under several names (Sequential(a, b, a)) takes them in turn; a module
    called by an ancestor rather than its owner (the layers of a ModuleList) keeps its full name.
    """
    if parent is not None:
        prefix = f"{parent}." if parent else ""
        direct = [n for n in candidates if n.startswith(prefix) and "." not in n[len(prefix) :]]
        below = [n for n in candidates if n.startswith(prefix)]
        candidates = direct or below or candidates
    return candidates[count % len(candidates)]


def _count_params(rows: list[LayerInfo]) -> None:
    """Give each row its own parameters, each parameter to the first row that has it."""
    seen: set[int] = set()
    for row in rows:
        own = [p for p in row.module._parameters.values() if p is not None and id(p) not in seen]
        seen.update(id(p) for p in own)
        row.num_params = sum(p._data.size for p in own)
        row.trainable_params = sum(p._data.size for p in own if p.requires_grad)


def _mult_adds(module: Module, inputs: tuple, output: Any) -> int:
    """Multiply-adds of one call of `module` itself (not of the modules it calls)."""
    ins, outs = _tensors(inputs), _tensors(output)
    if not outs:
        return 0
    x_size, y = (ins[0]._data.size if ins else 0), outs[0]  # inputs given by keyword: not seen
    if isinstance(module, LoRALinear):  # the low-rank path; base_layer has its own row
        return (
            0
            if module.merged
            else x_size // module.in_features * module.r * (module.in_features + module.out_features)
        )
    if isinstance(module, Linear):
        return y._data.size // module.out_features * module.weight._data.size
    if isinstance(module, Bilinear):
        return y._data.size * module.in1_features * module.in2_features
    if isinstance(module, _ConvNd):
        w = module.weight._data
        if module._transposed:  # each input element feeds out/groups * prod(kernel) outputs
            return x_size * (w.size // module.in_channels)
        return y._data.size * (w.size // module.out_channels)
    if isinstance(module, MultiheadAttention):
        return _attention_mult_adds(module, ins) if ins else 0
    if isinstance(module, RNNBase):  # each step, layer, direction: x W_ih^T, h W_hh^T (h W_hr^T)
        steps = x_size // module.input_size  # T * B
        return steps * sum(
            w._data.size for n, w in module._parameters.items() if n.startswith("weight_") and w is not None
        )
    if isinstance(module, RNNCellBase):
        rows = x_size // module.input_size
        return rows * (module.weight_ih._data.size + module.weight_hh._data.size)
    return 0


def _attention_mult_adds(module: MultiheadAttention, ins: list[Tensor]) -> int:
    """q/k/v projections, scores q k^T and the weighted sum of v (out_proj is counted apart).

    Query, key and value are the first three positional arguments; a key or value passed by keyword
    is taken to be the query (self-attention).
    """
    q = ins[0]
    k = ins[1] if len(ins) > 1 else q
    v = ins[2] if len(ins) > 2 else k
    e, batch = module.embed_dim, 1 if q.ndim == 2 else q.shape[0 if module.batch_first else 1]
    q_rows, k_rows = q._data.size // e, k._data.size // module.kdim  # L * N, S * N
    v_rows = v._data.size // module.vdim
    keys = k_rows // max(batch, 1) + (module.bias_k is not None) + bool(module.add_zero_attn)
    projections = (q_rows * e + k_rows * module.kdim + v_rows * module.vdim) * e
    return projections + 2 * q_rows * keys * e  # scores and weighted sum: N * L * S * E each


# ---- the table ----------------------------------------------------------------------------------
def _trainable_text(count: int, trainable: int) -> str:
    if count == 0:
        return "--"
    return "all" if trainable == count else ("none" if trainable == 0 else "partial")


def _shapes_text(shapes: list[tuple[int, ...]]) -> str:
    if not shapes:
        return "--"
    text = ", ".join("[" + ", ".join(map(str, s)) + "]" for s in shapes[:_SHOWN_OUTPUTS])
    more = len(shapes) - _SHOWN_OUTPUTS
    return text + (f", +{more} more" if more > 0 else "")


def _cells(row: LayerInfo, info: ModelSummary) -> list[str]:
    folded = bool(row.children) and row.depth >= info.depth
    params = row.total_params if folded else row.num_params
    trainable = row.total_trainable_params if folded else row.trainable_params
    mult_adds = row.total_mult_adds if folded else row.mult_adds
    has_own = any(p is not None for p in row.module._parameters.values())
    values = {
        "input_shape": _shapes_text(row.input_shapes),
        "output_shape": _shapes_text(row.output_shapes),
        "num_params": (
            f"{params:,}" if params else "(shared)" if row.shared and (has_own or folded) else "--"
        ),
        "params_percent": (
            f"{100.0 * params / info.total_params:.1f}%" if params and info.total_params else "--"
        ),
        "trainable": _trainable_text(params, trainable),
        "mult_adds": f"{mult_adds:,}" if mult_adds else "--",
    }
    label = (f"{row.name} ({row.class_name})" if row.name else row.class_name) + (
        f" x{row.calls}" if row.calls > 1 else ""
    )
    return ["  " * row.depth + label] + [values[c] for c in info.col_names]


def _format(info: ModelSummary) -> str:
    header = ["Layer (type)"] + [COLUMNS[c] for c in info.col_names]
    shown = [row for row in info.layers if row.depth <= info.depth]
    body = [_cells(row, info) for row in shown]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]).rstrip()

    rule = "=" * max(len(line(header)), 40)
    counted = sum(row.num_params for row in info.layers)
    out = [
        rule,
        line(header),
        rule,
        *map(line, body),
        rule,
        f"Total params: {info.total_params:,}",
        f"Trainable params: {info.trainable_params:,}",
        f"Non-trainable params: {info.non_trainable_params:,}",
        f"Total mult-adds: {_si(info.total_mult_adds)}",
        "-" * len(rule),
        f"Input size: {_bytes(info.input_bytes)}",
        f"Forward activation size: {_bytes(info.activation_bytes)}",
        f"Params size: {_bytes(info.params_bytes)}",
        f"Estimated total size: {_bytes(info.total_bytes)}",
        rule,
    ]
    if len(shown) < len(info.layers):
        out.append(f"Rows deeper than depth={info.depth} are folded into their parent row.")
    if counted < info.total_params:
        out.append(f"{info.total_params - counted:,} parameters belong to modules that forward did not call.")
    return "\n".join(out)


def _si(n: int) -> str:
    """'3,256,320 (3.26 M)'."""
    if n < 1000:
        return f"{n:,}"
    power = min(int(math.log10(n)) // 3, 4)
    return f"{n:,} ({n / 10 ** (3 * power):.2f} {' KMGT'[power]})"


def _bytes(n: int) -> str:
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            break
        value /= 1024
    return f"{n:,} B" if unit == "B" else f"{value:.2f} {unit} ({n:,} B)"
