"""Padding (`F.pad`): constant padding is a primitive; reflect, replicate and circular padding read
the input at computed positions (one `GetItem` per padded dim), so their gradients add up the
reused border elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function
from .index import GetItem, getitem_any

MODES = ("constant", "reflect", "replicate", "circular")


class ConstantPad(Function):
    """np.pad with a constant; `widths` is a (before, after) pair per dim, all non-negative."""

    def forward(self, a, widths, value):
        self.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return np.pad(a, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return getitem_any(g, self.crop, False)


def _source_positions(mode: str, n: int, lo: int, hi: int, dim: int) -> np.ndarray:
    """For each output position along one dim, the input position it copies.

    Negative widths crop, as in PyTorch: reflect and replicate read the positions -lo .. n + hi - 1
    of the reflected / edge-extended input, circular crops first and then wraps around what is left.
    """
    if mode == "circular":
        if lo > n or hi > n:
            raise ShapeError(
                f"pad: circular padding ({lo}, {hi}) of dim {dim} must not exceed its "
                f"size {n} (it would wrap around more than once)"
            )
        if n + lo + hi < 0:
            raise ShapeError(
                f"pad: negative circular padding ({lo}, {hi}) of dim {dim} removes more than its size {n}"
            )
        start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        left, right = max(lo, 0), max(hi, 0)
        if left > kept or right > kept:
            raise ShapeError(
                f"pad: circular padding ({lo}, {hi}) of dim {dim} wraps around the "
                f"{kept} elements left after cropping more than once"
            )
        return start + np.arange(-left, kept + right) % max(kept, 1)
    if n + lo + hi < 1:
        raise ShapeError(
            f"pad: {mode} padding ({lo}, {hi}) of dim {dim} of size {n} leaves an "
            f"output size of {n + lo + hi}; it must be at least 1"
        )
    pos = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    if lo >= n or hi >= n:
        raise ShapeError(f"pad: reflect padding ({lo}, {hi}) of dim {dim} must be smaller than its size {n}")
    period = 2 * (n - 1) if n > 1 else 1
    pos = np.abs(pos) % period
    return np.where(pos >= n, period - pos, pos)


def pad(x: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Any:
    """Pad the last len(pad)//2 dims; `pad` lists (left, right) pairs from the last dim backwards.

    'constant' fills with `value` (0 by default); 'reflect' mirrors without repeating the edge,
    'replicate' repeats the edge, 'circular' wraps around. Negative widths crop, in every mode.
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(
            f"pad: the padding {pad} must have an even length of at most "
            f"2 * ndim = {2 * x.ndim} for a tensor of shape {x.shape}"
        )
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {MODES}, got {mode!r}")
    if mode != "constant" and value not in (None, 0, 0.0):
        raise ValueError(f"pad: value={value} is only meaningful for mode='constant', not {mode!r}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))
        if any(max(-lo, 0) + max(-hi, 0) > n for (lo, hi), n in zip(widths, x.shape)):
            raise ShapeError(f"pad: negative padding {pad} removes more than the tensor's shape {x.shape}")
        if any(lo < 0 or hi < 0 for lo, hi in widths):
            x = GetItem.apply(x, index=crop, advanced=False)
        positive = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        if not any(lo or hi for lo, hi in positive):
            return x
        fill = 0.0 if value is None else value
        if x.dtype.kind != "f":
            fill = int(fill)
        return ConstantPad.apply(x, widths=positive, value=fill)
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            src = _source_positions(mode, x.shape[d], lo, hi, d)
            x = GetItem.apply(x, index=(slice(None),) * d + (src,), advanced=True)
    return x
