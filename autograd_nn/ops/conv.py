"""Convolution primitives: im2col (Numba) + GEMM (BLAS), streamed over the batch.

A convolution relates a "big" image (N, C, H, W) to a "small" one (N, OC, OH, OW) through weights
(OC, C / groups, kh, kw). Three linear maps appear, and the backward of each is made of the other two:

    Conv          small = W . im2col(big)               grad: big <- ConvTranspose, W <- ConvWeight
    ConvTranspose big   = col2im(W^T . small)           grad: small <- Conv,        W <- ConvWeight
    ConvWeight    W     = small . im2col(big)^T         grad: big <- ConvTranspose, small <- Conv

So `conv_transpose2d` is `ConvTranspose` and every rule is differentiable again (`create_graph=True`
works to any order): a backward that receives Tensors calls the ops through `apply`, one that receives
arrays runs the maps it needs in one pass (`stream`). 1-D convolutions are 2-D ones with H = 1.

`stream` walks the batch a block of images at a time: im2col writes the block's rows
(groups, B * OH * OW, kh * kw * C / groups) into a buffer that stays in cache, and one GEMM per
group does the block (cols @ W, tall and skinny; a transposing copy then gives (B, OC, OH, OW)).
Measured on W3 (32x16x32x32, 16->32, 3x3), this is about 2x faster than one GEMM over all the
columns at once (19 MB written, then read back from memory), and it saves no columns: the weight
gradient recomputes them, which costs less than keeping them.

The blocks are independent, so they run on autograd_nn's thread pool (`threads.py`): each thread
takes the next block, with buffers of its own, and does its im2col, GEMM and copy (the kernels release
the GIL). A block writes only its own images; the weight gradient is summed over the blocks in block
order, so the result does not depend on which thread ran which block.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DTypeError, ShapeError
from ..function import Function
from ..kernels import conv as kconv
from ..threads import parallel_for
from . import dual

Pair = tuple[int, int]

# Entries of columns per block: the batch is streamed through buffers about this large (one 32x32
# image with 16 channels and a 3x3 kernel: 0.5 MB in float32), small enough to stay in cache between
# im2col and the GEMM, large enough that the GEMM runs at full speed and the per-block Python cost
# stays small.
BLOCK = 1 << 17


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

    def weight_matrix(self, w: np.ndarray) -> np.ndarray:
        """(OC, C / G, kh, kw) -> (G, kh * kw * C / G, OC / G), rows in im2col's (i, j, c) order."""
        g, oc, c = self.groups, self.out_channels, self.channels
        w5 = w.reshape((g, oc // g, c // g) + self.kernel)
        return np.ascontiguousarray(w5.transpose(0, 3, 4, 2, 1)).reshape(g, -1, oc // g)

    def weight_from_matrix(self, m: np.ndarray, w_shape: tuple) -> np.ndarray:
        """The inverse of `weight_matrix`."""
        g, oc, c = self.groups, self.out_channels, self.channels
        m5 = m.reshape((g,) + self.kernel + (c // g, oc // g))
        return np.ascontiguousarray(m5.transpose(0, 4, 3, 1, 2)).reshape(w_shape)

    def images_per_block(self) -> int:
        per_image = self.out[0] * self.out[1] * self.kernel[0] * self.kernel[1] * self.channels
        return max(1, BLOCK // max(1, per_image))


def conv_geometry(
    op: str,
    x_shape: tuple,
    w_shape: tuple,
    stride: Pair,
    padding: Any,
    dilation: Pair,
    groups: int,
    transposed: bool = False,
    output_padding: Pair = (0, 0),
) -> ConvGeometry:
    """Check a (transposed) convolution's shapes and parameters, and describe it.

    `x_shape` is (N, C, H, W) or (N, C, L) (1-D), `w_shape` the weight's shape, the pairs are (h, w)
    (h = 1 for 1-D). `padding` is a pair, or 'same' / 'valid' (plain convolution only).
    """
    one_d = len(x_shape) == 3
    if len(x_shape) not in (3, 4) or len(w_shape) != len(x_shape):
        raise ShapeError(
            f"{op}: expected a {len(w_shape)}-D input (batched) and weight, got input "
            f"{x_shape} and weight {w_shape}"
        )
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
            raise ShapeError(f"{op}: input has {x_shape[1]} channels but weight {w_shape} expects {c_in}")
        if c_in % groups:
            raise ShapeError(f"{op}: groups={groups} does not divide the {c_in} input channels")
        if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
            raise ShapeError(
                f"{op}: output_padding {output_padding} must be smaller than the stride "
                f"{stride} or the dilation {dilation}"
            )
        big = tuple(
            (n - 1) * s - p + sp + o + 1
            for n, s, p, sp, o in zip(size, stride, pad_total, span, output_padding)
        )
        if min(big) < 1:
            raise ShapeError(f"{op}: output size {big} is not positive for input {x_shape}")
        return ConvGeometry(c_out, c_in, big, size, kernel, stride, padding, dilation, groups, one_d)
    c_out, c_in = w_shape[0], x_shape[1]
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"{op}: groups={groups} must divide both the input channels ({c_in}) and "
            f"the output channels ({c_out})"
        )
    if w_shape[1] * groups != c_in:
        raise ShapeError(
            f"{op}: input has {c_in} channels but weight {w_shape} with groups={groups} "
            f"expects {w_shape[1] * groups}"
        )
    if any(n + p < s + 1 for n, p, s in zip(size, pad_total, span)):
        raise ShapeError(
            f"{op}: kernel {kernel[1] if one_d else kernel} (dilation "
            f"{dilation[1] if one_d else dilation}) is larger than the padded input "
            f"{x_shape[2:]}"
        )
    oh, ow = (
        kconv.conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(size, kernel, stride, pad_total, dilation)
    )
    return ConvGeometry(c_in, c_out, size, (oh, ow), kernel, stride, padding, dilation, groups, one_d)


def check_dtypes(op: str, *arrays: Any) -> None:
    """Input, weight (and bias) must share one floating dtype, as in PyTorch."""
    dts = [a.dtype for a in arrays if a is not None]
    if dts[0].kind != "f" or any(d != dts[0] for d in dts):
        raise DTypeError(
            f"{op}: input, weight and bias must have the same floating dtype, got "
            f"{', '.join(str(d) for d in dts)}"
        )


# ---- the three maps on arrays, streamed over the batch ----------------------------------------
def stream(
    geo: ConvGeometry,
    big: np.ndarray | None = None,
    small: np.ndarray | None = None,
    w: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    conv: bool = False,
    conv_t: bool = False,
    weight: tuple | None = None,
) -> tuple:
    """Any of the three maps in one pass over the batch, a block of images at a time.

    conv:   small = W . im2col(big) + bias      (N, OC, [OH,] OW)
    conv_t: big = col2im(W^T . small)           (N, C, [H,] W)
    weight: gW = small . im2col(big)^T          `weight` = the shape of W, (OC, C / G, [kh,] kw)

    Returns (small, big, gW), None for what was not asked. Each block's columns and transposed
    `small` are shared by the maps that need them and stay in cache between the kernel and the GEMM.
    """
    ref = big if big is not None else small
    assert ref is not None, "stream: give big or small"
    n, dtype, g = ref.shape[0], ref.dtype, geo.groups
    oc, c, length = geo.out_channels, geo.channels, geo.out[0] * geo.out[1]
    ocg, kg = oc // g, c // g * geo.kernel[0] * geo.kernel[1]
    per = geo.images_per_block()
    need_cols, need_small = conv or bool(weight), conv_t or bool(weight)  # small: (N, OC, L)
    # each map needs its operands: big for the columns, small, w for conv and conv_t
    x4 = np.ascontiguousarray(big.reshape((n, c) + geo.image)) if need_cols and big is not None else None
    s4 = small.reshape(n, g, ocg, length) if need_small and small is not None else None
    wm = geo.weight_matrix(w) if (conv or conv_t) and w is not None else None
    wm_t = np.ascontiguousarray(wm.transpose(0, 2, 1)) if conv_t and wm is not None else None
    y = np.empty((n, g, ocg, length), dtype) if conv else None
    gx = np.empty((n, c) + geo.image, dtype) if conv_t else None
    starts = range(0, n, per)
    partial_gw: list = [None] * len(starts)  # one per block, summed in block order below
    args = (geo.kernel, geo.stride, geo.padding, geo.dilation, geo.out)
    scratch: dict[int, dict[str, np.ndarray]] = {}  # per thread: buffers reused block after block
    size = g * min(n, per) * length

    def buffer(name: str, width: int, shape: tuple) -> np.ndarray:
        mine = scratch.setdefault(threading.get_ident(), {})
        if name not in mine:
            mine[name] = np.empty(size * width, dtype)
        return mine[name][: math.prod(shape)].reshape(shape)

    def block(i: int) -> None:
        n0 = starts[i]
        n1 = min(n, n0 + per)
        rows = (n1 - n0) * length
        if need_cols:  # (G, rows, kh * kw * C / G)
            assert x4 is not None
            cols = kconv.im2col(x4, *args, groups=g, images=(n0, n1), out=buffer("cols", kg, (g, rows, kg)))
        if need_small:  # (G, OC / G, rows): a view for one image, else runs of `length` copied
            assert s4 is not None
            small_g = s4[n0:n1].transpose(1, 2, 0, 3).reshape(g, ocg, rows)
        if conv:
            assert wm is not None and y is not None
            out = np.matmul(cols, wm, out=buffer("y", ocg, (g, rows, ocg)))
            y[n0:n1] = out.reshape(g, n1 - n0, length, ocg).transpose(1, 0, 3, 2)
            if bias is not None:  # while the block is in cache
                y[n0:n1] += bias.reshape(g, ocg, 1)
        if weight:  # (G, OC / G, kh * kw * C / G): the weight matrix's transpose
            partial_gw[i] = np.matmul(small_g, cols)
        if conv_t:  # BLAS reads small_g transposed: no (rows, OC / G) copy
            assert wm_t is not None
            dcols = np.matmul(small_g.transpose(0, 2, 1), wm_t, out=buffer("dcols", kg, (g, rows, kg)))
            kconv.col2im(dcols, geo.image, *args, images=(n0, n1), out=gx)

    parallel_for(len(starts), block)
    gw = None
    if weight:
        gw = partial_gw[0] if starts else np.zeros((g, ocg, kg), dtype)
        for p in partial_gw[1:]:
            gw += p
        # (G, kh * kw * C / G, OC / G), as weight_matrix lays it out
        gw = geo.weight_from_matrix(gw.transpose(0, 2, 1), weight)
    return (
        None if y is None else y.reshape(geo.small_shape(n)),
        None if gx is None else gx.reshape(geo.big_shape(n)),
        gw,
    )


def conv_arrays(
    big: np.ndarray, w: np.ndarray, geo: ConvGeometry, bias: np.ndarray | None = None
) -> np.ndarray:
    """small = W . im2col(big) (+ bias)."""
    return stream(geo, big=big, w=w, bias=bias, conv=True)[0]


def conv_transpose_arrays(small: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """big = col2im(W^T . small)."""
    return stream(geo, small=small, w=w, conv_t=True)[1]


def conv_weight_arrays(big: np.ndarray, small: np.ndarray, w_shape: tuple, geo: ConvGeometry) -> np.ndarray:
    """W = small . im2col(big)^T, summed over the batch."""
    return stream(geo, big=big, small=small, weight=tuple(w_shape))[2]


# ---- the ops: first-order backward streams arrays, create_graph builds the graph from the ops ----
def _tensors(*xs: Any) -> list:
    """All of xs as Tensors (constants made like the first Tensor among them)."""
    ref = next(x for x in xs if dual.is_tensor(x))
    return [x if dual.is_tensor(x) else ref._make(np.asarray(x), False) for x in xs]


def _any_tensor(*xs: Any) -> bool:
    return any(dual.is_tensor(x) for x in xs)


def _bias_grad(g: Any) -> Any:
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


class Conv(Function):
    """Cross-correlation of x (N, C, [H,] W) with w (OC, C / groups, [kh,] kw), plus an optional bias."""

    def forward(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, geo: ConvGeometry
    ) -> np.ndarray:
        self.geo = geo
        self.save(x, w)
        return conv_arrays(x, w, geo, b)

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        gb = (_bias_grad(g) if need[2] else None,) if len(need) > 2 else ()
        if _any_tensor(g, x, w):
            gx = ConvTranspose.apply(*_tensors(g, w), geo=self.geo) if need[0] else None
            gw = ConvWeight.apply(*_tensors(x, g), w_shape=w.shape, geo=self.geo) if need[1] else None
            return (gx, gw) + gb
        _, gx, gw = stream(self.geo, big=x, small=g, w=w, conv_t=need[0], weight=w.shape if need[1] else None)
        return (gx, gw) + gb


class ConvTranspose(Function):
    """Transposed convolution (the input-gradient of `Conv`): x (N, C_in, ...) -> (N, C_out, ...)."""

    def forward(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, geo: ConvGeometry
    ) -> np.ndarray:
        self.geo = geo
        self.save(x, w)
        y = conv_transpose_arrays(x, w, geo)
        if b is not None:
            y += b.reshape((-1,) + (1,) * (y.ndim - 2))
        return y

    def backward(self, g):
        x, w = self.saved
        need = self.needs_input_grad
        gb = (_bias_grad(g) if need[2] else None,) if len(need) > 2 else ()
        if _any_tensor(g, x, w):
            gx = Conv.apply(*_tensors(g, w), geo=self.geo) if need[0] else None
            gw = ConvWeight.apply(*_tensors(g, x), w_shape=w.shape, geo=self.geo) if need[1] else None
            return (gx, gw) + gb
        gx, _, gw = stream(self.geo, big=g, small=x, w=w, conv=need[0], weight=w.shape if need[1] else None)
        return (gx, gw) + gb


class ConvWeight(Function):
    """The weight-gradient map of `Conv`, as an op of (big, small), so second derivatives work."""

    def forward(self, big: np.ndarray, small: np.ndarray, *, w_shape: tuple, geo: ConvGeometry) -> np.ndarray:
        self.geo = geo
        self.save(big, small)
        return conv_weight_arrays(big, small, w_shape, geo)

    def backward(self, h):
        big, small = self.saved
        need = self.needs_input_grad
        if _any_tensor(h, big, small):
            gbig = ConvTranspose.apply(*_tensors(small, h), geo=self.geo) if need[0] else None
            gsmall = Conv.apply(*_tensors(big, h), geo=self.geo) if need[1] else None
            return gbig, gsmall
        gsmall, gbig, _ = stream(self.geo, big=big, small=small, w=h, conv=need[1], conv_t=need[0])
        return gbig, gsmall
