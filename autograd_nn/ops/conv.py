"""Convolution primitives: im2col (Numba) + one batched GEMM (BLAS) per call.

A convolution relates a "big" image (N, C, H, W) to a "small" one (N, OC, OH, OW) through weights
(OC, C / groups, kh, kw). Three linear maps appear, and the backward of each is made of the other two:

    Conv          small = W . im2col(big)               grad: big <- ConvTranspose, W <- ConvWeight
    ConvTranspose big   = col2im(W^T . small)           grad: small <- Conv,        W <- ConvWeight
    ConvWeight    W     = small . im2col(big)^T         grad: big <- ConvTranspose, small <- Conv

So `conv_transpose2d` is `ConvTranspose` and every rule is differentiable again (`create_graph=True`
works to any order): a backward that receives Tensors calls the ops through `apply`, one that receives
arrays calls the array code directly. 1-D convolutions are 2-D ones with H = 1. Columns are laid out
(N, groups, C / groups * kh * kw, OH * OW), so groups are a batch axis of the matmul and its result
is already (N, OC, OH, OW): no transpose afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function, _tensor_cls
from ..kernels import conv as kconv
from . import dual

Pair = tuple[int, int]


@dataclass(frozen=True)
class ConvGeometry:
    """Everything about a convolution but the values: big image (C, H, W) <-> small (OC, OH, OW)."""

    channels: int
    out_channels: int
    image: Pair
    out: Pair
    kernel: Pair
    stride: Pair
    padding: Pair  # top/left; the bottom/right padding is implied by `out`
    dilation: Pair
    groups: int
    one_d: bool

    def big_shape(self, n: int) -> tuple:
        return (n, self.channels, self.image[1]) if self.one_d else (n, self.channels) + self.image

    def small_shape(self, n: int) -> tuple:
        oc = self.out_channels
        return (n, oc, self.out[1]) if self.one_d else (n, oc) + self.out

    def _columns(self, big: np.ndarray) -> np.ndarray:
        """im2col of the big image, shaped (N, groups, C / groups * kh * kw, OH * OW)."""
        n = big.shape[0]
        x4 = big.reshape((n, self.channels) + self.image)
        cols = kconv.im2col(x4, self.kernel, self.stride, self.padding, self.dilation, self.out)
        return cols.reshape(n, self.groups, -1, cols.shape[-1])

    def _grouped_weight(self, w: np.ndarray) -> np.ndarray:
        return w.reshape(self.groups, self.out_channels // self.groups, -1)


def conv_geometry(op: str, x_shape: tuple, w_shape: tuple, stride: Pair, padding: Any,
                  dilation: Pair, groups: int, transposed: bool = False,
                  output_padding: Pair = (0, 0)) -> ConvGeometry:
    """Check a (transposed) convolution's shapes and parameters, and describe it.

    `x_shape` is (N, C, H, W) or (N, C, L) (1-D), `w_shape` the weight's shape, the pairs are (h, w)
    (h = 1 for 1-D). `padding` is a pair, or 'same' / 'valid' (plain convolution only).
    """
    one_d = len(x_shape) == 3
    if len(x_shape) not in (3, 4) or len(w_shape) != len(x_shape):
        raise ShapeError(f"{op}: expected a {len(w_shape)}-D input (batched) and weight, got input "
                         f"{x_shape} and weight {w_shape}")
    kernel = (1, w_shape[2]) if one_d else tuple(w_shape[2:])
    size = (1, x_shape[2]) if one_d else tuple(x_shape[2:])
    for name, pair, least in (("stride", stride, 1), ("dilation", dilation, 1)):
        if min(pair) < least:
            raise ShapeError(f"{op}: {name} must be >= {least}, got {pair[1] if one_d else pair}")
    if groups < 1:
        raise ShapeError(f"{op}: groups must be a positive integer, got {groups}")
    span = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
    if padding == "valid":
        padding, pad_total = (0, 0), (0, 0)
    elif padding == "same":
        if max(stride) != 1:
            raise ShapeError(f"{op}: padding='same' needs stride 1, got {stride}")
        padding, pad_total = tuple(s // 2 for s in span), span
    elif isinstance(padding, str):
        raise ShapeError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        if min(padding) < 0:
            raise ShapeError(f"{op}: padding must be non-negative, got {padding}")
        pad_total = tuple(2 * p for p in padding)
    if transposed:
        c_in, c_out = w_shape[0], w_shape[1] * groups  # weight (C_in, C_out / groups, kh, kw)
        if x_shape[1] != c_in:
            raise ShapeError(f"{op}: input has {x_shape[1]} channels but weight {w_shape} expects "
                             f"{c_in}")
        if c_in % groups:
            raise ShapeError(f"{op}: groups={groups} does not divide the {c_in} input channels")
        if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
            raise ShapeError(f"{op}: output_padding {output_padding} must be smaller than the stride "
                             f"{stride} or the dilation {dilation}")
        big = tuple((n - 1) * s - p + sp + o + 1
                    for n, s, p, sp, o in zip(size, stride, pad_total, span, output_padding))
        if min(big) < 1:
            raise ShapeError(f"{op}: output size {big} is not positive for input {x_shape}")
        return ConvGeometry(c_out, c_in, big, size, kernel, stride, padding, dilation, groups, one_d)
    c_out, c_in = w_shape[0], x_shape[1]
    if c_in % groups or c_out % groups:
        raise ShapeError(f"{op}: groups={groups} must divide both the input channels ({c_in}) and "
                         f"the output channels ({c_out})")
    if w_shape[1] * groups != c_in:
        raise ShapeError(f"{op}: input has {c_in} channels but weight {w_shape} with groups={groups} "
                         f"expects {w_shape[1] * groups}")
    if any(n + p < s + 1 for n, p, s in zip(size, pad_total, span)):
        raise ShapeError(f"{op}: kernel {kernel[1] if one_d else kernel} (dilation "
                         f"{dilation[1] if one_d else dilation}) is larger than the padded input "
                         f"{x_shape[2:]}")
    out = tuple(kconv.conv_output_size(n, k, s, p, d)
                for n, k, s, p, d in zip(size, kernel, stride, pad_total, dilation))
    return ConvGeometry(c_in, c_out, size, out, kernel, stride, padding, dilation, groups, one_d)


def check_dtypes(op: str, *arrays: Any) -> None:
    """Input, weight (and bias) must share one floating dtype, as in PyTorch."""
    dts = [a.dtype for a in arrays if a is not None]
    if dts[0].kind != "f" or any(d != dts[0] for d in dts):
        raise DTypeError(f"{op}: input, weight and bias must have the same floating dtype, got "
                         f"{', '.join(str(d) for d in dts)}")


# ---- the three maps on arrays ------------------------------------------------------------------
def conv_arrays(big: np.ndarray, w: np.ndarray, geo: ConvGeometry,
                cols: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """small = W . im2col(big); also returns the columns for reuse."""
    if cols is None:
        cols = geo._columns(big)
    small = np.matmul(geo._grouped_weight(w), cols)  # (N, G, OC / G, OH * OW)
    return small.reshape(geo.small_shape(big.shape[0])), cols


def conv_transpose_arrays(small: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """big = col2im(W^T . small)."""
    n = small.shape[0]
    s = small.reshape(n, geo.groups, -1, geo.out[0] * geo.out[1])
    cols = np.matmul(dual.swapaxes(geo._grouped_weight(w), 1, 2), s)  # (N, G, C/G*kh*kw, L)
    big = kconv.col2im(cols.reshape(n, -1, cols.shape[-1]), geo.image, geo.kernel, geo.stride,
                       geo.padding, geo.dilation, geo.out)
    return big.reshape(geo.big_shape(n))


def conv_weight_arrays(big: np.ndarray, small: np.ndarray, w_shape: tuple, geo: ConvGeometry,
                       cols: np.ndarray | None = None) -> np.ndarray:
    """W = sum over the batch of small . im2col(big)^T."""
    if cols is None:
        cols = geo._columns(big)
    n = small.shape[0]
    s = small.reshape(n, geo.groups, -1, cols.shape[-1])
    gw = np.matmul(s, np.swapaxes(cols, 2, 3))  # (N, G, OC / G, C / G * kh * kw)
    return gw.sum(axis=0).reshape(w_shape)


# ---- dispatch: arrays for first-order backward, Tensor ops under create_graph --------------------
def _tensors(*xs: Any) -> list:
    T = _tensor_cls[0]
    return [x if dual.is_tensor(x) else T(x) for x in xs]


def _conv(big: Any, w: Any, geo: ConvGeometry, cols: Any = None) -> Any:
    if dual.is_tensor(big) or dual.is_tensor(w):
        return Conv.apply(*_tensors(big, w), geo=geo)
    return conv_arrays(big, w, geo, cols)[0]


def _conv_transpose(small: Any, w: Any, geo: ConvGeometry) -> Any:
    if dual.is_tensor(small) or dual.is_tensor(w):
        return ConvTranspose.apply(*_tensors(small, w), geo=geo)
    return conv_transpose_arrays(small, w, geo)


def _conv_weight(big: Any, small: Any, w_shape: tuple, geo: ConvGeometry, cols: Any = None) -> Any:
    if dual.is_tensor(big) or dual.is_tensor(small):
        return ConvWeight.apply(*_tensors(big, small), w_shape=w_shape, geo=geo)
    return conv_weight_arrays(big, small, w_shape, geo, cols)


def _bias_grad(g: Any) -> Any:
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


def _add_bias(y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    if b is not None:
        y += b.reshape((-1,) + (1,) * (y.ndim - 2))
    return y


class Conv(Function):
    """Cross-correlation of x (N, C, [H,] W) with w (OC, C / groups, [kh,] kw), plus an optional bias."""

    def forward(self, x, w, b=None, *, geo: ConvGeometry):
        self.geo = geo
        y, cols = conv_arrays(x, w, geo)
        self.cols = cols if self.needs_input_grad[1] else None  # reused by the weight gradient
        self.save(x, w)
        return _add_bias(y, b)

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        gx = _conv_transpose(g, w, self.geo) if need[0] else None
        gw = _conv_weight(x, g, w.shape, self.geo, self.cols) if need[1] else None
        return (gx, gw) + ((_bias_grad(g) if need[2] else None,) if len(need) > 2 else ())


class ConvTranspose(Function):
    """Transposed convolution (the input-gradient of `Conv`): x (N, C_in, ...) -> (N, C_out, ...)."""

    def forward(self, x, w, b=None, *, geo: ConvGeometry):
        self.geo = geo
        self.save(x, w)
        return _add_bias(conv_transpose_arrays(x, w, geo), b)

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        cols = None if dual.is_tensor(g) or not (need[0] and need[1]) else self.geo._columns(g)
        gx = _conv(g, w, self.geo, cols) if need[0] else None
        gw = _conv_weight(g, x, w.shape, self.geo, cols) if need[1] else None
        return (gx, gw) + ((_bias_grad(g) if need[2] else None,) if len(need) > 2 else ())


class ConvWeight(Function):
    """The weight-gradient map of `Conv`, as an op of (big, small), so second derivatives work."""

    def forward(self, big, small, *, w_shape: tuple, geo: ConvGeometry):
        self.geo = geo
        self.save(big, small)
        return conv_weight_arrays(big, small, w_shape, geo)

    def backward(self, h):
        big, small = self.saved
        gbig = _conv_transpose(small, h, self.geo) if self.needs_input_grad[0] else None
        gsmall = _conv(big, h, self.geo) if self.needs_input_grad[1] else None
        return gbig, gsmall
