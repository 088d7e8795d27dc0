"""einsum: one primitive whose backward is another einsum.

The equation is first rewritten in explicit form with letters only ('...' becomes fresh letters,
an implicit output becomes the sorted letters that appear once). The gradient of operand i is the
einsum of the output gradient with the other operands, written to operand i's subscripts. Two cases
need constant helper operands so that it stays one einsum:
- a letter that only operand i has (summed away in the forward) is broadcast back with a vector
  of ones;
- a letter repeated within operand i ('ii->i') gets a fresh letter per extra occurrence, tied to the
  first by an identity matrix, which writes the gradient onto the diagonal.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..errors import ShapeError
from ..function import Function, TensorBase
from . import dual

LETTERS = string.ascii_letters


def _einsum(eq: str, arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.einsum(eq, *arrays, optimize=len(arrays) > 1)


class Einsum(Function):
    """Explicit-form einsum: `terms` (one letter string per operand) -> `out`."""

    def forward(self, *arrays, terms, out):
        self.terms, self.out = terms, out
        self.save(*arrays)
        return _einsum(",".join(terms) + "->" + out, arrays)

    def backward(self, g):
        ops = self.saved
        return tuple(
            _operand_grad(g, ops, self.terms, self.out, i) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


def _operand_grad(g: Any, ops: Sequence[Any], terms: Sequence[str], out: str, i: int) -> Any:
    term = terms[i]
    others = [(t, o) for j, (t, o) in enumerate(zip(terms, ops)) if j != i]
    available = set(out).union(*[set(t) for t, _ in others])
    used = set("".join(terms) + out)
    fresh = iter(c for c in LETTERS if c not in used)
    sizes = dict(zip(term, ops[i].shape))
    dtype = ops[i].dtype
    consts: list[tuple[str, np.ndarray]] = []
    target, seen = [], set()
    for c in term:
        if c in seen:  # a repeated letter: a fresh one, tied to the first by the identity
            f = next(fresh)
            consts.append((c + f, np.eye(sizes[c], dtype=dtype)))
            target.append(f)
            continue
        seen.add(c)
        target.append(c)
        if c not in available:  # summed away by this operand alone: broadcast back
            consts.append((c, np.ones(sizes[c], dtype=dtype)))
    in_terms = [out] + [t for t, _ in others] + [t for t, _ in consts]
    operands = [g] + [o for _, o in others] + [c for _, c in consts]
    eq = ",".join(in_terms) + "->" + "".join(target)
    if dual.is_tensor(g):
        operands = [o if dual.is_tensor(o) else g._make(o, False) for o in operands]
        return Einsum.apply(*operands, terms=tuple(in_terms), out="".join(target))
    return _einsum(eq, operands)


def parse(equation: str, shapes: Sequence[tuple]) -> tuple[list[str], str, dict[str, int]]:
    """Explicit terms, the output term and each letter's (broadcast) size; clear errors if bad."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(
            f"einsum: '{equation}' has {len(terms)} operand terms but {len(shapes)} operands were given"
        )
    for t in terms + ([rhs] if arrow else []):
        bad = set(t.replace("...", "")) - set(LETTERS)
        if bad or t.count("...") > 1:
            raise ShapeError(
                f"einsum: invalid subscripts {t!r} in '{equation}' (letters and at most one '...' per term)"
            )
    used = set(eq) & set(LETTERS)
    spare = [c for c in LETTERS if c not in used]
    n_ell = 0
    for t, s in zip(terms, shapes):
        named = len(t.replace("...", ""))
        if ("..." in t and named > len(s)) or ("..." not in t and named != len(s)):
            raise ShapeError(f"einsum: term {t!r} does not fit operand of shape {s} in '{equation}'")
        if "..." in t:
            n_ell = max(n_ell, len(s) - named)
    ell = "".join(spare[:n_ell])
    terms = [
        t.replace("...", ell[n_ell - (len(s) - len(t) + 3) :] if n_ell else "") if "..." in t else t
        for t, s in zip(terms, shapes)
    ]
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = "".join(terms)
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    if len(set(out)) != len(out):
        raise ShapeError(f"einsum: output subscripts {rhs!r} repeat a letter in '{equation}'")
    missing = set(out) - set("".join(terms))
    if missing:
        raise ShapeError(f"einsum: output letters {sorted(missing)} appear in no operand in '{equation}'")
    sizes: dict[str, int] = {}
    for t, s in zip(terms, shapes):
        for c, n in zip(t, s):
            if c not in sizes or sizes[c] == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ShapeError(
                    f"einsum: letter {c!r} has sizes {sizes[c]} and {n} in "
                    f"'{equation}' (shapes {list(shapes)})"
                )
    for t, s in zip(terms, shapes):
        for c, n in zip(t, s):
            if t.count(c) > 1 and n != sizes[c]:
                raise ShapeError(f"einsum: letter {c!r} repeated in {t!r} needs equal sizes, got shape {s}")
    return terms, out, sizes


def einsum(equation: str, *operands: Any) -> Any:
    """torch.einsum: operands given separately or as one list; '...' and implicit output work."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ShapeError("einsum: at least one operand is required")
    if not all(isinstance(o, TensorBase) for o in operands):
        got = ", ".join(type(o).__name__ for o in operands)
        raise TypeError(f"einsum: operands must be Tensors, got {got}")
    ops = list(operands)
    terms, out, sizes = parse(equation, [o.shape for o in ops])
    dtype = ops[0].dtype
    for o in ops[1:]:
        dtype = dtypes.promote(dtype, o.dtype)
    ops = [o if o.dtype == dtype else o.astype(dtype) for o in ops]
    for k, (t, o) in enumerate(zip(terms, ops)):  # broadcast size-1 dims explicitly
        full = tuple(sizes[c] for c in t)
        if full != o.shape:
            ops[k] = o.expand(*full)
    return Einsum.apply(*ops, terms=tuple(terms), out=out)
