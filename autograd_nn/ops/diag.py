"""Triangles and diagonals: tril, triu, diagonal, diag, diag_embed, trace.

All are composed from `Where` (a constant mask), `GetItem` (reading a diagonal) and `IndexAdd`
(writing one), so they inherit gradients of every order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..shapes import normalize_axis
from .index import GetItem, IndexAdd
from .movement import permute


def _need_matrix(op: str, x: Any) -> None:
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected a tensor with at least 2 dims, got shape {x.shape}")


def _triangle(x: Any, keep: np.ndarray) -> Any:
    from .elementwise import Where

    zero = x._make(np.zeros((), dtype=x.dtype), False)
    return Where.apply(x._make(keep, False), x, zero)


def tril(x: Any, diagonal: int = 0) -> Any:
    """The lower triangle of the last two dims (elements above `diagonal` set to 0)."""
    _need_matrix("tril", x)
    return _triangle(x, np.tri(x.shape[-2], x.shape[-1], diagonal, dtype=bool))


def triu(x: Any, diagonal: int = 0) -> Any:
    """The upper triangle of the last two dims (elements below `diagonal` set to 0)."""
    _need_matrix("triu", x)
    return _triangle(x, ~np.tri(x.shape[-2], x.shape[-1], diagonal - 1, dtype=bool))


def _diag_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    if offset >= 0:
        k = max(0, min(rows, cols - offset))
        r = np.arange(k)
        return r, r + offset
    k = max(0, min(rows + offset, cols))
    c = np.arange(k)
    return c - offset, c


def diagonal(x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    """The diagonal of the (dim1, dim2) planes, as the last dim of the result (torch.diagonal)."""
    _need_matrix("diagonal", x)
    a, b = normalize_axis(dim1, x.ndim, "diagonal"), normalize_axis(dim2, x.ndim, "diagonal")
    if a == b:
        raise ShapeError(f"diagonal: dim1 and dim2 must differ, both are {a}")
    rest = [d for d in range(x.ndim) if d not in (a, b)]
    moved = permute(x, rest + [a, b])
    r, c = _diag_positions(x.shape[a], x.shape[b], offset)
    return GetItem.apply(moved, index=(Ellipsis, r, c), advanced=True)


_diagonal_of = diagonal  # `diag` has a parameter named `diagonal`


def diag_embed(x: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
    """Matrices whose `offset` diagonal (in dims dim1, dim2 of the result) holds x's last dim."""
    if x.ndim == 0:
        raise ShapeError("diag_embed: expected a tensor with at least 1 dim, got a 0-d tensor")
    nd = x.ndim + 1
    a, b = normalize_axis(dim1, nd, "diag_embed"), normalize_axis(dim2, nd, "diag_embed")
    if a == b:
        raise ShapeError(f"diag_embed: dim1 and dim2 must differ, both are {a}")
    m = x.shape[-1] + abs(offset)
    r, c = _diag_positions(m, m, offset)
    out = IndexAdd.apply(x, index=(Ellipsis, r, c), advanced=True, shape=x.shape[:-1] + (m, m))
    order, rest = [0] * nd, iter(range(nd - 2))
    for d in range(nd):
        order[d] = nd - 2 if d == a else nd - 1 if d == b else next(rest)
    return permute(out, order)


def diag(x: Any, diagonal: int = 0) -> Any:
    """1-D input: a square matrix with x on the given diagonal; 2-D input: that diagonal."""
    if x.ndim == 1:
        return diag_embed(x, diagonal)
    if x.ndim == 2:
        return _diagonal_of(x, diagonal)
    raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")


def trace(x: Any) -> Any:
    """Sum of the main diagonal of a 2-D tensor."""
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a 2-D tensor, got shape {x.shape}")
    return diagonal(x).sum()
