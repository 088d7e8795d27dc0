"""Pooling primitives over (N, C, [H,] W) inputs, on the Numba loops in `kernels/pool.py`.

Max pooling is split in two: the kernel finds each window's argmax (not differentiable: an index),
and `GatherPlanes` picks those values, with `ScatterPlanes` (scatter-add into the planes) as its
backward and vice versa. Average pooling is the linear map `AvgPool`, whose backward is its adjoint
`AvgPoolAdjoint` and vice versa. So every rule is differentiable again (`create_graph=True`), and the
first-order path calls the kernels directly. 1-D pooling is 2-D pooling with H = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..kernels import pool as kpool
from . import dual

# The kernels' window geometry, for code above ops that must agree with it (the ONNX exporter
# recovers stride, padding and ceil_mode of a pooling op by matching these).
pool_output_size = kpool.pool_output_size
pool_windows = kpool.pool_windows

Windows = tuple[np.ndarray, np.ndarray, int]


@dataclass(frozen=True, eq=False)
class PoolWindows:
    """Windows along H and W (see kernels/pool.py), average divisors, and the input plane size."""

    rows: Windows
    cols: Windows
    image: tuple[int, int]
    row_div: np.ndarray
    col_div: np.ndarray


def _plane4(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape[:2] + (1,) + a.shape[2:]) if a.ndim == 3 else a


class _GatherBackward(Function):
    """The backward shared by the ops that pick x[n, c].flat[index[n, c, k]]: scatter it back."""

    index: np.ndarray
    image: tuple

    def backward(self, g: Any) -> Any:
        return scatter(g, self.index, self.image)


class GatherPlanes(_GatherBackward):
    """out[n, c, k] = x[n, c].flat[index[n, c, k]]; the values of max pooling at its argmax."""

    def forward(self, x: np.ndarray, *, index: np.ndarray) -> np.ndarray:
        self.index, self.image = index, x.shape[2:]
        n, c = x.shape[:2]
        flat = np.take_along_axis(x.reshape(n, c, -1), index.reshape(n, c, -1), axis=2)
        return flat.reshape(index.shape)


class MaxPool(_GatherBackward):
    """Max pooling: the kernel finds each window's max and where it is; backward (inherited) sends
    the gradient back to those places. The argmax is also put in `found["index"]` for callers that
    return the indices."""

    def forward(self, x: np.ndarray, *, rows: Windows, cols: Windows, found: dict) -> np.ndarray:
        values, index = kpool.max_pool(_plane4(x), rows, cols)
        if x.ndim == 3:
            values, index = values[:, :, 0], index[:, :, 0]
        self.index, self.image = index, x.shape[2:]
        found["index"] = index
        return values


class ScatterPlanes(Function):
    """out[n, c].flat[index[n, c, k]] += g[n, c, k], out of spatial shape `image`."""

    def forward(self, g: np.ndarray, *, index: np.ndarray, image: tuple) -> np.ndarray:
        self.index = index
        out = kpool.scatter_planes(_plane4(g), _plane4(index), _image2(image))
        return out.reshape(g.shape[:2] + tuple(image))

    def backward(self, h: Any) -> Any:
        if dual.is_tensor(h):
            return GatherPlanes.apply(h, index=self.index)
        n, c = h.shape[:2]
        flat = np.take_along_axis(h.reshape(n, c, -1), self.index.reshape(n, c, -1), axis=2)
        return flat.reshape(self.index.shape)


def _image2(image: tuple) -> tuple[int, int]:
    return (1, image[0]) if len(image) == 1 else tuple(image)


def scatter(g: Any, index: np.ndarray, image: tuple) -> Any:
    """ScatterPlanes on an array (first-order backward) or a Tensor (create_graph)."""
    if dual.is_tensor(g):
        return ScatterPlanes.apply(g, index=index, image=tuple(image))
    out = kpool.scatter_planes(_plane4(g), _plane4(index), _image2(image))
    return out.reshape(g.shape[:2] + tuple(image))


def _avg(x: np.ndarray, win: PoolWindows) -> np.ndarray:
    out = kpool.avg_pool(_plane4(x), win.rows, win.cols, win.row_div, win.col_div)
    return out.reshape(out.shape[:2] + out.shape[3:]) if x.ndim == 3 else out


def _avg_adjoint(g: np.ndarray, win: PoolWindows, one_d: bool) -> np.ndarray:
    out = kpool.avg_pool_backward(_plane4(g), win.image, win.rows, win.cols, win.row_div, win.col_div)
    return out.reshape(out.shape[:2] + (win.image[1],)) if one_d else out


class AvgPool(Function):
    """Average over each window (divisors given per axis: count_include_pad, adaptive, override)."""

    def forward(self, x: np.ndarray, *, win: PoolWindows) -> np.ndarray:
        self.win = win
        return _avg(x, win)

    def backward(self, g: Any) -> Any:
        if dual.is_tensor(g):
            return AvgPoolAdjoint.apply(g, win=self.win)
        return _avg_adjoint(g, self.win, g.ndim == 3)


class AvgPoolAdjoint(Function):
    """The adjoint of `AvgPool`: spreads each value evenly over its window."""

    def forward(self, g: np.ndarray, *, win: PoolWindows) -> np.ndarray:
        self.win = win
        return _avg_adjoint(g, win, g.ndim == 3)

    def backward(self, h: Any) -> Any:
        if dual.is_tensor(h):
            return AvgPool.apply(h, win=self.win)
        return _avg(h, self.win)


# ---- entry points for functional/pooling.py ----------------------------------------------------
def _check_input(op: str, x: Any, dims: int) -> None:
    if x.ndim != dims + 2:
        raise ShapeError(
            f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, got shape {x.shape}"
        )
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating point, got {x.dtype}")
    if min(x.shape[2:], default=1) < 1:
        raise ShapeError(f"{op}: input {x.shape} has an empty spatial dimension")


def _windows(
    op: str, x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, ceil_mode: bool
) -> tuple[list, list, list]:
    image = _image2(x.shape[2:])
    wins, with_pad, valid = [], [], []
    for axis in range(2):
        k, s, p, d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise ShapeError(
                f"{op}: kernel_size, stride and dilation must be positive and padding "
                f"non-negative, got {kernel}, {stride}, {padding}, {dilation}"
            )
        if p > k // 2:
            raise ShapeError(f"{op}: padding {padding} must be at most half of the kernel size {kernel}")
        if kpool.pool_output_size(image[axis], k, s, p, d, ceil_mode) < 1:
            raise ShapeError(f"{op}: the kernel {kernel} does not fit the padded input {tuple(x.shape[2:])}")
        win, pad_div, real_div = kpool.pool_windows(image[axis], k, s, p, d, ceil_mode)
        wins.append(win)
        with_pad.append(pad_div)
        valid.append(real_div)
    return wins, with_pad, valid


def max_pool(
    op: str, x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, ceil_mode: bool
) -> tuple[Any, np.ndarray]:
    """Max pooling of a batched Tensor; pairs are (h, w) (h = 1 for 1-D). Returns (out, indices)."""
    _check_input(op, x, 2 if x.ndim == 4 else 1)
    (rows, cols), _, _ = _windows(op, x, kernel, stride, padding, dilation, ceil_mode)
    return _max_with(x, rows, cols)


def adaptive_max_pool(op: str, x: Any, out_size: tuple) -> tuple[Any, np.ndarray]:
    _check_input(op, x, len(out_size))
    image = _image2(x.shape[2:])
    rows, cols = (kpool.adaptive_windows(n, o) for n, o in zip(image, _image2(out_size)))
    return _max_with(x, rows, cols)


def _max_with(x: Any, rows: Windows, cols: Windows) -> tuple[Any, np.ndarray]:
    found: dict = {}
    out = MaxPool.apply(x, rows=rows, cols=cols, found=found)
    return out, found["index"]


def avg_pool(
    op: str,
    x: Any,
    kernel: tuple,
    stride: tuple,
    padding: tuple,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Any:
    """Average pooling of a batched Tensor; pairs are (h, w) (h = 1 for 1-D)."""
    _check_input(op, x, 2 if x.ndim == 4 else 1)
    (rows, cols), with_pad, valid = _windows(op, x, kernel, stride, padding, (1, 1), ceil_mode)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ShapeError(f"{op}: divisor_override must be non-zero")
        row_div = np.full(rows[0].shape, float(divisor_override))
        col_div = np.ones(cols[0].shape)
    else:
        row_div, col_div = with_pad if count_include_pad else valid
    win = PoolWindows(rows, cols, _image2(x.shape[2:]), row_div, col_div)
    return AvgPool.apply(x, win=win)


def adaptive_avg_pool(op: str, x: Any, out_size: tuple) -> Any:
    _check_input(op, x, len(out_size))
    image = _image2(x.shape[2:])
    rows, cols = (kpool.adaptive_windows(n, o) for n, o in zip(image, _image2(out_size)))
    win = PoolWindows(rows, cols, image, rows[1].astype(np.float64), cols[1].astype(np.float64))
    return AvgPool.apply(x, win=win)
