"""Random differentiable programs: a generator, an interpreter for autograd_nn and PyTorch, a checker.

A *program* is a small JSON-able dict::

    {"seed": 7, "ops": [{"op": "input", "shape": [2, 3]},
                        {"op": "tanh", "args": [0]},
                        {"op": "sum", "args": [1], "dims": [1], "keepdim": false}]}

Each entry appends one value ("slot"); `args` are indices of earlier slots. `input` entries are leaves
that require grad; their data is drawn, in order, from `numpy.random.default_rng(seed)`. The program's
outputs are the slots that no later entry reads. A program can therefore be saved as one line of JSON,
replayed exactly, and kept in `tests/fuzz_corpus/` as a regression test.

`generate(chooser)` builds a random program, tracking shapes so every op is valid: unary ops with safe
domains (exp on clamped inputs, log/sqrt on inputs made positive), broadcasting binary ops (some with
fresh broadcastable inputs), reductions over random dims with random keepdim, reshapes, transposes,
basic and advanced indexing, cat/stack, matmul with matching inner dims, softmax / log_softmax /
logsumexp. The chooser is either hypothesis' `data` (so failures shrink) or a seeded `random.Random`
(fast long runs: `python tests/fuzz_programs.py -n 2000`).

`check_program(program, torch)` runs it in float64 and checks (1) every value stays float64 and float32
programs stay float32, (2) the gradients against central finite differences (`autograd_nn.gradcheck`),
(3) when `torch` is given, every intermediate value and every leaf gradient against PyTorch running
the same program. A failure raises `FuzzFailure` whose message holds the program as replayable JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autograd_nn as ag
import autograd_nn.functional as agF

MAX_NUMEL = 48  # elements per value: small enough for element-wise finite differences
MAX_NDIM = 4
MAX_SIDE = 4
MAGNITUDE_CAP = 1e4  # programs whose values leave this range are "degenerate" (finite differences lose
# their precision there); they are skipped, not failed
CORPUS = Path(__file__).with_name("fuzz_corpus")


class FuzzFailure(AssertionError):
    """A program whose values or gradients are wrong; the message holds the program as JSON."""


class Degenerate(Exception):
    """A program whose values overflow the range where finite differences are meaningful."""


# ---- choosers: where the randomness comes from ------------------------------------------------------
class RandomChooser:
    """Draws from a seeded `random.Random` (fast; no shrinking)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, seq: list) -> Any:
        return seq[self.integer(0, len(seq) - 1)]

    def boolean(self) -> bool:
        return self.integer(0, 1) == 1


class HypothesisChooser(RandomChooser):
    """Draws from hypothesis' `st.data()` object, so failing programs shrink to small ones."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))


# ---- the vocabulary ------------------------------------------------------------------------------
# Each op: how to evaluate it with a library (`L` is autograd_nn or torch, `F` its functional module)
# and how to build it (choose params, add fresh inputs, return the output shape).

UNARY: dict[str, Callable] = {
    "neg": lambda L, F, x: -x,
    "tanh": lambda L, F, x: x.tanh(),
    "sigmoid": lambda L, F, x: x.sigmoid(),
    "sin": lambda L, F, x: x.sin(),
    "cos": lambda L, F, x: x.cos(),
    "atan": lambda L, F, x: x.atan(),
    "erf": lambda L, F, x: x.erf(),
    "exp": lambda L, F, x: x.clamp(-4.0, 4.0).exp(),
    "expm1": lambda L, F, x: x.clamp(max=3.0).expm1(),
    "log": lambda L, F, x: (x.abs() + 0.5).log(),
    "log_softplus": lambda L, F, x: (F.softplus(x) + 0.1).log(),
    "log1p": lambda L, F, x: (x * x).log1p(),
    "sqrt": lambda L, F, x: (x * x + 0.25).sqrt(),
    "sqrt_softplus": lambda L, F, x: (F.softplus(x) + 0.05).sqrt(),
    "rsqrt": lambda L, F, x: (x.square() + 1.0).rsqrt(),
    "reciprocal": lambda L, F, x: (x * x + 1.0).reciprocal(),
    "square": lambda L, F, x: x.square(),
    "abs": lambda L, F, x: x.abs(),
    "relu": lambda L, F, x: F.relu(x),
    "leaky_relu": lambda L, F, x: F.leaky_relu(x, 0.1),
    "gelu": lambda L, F, x: F.gelu(x),
    "gelu_tanh": lambda L, F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda L, F, x: F.silu(x),
    "elu": lambda L, F, x: F.elu(x),
    "softplus": lambda L, F, x: F.softplus(x),
    "logsigmoid": lambda L, F, x: F.logsigmoid(x),
    "mish": lambda L, F, x: F.mish(x),
    "hardtanh": lambda L, F, x: F.hardtanh(x),
    "mul_scalar": lambda L, F, x: x * 1.7,
    "rmul_scalar": lambda L, F, x: 0.6 * x,
    "add_scalar": lambda L, F, x: x + 0.3,
    "rsub_scalar": lambda L, F, x: 1.5 - x,
    "div_scalar": lambda L, F, x: x / 2.5,
    "rdiv_scalar": lambda L, F, x: 1.0 / (x * x + 1.0),
    "pow2": lambda L, F, x: x**2,
    "pow3": lambda L, F, x: x**3,
    "pow_frac": lambda L, F, x: (x * x + 0.5) ** 1.5,
    "rpow": lambda L, F, x: 2.0 ** x.tanh(),
    "clone": lambda L, F, x: x.clone(),
}

BINARY: dict[str, Callable] = {
    "add": lambda L, F, a, b: a + b,
    "sub": lambda L, F, a, b: a - b,
    "mul": lambda L, F, a, b: a * b,
    "div": lambda L, F, a, b: a / (b * b + 0.5),
    "maximum": lambda L, F, a, b: L.maximum(a, b),
    "minimum": lambda L, F, a, b: L.minimum(a, b),
    "where": lambda L, F, a, b: L.where(a > 0, a, b),
    "pow": lambda L, F, a, b: (a * a + 0.5) ** b.tanh(),
    "atan2": lambda L, F, a, b: L.atan2(a, b * b + 0.5),
}


def _dims(e: dict) -> Any:
    return tuple(e["dims"])


OTHER: dict[str, Callable] = {
    # reductions
    "sum": lambda L, F, x, e: x.sum(dim=_dims(e), keepdim=e["keepdim"]) if e["dims"] else x.sum(),
    "mean": lambda L, F, x, e: x.mean(dim=_dims(e), keepdim=e["keepdim"]) if e["dims"] else x.mean(),
    "amax": lambda L, F, x, e: x.amax(dim=_dims(e), keepdim=e["keepdim"]),
    "max_dim": lambda L, F, x, e: x.max(e["dim"], keepdim=e["keepdim"]).values,
    "min_dim": lambda L, F, x, e: x.min(e["dim"], keepdim=e["keepdim"]).values,
    "logsumexp": lambda L, F, x, e: x.logsumexp(dim=_dims(e), keepdim=e["keepdim"]),
    "var": lambda L, F, x, e: x.var(dim=_dims(e), correction=0, keepdim=e["keepdim"]),
    "prod": lambda L, F, x, e: x.tanh().prod(e["dim"], keepdim=e["keepdim"]),
    "norm": lambda L, F, x, e: x.norm(),
    "norm_dim": lambda L, F, x, e: x.norm(dim=e["dim"], keepdim=e["keepdim"]),
    "cumsum": lambda L, F, x, e: x.cumsum(e["dim"]),
    # softmax family
    "softmax": lambda L, F, x, e: x.softmax(e["dim"]),
    "log_softmax": lambda L, F, x, e: x.log_softmax(e["dim"]),
    "F_softmax": lambda L, F, x, e: F.softmax(x, dim=e["dim"]),
    "layer_norm": lambda L, F, x, e: F.layer_norm(x, (x.shape[-1],)),
    # movement
    "reshape": lambda L, F, x, e: x.reshape(tuple(e["shape"])),
    "transpose": lambda L, F, x, e: x.transpose(e["dim0"], e["dim1"]),
    "permute": lambda L, F, x, e: x.permute(*e["perm"]),
    "unsqueeze": lambda L, F, x, e: x.unsqueeze(e["dim"]),
    "squeeze": lambda L, F, x, e: x.squeeze(e["dim"]),
    "flatten": lambda L, F, x, e: x.flatten(e["start"], e["end"]),
    "flip": lambda L, F, x, e: x.flip(e["dims"]),
    "expand": lambda L, F, x, e: x.expand(*e["shape"]),
    "slice": lambda L, F, x, e: x[_basic_index(e["index"])],
    "take": lambda L, F, x, e: x[L.tensor(e["index"])],
    "index_select": lambda L, F, x, e: x.index_select(e["dim"], L.tensor(e["index"])),
    "chunk": lambda L, F, x, e: x.chunk(e["chunks"], e["dim"])[e["which"]],
}

MULTI: dict[str, Callable] = {
    "cat": lambda L, F, xs, e: L.cat(xs, dim=e["dim"]),
    "stack": lambda L, F, xs, e: L.stack(xs, dim=e["dim"]),
    "matmul": lambda L, F, xs, e: xs[0] @ xs[1],
}


def _basic_index(spec: list) -> tuple:
    """JSON index spec -> tuple of ints and slices: an int, or [start, stop, step] for a slice."""
    return tuple(s if isinstance(s, int) else slice(*s) for s in spec)


# ---- the generator -------------------------------------------------------------------------------
class _Builder:
    """Grows a program while tracking every slot's shape."""

    def __init__(self, ch: RandomChooser) -> None:
        self.ch = ch
        self.ops: list[dict] = []
        self.shapes: list[tuple] = []

    def add(self, entry: dict, shape: tuple) -> int:
        self.ops.append(entry)
        self.shapes.append(tuple(shape))
        return len(self.ops) - 1

    def new_input(self, shape: tuple) -> int:
        return self.add({"op": "input", "shape": list(shape)}, shape)

    def random_shape(self, min_dims: int = 0, max_dims: int = 3) -> tuple:
        ndim = self.ch.integer(min_dims, max_dims)
        shape = tuple(self.ch.integer(1, MAX_SIDE) for _ in range(ndim))
        while math.prod(shape) > MAX_NUMEL:
            shape = shape[1:]
        return shape

    def pick(self) -> int:
        """A slot, biased to recent ones so programs are deep rather than wide."""
        n = len(self.shapes)
        back = self.ch.integer(0, min(n - 1, 5))
        return n - 1 - back if self.ch.integer(0, 3) else self.ch.integer(0, n - 1)

    def broadcast_partner(self, shape: tuple) -> int:
        """An existing slot that broadcasts with `shape`, or a fresh input that does."""
        if self.ch.boolean():
            for i in reversed(range(len(self.shapes))):
                try:
                    out = np.broadcast_shapes(shape, self.shapes[i])
                except ValueError:
                    continue
                if math.prod(out) <= MAX_NUMEL and self.ch.integer(0, 2):
                    return i
        kind = self.ch.integer(0, 3)
        if kind == 0 or not shape:
            new = shape
        elif kind == 1:  # a suffix of the shape (leading dims broadcast)
            new = shape[self.ch.integer(1, len(shape)) :]
        elif kind == 2:  # some dims set to 1
            new = tuple(1 if self.ch.boolean() else n for n in shape)
        else:  # an extra leading dim (the result grows)
            new = (self.ch.integer(1, 2),) + shape
            if math.prod(new) > MAX_NUMEL or len(new) > MAX_NDIM:
                new = shape
        return self.new_input(new)


def _reduce_dims(b: _Builder, shape: tuple, allow_all: bool = True) -> list:
    if not shape:
        return []
    dims = [d for d in range(len(shape)) if b.ch.boolean()]
    if not dims:
        dims = [b.ch.integer(0, len(shape) - 1)] if not allow_all or b.ch.boolean() else []
    return [d - len(shape) if b.ch.boolean() else d for d in dims]  # some negative dims


def _reduced(shape: tuple, dims: list, keepdim: bool) -> tuple:
    axes = {d % len(shape) for d in dims} if dims else set(range(len(shape)))
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _factorize(b: _Builder, numel: int) -> tuple:
    """A random shape with `numel` elements (at most MAX_NDIM dims, ones allowed)."""
    dims = []
    rest = numel
    while rest > 1 and len(dims) < MAX_NDIM - 1:
        divisors = [d for d in range(2, rest + 1) if rest % d == 0]
        d = b.ch.choice(divisors)
        dims.append(d)
        rest //= d
    if rest > 1:
        dims.append(rest)
    if len(dims) < MAX_NDIM and b.ch.integer(0, 3) == 0:
        dims.insert(b.ch.integer(0, len(dims)), 1)
    for k in range(len(dims) - 1, 0, -1):  # shuffle with the chooser, so hypothesis can shrink it
        j = b.ch.integer(0, k)
        dims[k], dims[j] = dims[j], dims[k]
    if b.ch.boolean() and dims:
        dims[b.ch.integer(0, len(dims) - 1)] = -1  # let reshape infer one dim
    return tuple(dims)


def _build_other(b: _Builder, name: str, i: int) -> int | None:
    """Add op `name` reading slot `i` (plus partners); the new slot, or None if it does not apply."""
    ch, shape = b.ch, b.shapes[i]
    nd = len(shape)
    entry: dict[str, Any] = {"op": name, "args": [i]}
    if name in ("sum", "mean", "amax", "logsumexp", "var"):
        if nd == 0 and name in ("amax", "logsumexp", "var"):
            return None
        dims = _reduce_dims(b, shape, allow_all=name in ("sum", "mean"))
        if name in ("amax", "logsumexp", "var") and not dims:
            dims = list(range(nd))
        keep = ch.boolean()
        entry.update(dims=dims, keepdim=keep)
        return b.add(entry, _reduced(shape, dims, keep) if dims else ())
    if name in ("max_dim", "min_dim", "prod", "norm_dim"):
        if nd == 0:
            return None
        d = ch.integer(-nd, nd - 1)
        keep = ch.boolean()
        entry.update(dim=d, keepdim=keep)
        return b.add(entry, _reduced(shape, [d], keep))
    if name == "norm":
        return b.add(entry, ())
    if name in ("cumsum", "softmax", "log_softmax", "F_softmax"):
        if nd == 0:
            return None
        entry.update(dim=ch.integer(-nd, nd - 1))
        return b.add(entry, shape)
    if name == "layer_norm":
        if nd == 0 or shape[-1] < 2:
            return None
        return b.add(entry, shape)
    if name == "reshape":
        new = _factorize(b, math.prod(shape))
        entry.update(shape=list(new))
        known = math.prod(n for n in new if n != -1)
        return b.add(entry, tuple(math.prod(shape) // known if n == -1 else n for n in new))
    if name == "transpose":
        if nd < 2:
            return None
        d0, d1 = ch.integer(0, nd - 1), ch.integer(-nd, nd - 1)
        entry.update(dim0=d0, dim1=d1)
        out = list(shape)
        out[d0], out[d1] = out[d1], out[d0]
        return b.add(entry, out)
    if name == "permute":
        if nd < 2:
            return None
        perm = list(range(nd))
        for k in range(nd - 1, 0, -1):  # Fisher-Yates with the chooser, so it shrinks
            j = ch.integer(0, k)
            perm[k], perm[j] = perm[j], perm[k]
        entry.update(perm=perm)
        return b.add(entry, [shape[p] for p in perm])
    if name == "unsqueeze":
        if nd >= MAX_NDIM:
            return None
        d = ch.integer(-nd - 1, nd)
        entry.update(dim=d)
        out = list(shape)
        out.insert(d % (nd + 1), 1)
        return b.add(entry, out)
    if name == "squeeze":
        ones = [d for d, n in enumerate(shape) if n == 1]
        if not ones:
            return None
        d = ch.choice(ones)
        entry.update(dim=d)
        return b.add(entry, shape[:d] + shape[d + 1 :])
    if name == "flatten":
        if nd < 2:
            return None
        s = ch.integer(0, nd - 2)
        e = ch.integer(s + 1, nd - 1)
        entry.update(start=s, end=e)
        return b.add(entry, shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])
    if name == "flip":
        if nd == 0:
            return None
        dims = sorted({ch.integer(0, nd - 1) for _ in range(ch.integer(1, nd))})
        entry.update(dims=dims)
        return b.add(entry, shape)
    if name == "expand":
        k = ch.integer(1, 3)
        new = tuple(ch.integer(1, 3) if n == 1 else n for n in shape)
        if math.prod(new) * k > MAX_NUMEL or nd >= MAX_NDIM:
            return None
        entry.update(shape=[k, *new])
        return b.add(entry, (k,) + new)
    if name == "slice":
        if nd == 0:
            return None
        spec, out = [], []
        for n in shape[: ch.integer(1, nd)]:
            if n > 1 and ch.integer(0, 3) == 0:
                spec.append(ch.integer(-n, n - 1))
                continue
            start = ch.integer(0, n - 1)
            stop = ch.integer(start + 1, n)
            step = ch.integer(1, 2)
            spec.append([start, stop, step])
            out.append(len(range(start, stop, step)))
        entry.update(index=spec)
        return b.add(entry, tuple(out) + shape[len(spec) :])
    if name in ("take", "index_select"):
        if nd == 0:
            return None
        d = 0 if name == "take" else ch.integer(0, nd - 1)
        count = ch.integer(1, 4)
        idx = [ch.integer(0, shape[d] - 1) for _ in range(count)]  # repeats: gradients must add up
        out = shape[:d] + (count,) + shape[d + 1 :]
        if math.prod(out) > MAX_NUMEL:
            return None
        entry.update(index=idx)
        if name == "index_select":
            entry.update(dim=d)
        return b.add(entry, out)
    if name == "chunk":
        if nd == 0:
            return None
        d = ch.integer(0, nd - 1)
        if shape[d] < 2:
            return None
        chunks = ch.integer(2, shape[d])
        size = -(-shape[d] // chunks)
        pieces = [min(size, shape[d] - s) for s in range(0, shape[d], size)]
        which = ch.integer(0, len(pieces) - 1)
        entry.update(dim=d, chunks=chunks, which=which)
        return b.add(entry, shape[:d] + (pieces[which],) + shape[d + 1 :])
    if name in ("cat", "stack"):
        if nd == 0 and name == "cat":
            return None
        k = ch.integer(2, 3)
        d = ch.integer(0, nd - 1 if name == "cat" else nd)
        args = [i]
        for _ in range(k - 1):
            mode = ch.integer(0, 2)
            if mode == 0:
                args.append(i)  # the same tensor twice: its gradient is the sum of both parts
            else:
                other = list(shape)
                if name == "cat":
                    other[d] = ch.integer(1, 3)
                same = [j for j, s in enumerate(b.shapes) if s == tuple(other)]
                args.append(ch.choice(same) if same and mode == 1 else b.new_input(tuple(other)))
        if name == "cat":
            out = list(shape)
            out[d] = sum(b.shapes[j][d] for j in args)
        else:
            out = list(shape)
            out.insert(d, k)
        if math.prod(out) > MAX_NUMEL or len(out) > MAX_NDIM:
            return None
        entry.update(args=args, dim=d if ch.boolean() else d - len(out) if name == "stack" else d - nd)
        return b.add(entry, out)
    if name == "matmul":
        if nd == 0:
            return None
        k = shape[-1]
        n = ch.integer(1, 4)
        options = [(k,), (k, n)]
        if nd >= 2 and nd < MAX_NDIM:
            options.append((ch.integer(1, 2), k, n))
        candidates = [j for j, s in enumerate(b.shapes) if len(s) >= 2 and s[-2] == k]
        if candidates and ch.boolean():
            j = ch.choice(candidates)
        else:
            j = b.new_input(ch.choice(options))
        try:
            out = np.matmul(np.zeros(shape), np.zeros(b.shapes[j])).shape
        except ValueError:
            return None
        if math.prod(out) > MAX_NUMEL or len(out) > MAX_NDIM:
            return None
        entry.update(args=[i, j])
        return b.add(entry, out)
    raise KeyError(name)


NAMES = sorted(UNARY) + sorted(BINARY) + sorted(OTHER) + sorted(MULTI)


def generate(ch: RandomChooser, min_ops: int = 5, max_ops: int = 30) -> dict:
    """A random program of `min_ops` to `max_ops` ops (not counting its inputs)."""
    b = _Builder(ch)
    seed = ch.integer(0, 2**31 - 1)
    for _ in range(ch.integer(1, 3)):
        b.new_input(b.random_shape())
    for _ in range(ch.integer(min_ops, max_ops)):
        i = b.pick()
        name = ch.choice(NAMES)
        if name in UNARY:
            b.add({"op": name, "args": [i]}, b.shapes[i])
        elif name in BINARY:
            j = b.broadcast_partner(b.shapes[i])
            args = [i, j] if ch.boolean() else [j, i]
            b.add({"op": name, "args": args}, np.broadcast_shapes(b.shapes[i], b.shapes[j]))
        else:
            # ops that do not fit this slot (e.g. transpose of a 0-d value) try the slot with the
            # most dims, then give up to a tanh
            widest = max(range(len(b.shapes)), key=lambda k: (len(b.shapes[k]), k))
            if _build_other(b, name, i) is None and _build_other(b, name, widest) is None:
                b.add({"op": "tanh", "args": [i]}, b.shapes[i])
    return {"seed": seed, "ops": b.ops}


# ---- the interpreter -----------------------------------------------------------------------------
def make_inputs(program: dict, dtype: Any = np.float64) -> list[np.ndarray]:
    """The leaves' data, drawn in order from the program's seed."""
    rng = np.random.default_rng(program["seed"])
    return [rng.standard_normal(e["shape"]).astype(dtype) for e in program["ops"] if e["op"] == "input"]


def interpret(program: dict, L: Any, F: Any, leaves: list) -> list:
    """Run the program with library `L` (autograd_nn or torch) on `leaves`; every slot's value."""
    slots: list = []
    leaf_iter = iter(leaves)
    for e in program["ops"]:
        name, args = e["op"], [slots[a] for a in e.get("args", [])]
        if name == "input":
            slots.append(next(leaf_iter))
        elif name in UNARY:
            slots.append(UNARY[name](L, F, *args))
        elif name in BINARY:
            slots.append(BINARY[name](L, F, *args))
        elif name in MULTI:
            slots.append(MULTI[name](L, F, args, e))
        else:
            slots.append(OTHER[name](L, F, args[0], e))
    return slots


def output_indices(program: dict) -> list[int]:
    """Slots that no later op reads (the program's results); the last slot at least."""
    used = {a for e in program["ops"] for a in e.get("args", [])}
    outs = [k for k, e in enumerate(program["ops"]) if k not in used and e["op"] != "input"]
    return outs or [len(program["ops"]) - 1]


def to_json(program: dict) -> str:
    return json.dumps(program, separators=(",", ":"))


def _fail(program: dict, what: str) -> FuzzFailure:
    return FuzzFailure(
        f"{what}\nreplayable program (save as tests/fuzz_corpus/<name>.json to keep it as a "
        f"regression test, or run `python tests/fuzz_programs.py --replay FILE`):\n{to_json(program)}"
    )


def _ag_leaves(data: list[np.ndarray]) -> list:
    return [ag.tensor(a.copy(), requires_grad=True) for a in data]


def _check_dtypes(program: dict, dtype: Any) -> list:
    """Forward and backward in `dtype`: every value and gradient keeps it. Returns the slots."""
    leaves = _ag_leaves(make_inputs(program, dtype))
    slots = interpret(program, ag, agF, leaves)
    for k, v in enumerate(slots):
        if v.dtype != dtype:
            raise _fail(program, f"slot {k} ({program['ops'][k]['op']}) is {v.dtype}, not {dtype}")
    outs = [slots[k] for k in output_indices(program)]
    total = sum((o.sum() for o in outs[1:]), outs[0].sum())
    grads = ag.grad(total, leaves, allow_unused=True)
    for k, g in enumerate(grads):
        if g is not None and g.dtype != dtype:
            raise _fail(program, f"gradient of input {k} is {g.dtype}, not {dtype}")
    return slots


def check_program(program: dict, torch: Any = None, gradcheck: bool = True) -> None:
    """Check one program (see the module docstring). Raises FuzzFailure, or Degenerate to skip it."""
    try:
        with np.errstate(all="ignore"):
            slots = _check_dtypes(program, np.float64)
    except FuzzFailure:
        raise
    except Exception as err:
        raise _fail(program, f"float64 run raised {type(err).__name__}: {err}") from err
    for k, v in enumerate(slots):
        if not np.all(np.isfinite(v.numpy())) or np.abs(v.numpy()).max(initial=0) > MAGNITUDE_CAP:
            raise Degenerate(f"slot {k} leaves [-{MAGNITUDE_CAP}, {MAGNITUDE_CAP}]")
    try:
        with np.errstate(all="ignore"):
            _check_dtypes(program, np.float32)
    except FuzzFailure:
        raise
    except Exception as err:
        raise _fail(program, f"float32 run raised {type(err).__name__}: {err}") from err
    outs = output_indices(program)
    if gradcheck:
        leaves = _ag_leaves(make_inputs(program))

        def fn(*xs: Any) -> tuple:
            values = interpret(program, ag, agF, list(xs))
            return tuple(values[k] for k in outs)

        try:
            ag.gradcheck(fn, leaves, eps=1e-6, atol=1e-5, rtol=1e-3)
        except ag.GradcheckError as err:
            raise _fail(program, str(err)) from None
    if torch is not None:
        compare_with_torch(program, torch)


def compare_with_torch(program: dict, torch: Any, rtol: float = 1e-7) -> None:
    """Every slot's value and every leaf's gradient equal PyTorch's for the same program."""
    data = make_inputs(program)
    leaves = _ag_leaves(data)
    tleaves = [torch.from_numpy(a.copy()).requires_grad_(True) for a in data]
    slots = interpret(program, ag, agF, leaves)
    tslots = interpret(program, torch, torch.nn.functional, tleaves)
    for k, (v, tv) in enumerate(zip(slots, tslots)):
        tv = tv.detach().numpy()
        if v.shape != tv.shape:
            raise _fail(program, f"slot {k} ({program['ops'][k]['op']}): shape {v.shape} vs torch {tv.shape}")
        scale = 1.0 + np.abs(tv).max(initial=0.0)
        if not np.allclose(v.numpy(), tv, rtol=rtol, atol=1e-10 * scale):
            raise _fail(
                program,
                f"slot {k} ({program['ops'][k]['op']}): value differs from torch; "
                f"max abs diff {np.abs(v.numpy() - tv).max():.3g}",
            )
    rng = np.random.default_rng(program["seed"] + 1)
    outs = output_indices(program)
    vs = [rng.standard_normal(slots[k].shape) for k in outs]
    total = sum(((slots[k] * ag.tensor(v)).sum() for k, v in zip(outs, vs)), ag.tensor(0.0, dtype=np.float64))
    ttotal = sum((tslots[k] * torch.from_numpy(v)).sum() for k, v in zip(outs, vs))
    grads = ag.grad(total, leaves, allow_unused=True)
    tgrads = torch.autograd.grad(ttotal, tleaves, allow_unused=True)
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        g = np.zeros(data[k].shape) if g is None else g.numpy()
        tg = np.zeros(data[k].shape) if tg is None else tg.numpy()
        scale = 1.0 + np.abs(tg).max(initial=0.0)
        if not np.allclose(g, tg, rtol=1e-6, atol=1e-9 * scale):
            raise _fail(
                program, f"gradient of input {k} differs from torch; max abs diff {np.abs(g - tg).max():.3g}"
            )


def load_corpus() -> list[tuple[str, dict]]:
    """(name, program) for every JSON file in tests/fuzz_corpus/."""
    return [(p.stem, json.loads(p.read_text())) for p in sorted(CORPUS.glob("*.json"))]


# ---- long runs from the command line -------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """`python tests/fuzz_programs.py -n 2000 [--seed S] [--save DIR]`, or `--replay FILE`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="number of random programs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--save", type=Path, help="write failing programs here as JSON")
    parser.add_argument("--replay", type=Path, help="check one program from a JSON file")
    args = parser.parse_args(argv)
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if args.replay:
        check_program(json.loads(args.replay.read_text()), torch)
        print("ok")
        return 0
    counts = {"ok": 0, "degenerate": 0, "failed": 0}
    n_ops = 0
    start = time.perf_counter()
    for k in range(args.n):
        program = generate(RandomChooser(args.seed * 1_000_003 + k))
        n_ops += sum(e["op"] != "input" for e in program["ops"])
        try:
            check_program(program, torch)
            counts["ok"] += 1
        except Degenerate:
            counts["degenerate"] += 1
        except FuzzFailure as err:
            counts["failed"] += 1
            print(f"--- program {k} failed: {err}\n", file=sys.stderr)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"fail_{args.seed}_{k}.json").write_text(to_json(program) + "\n")
    elapsed = time.perf_counter() - start
    print(f"{args.n} programs ({n_ops} ops) in {elapsed:.1f} s: {counts}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
