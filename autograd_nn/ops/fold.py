"""`Unfold` (PyTorch's im2col: sliding blocks as columns) and its adjoint `Fold` (col2im: columns
added back into an image).

Both reuse the convolution kernels' `im2col` / `col2im` (kernels/conv.py) and only reorder the result:
the kernels lay a window out as a row in (i, j, c) order, PyTorch's unfold as a column in (c, i, j)
order. Each is the other's backward, so gradients of any order work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..function import Function
from ..kernels import conv as kconv
from . import dual

Pair = tuple[int, int]


@dataclass(frozen=True)
class Blocks:
    """The sliding blocks of an (H, W) image: kernel, dilation, padding, stride and their count."""

    image: Pair
    kernel: Pair
    dilation: Pair
    padding: Pair
    stride: Pair
    out: Pair  # blocks along H and W; L = out[0] * out[1]


def blocks(image: Pair, kernel: Pair, dilation: Pair, padding: Pair, stride: Pair) -> Blocks:
    oh, ow = (
        kconv.conv_output_size(n, k, s, 2 * p, d)
        for n, k, s, p, d in zip(image, kernel, stride, padding, dilation)
    )
    return Blocks(image, kernel, dilation, padding, stride, (oh, ow))


def _unfold(x: np.ndarray, b: Blocks) -> np.ndarray:
    n, c = x.shape[:2]
    (kh, kw), count = b.kernel, b.out[0] * b.out[1]
    if n == 0 or count == 0:
        return np.zeros((n, c * kh * kw, count), dtype=x.dtype)
    rows = kconv.im2col(np.ascontiguousarray(x), b.kernel, b.stride, b.padding, b.dilation, b.out)
    cols = rows.reshape(n, count, kh, kw, c).transpose(0, 4, 2, 3, 1)  # (N, C, kh, kw, L)
    return np.ascontiguousarray(cols).reshape(n, c * kh * kw, count)


def _fold(cols: np.ndarray, b: Blocks) -> np.ndarray:
    n, ckk, count = cols.shape
    kh, kw = b.kernel
    c = ckk // (kh * kw)
    if n == 0 or count == 0:
        return np.zeros((n, c) + b.image, dtype=cols.dtype)
    rows = cols.reshape(n, c, kh, kw, count).transpose(0, 4, 2, 3, 1)  # (N, L, kh, kw, C)
    rows = np.ascontiguousarray(rows).reshape(1, n * count, kh * kw * c)
    return kconv.col2im(rows, b.image, b.kernel, b.stride, b.padding, b.dilation, b.out)


class Unfold(Function):
    """x (N, C, H, W) -> (N, C * kh * kw, L): each column one sliding block, zero where padded."""

    def forward(self, x: np.ndarray, *, blocks: Blocks) -> np.ndarray:
        self.blocks = blocks
        return _unfold(x, blocks)

    def backward(self, g):
        if dual.is_tensor(g):
            return Fold.apply(g, blocks=self.blocks)
        return _fold(g, self.blocks)


class Fold(Function):
    """cols (N, C * kh * kw, L) -> (N, C, H, W): each block added back where it came from."""

    def forward(self, cols: np.ndarray, *, blocks: Blocks) -> np.ndarray:
        self.blocks = blocks
        return _fold(cols, blocks)

    def backward(self, g):
        if dual.is_tensor(g):
            return Unfold.apply(g, blocks=self.blocks)
        return _unfold(g, self.blocks)
