"""Fused layer norm and training-mode batch norm (kernels in `kernels/norm.py`).

Inputs are (x, [weight], [bias]); which affine arrays are present is said by `has_weight` and
`has_bias`. The forward saves the per-row (per-channel) mean and reciprocal standard deviation, and
the backward gives dx, dweight and dbias in one pass. The backward works on arrays only;
`composite` recomputes the forward with Tensor ops, so `create_graph=True` still works.

The Tensor-op form of the normalisations is defined once, here (`moments`, `standardize`,
`normalize_channels`): the composites below use it, and so do `functional.norm`'s batch, instance
and layer norm where the fused kernels do not apply (other dtypes, evaluation mode). The Numba
kernels in `kernels/norm.py` are the same maths on arrays, the fast path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import ShapeError
from ...function import Function, TensorBase
from ...kernels import norm as knorm
from .common import affine_arrays, check_float


def moments(x: Any, dims: tuple) -> tuple[Any, Any]:
    """Mean and biased variance of the Tensor `x` over `dims`, kept as size-1 dims (Tensor ops, so
    differentiable to any order). The variance is the biased one, as PyTorch normalises with."""
    mean = x.mean(dim=dims, keepdim=True)
    centred = x - mean
    return mean, (centred * centred).mean(dim=dims, keepdim=True)


def standardize(x: Any, mean: Any, var: Any, eps: float) -> Any:
    """(x - mean) / sqrt(var + eps), with `mean` and `var` broadcasting against `x`."""
    return (x - mean) * (var + eps) ** -0.5


def normalize_channels(x: Any, mean: Any, var: Any, weight: Any, bias: Any, eps: float) -> Any:
    """Batch (and instance) norm of x (N, C, *) in Tensor ops: `standardize` with the given
    statistics, then the per-channel (dim 1) `weight` and `bias` (C,) where given."""
    y = standardize(x, mean, var, eps)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _affine_grads(
    self: LayerNormFused | BatchNormTrainFused, dw: np.ndarray, db: np.ndarray, shape: tuple, dtype: np.dtype
) -> tuple:
    """The weight and bias gradients that this op's inputs take (None where not needed)."""
    grads: list = []
    k = 1
    for present, grad in ((self.has_weight, dw), (self.has_bias, db)):
        if present:
            need = self.needs_input_grad[k]
            grads.append(grad.reshape(shape).astype(dtype) if need else None)
            k += 1
    return tuple(grads)


class LayerNormFused(Function):
    """layer_norm(x, normalized_shape, weight, bias, eps) over the trailing `normalized_shape` dims."""

    differentiable_backward = False

    def forward(
        self,
        x: np.ndarray,
        *affine: np.ndarray,
        normalized_shape: tuple = (),
        eps: float = 1e-5,
        has_weight: bool = False,
        has_bias: bool = False,
    ) -> np.ndarray:
        op = "LayerNormFused"
        check_float(op, x)
        shape = tuple(int(s) for s in normalized_shape)
        if not shape or x.shape[x.ndim - len(shape) :] != shape or len(shape) > x.ndim:
            raise ShapeError(
                f"{op}: normalized_shape {shape} does not match the trailing dims of input {x.shape}"
            )
        w, b = affine_arrays(op, x, affine, has_weight, has_bias, shape)
        feats = math.prod(shape)
        x2 = np.ascontiguousarray(x).reshape(-1, feats)
        y2, mean, rstd = knorm.layer_norm_forward(x2, w, b, float(eps))
        self.x2, self.w, self.mean, self.rstd = x2, w, mean, rstd
        self.shape, self.eps, self.has_weight, self.has_bias = shape, float(eps), has_weight, has_bias
        return y2.reshape(x.shape)

    def backward(self, g: np.ndarray) -> tuple:
        x2 = self.x2
        g2 = np.ascontiguousarray(g, dtype=x2.dtype).reshape(x2.shape)
        need_affine = any(self.needs_input_grad[1:])
        dx2, dw, db = knorm.layer_norm_backward(g2, x2, self.mean, self.rstd, self.w, need_affine)
        dx = dx2.reshape(g.shape) if self.needs_input_grad[0] else None
        return (dx,) + _affine_grads(self, dw, db, self.shape, x2.dtype)

    def composite(self, x: Any, *affine: Any) -> Any:
        axes = tuple(range(x.ndim - len(self.shape), x.ndim))
        y = standardize(x, *moments(x, axes), self.eps)
        it = iter(affine)
        if self.has_weight:
            y = y * next(it)
        if self.has_bias:
            y = y + next(it)
        return y


class BatchNormTrainFused(Function):
    """Training batch norm of x (N, C, *) with the batch statistics of each channel.

    `running_mean` / `running_var` (C,) arrays, when given, are updated in place as in PyTorch:
    r = (1 - momentum) * r + momentum * stat, with the unbiased batch variance for `running_var`.
    """

    differentiable_backward = False

    def forward(
        self,
        x: np.ndarray,
        *affine: np.ndarray,
        eps: float = 1e-5,
        has_weight: bool = False,
        has_bias: bool = False,
        running_mean: np.ndarray | None = None,
        running_var: np.ndarray | None = None,
        momentum: float = 0.1,
    ) -> np.ndarray:
        op = "BatchNormTrainFused"
        check_float(op, x)
        if x.ndim < 2:
            raise ShapeError(f"{op}: input must be (N, C, *), got shape {x.shape}")
        c = x.shape[1]
        per_channel = x.size // c if c else 0
        if per_channel <= 1:
            raise ShapeError(
                f"{op}: expected more than 1 value per channel when training, got input of shape {x.shape}"
            )
        w, b = affine_arrays(op, x, affine, has_weight, has_bias, (c,))
        x3 = np.ascontiguousarray(x).reshape(x.shape[0], c, -1)
        y3, mean, invstd, var_unbiased = knorm.batch_norm_forward(x3, w, b, float(eps))
        for stats, new in ((running_mean, mean), (running_var, var_unbiased)):
            if stats is not None:
                if stats.shape != (c,):
                    raise ShapeError(f"{op}: running statistics have shape {stats.shape}, expected ({c},)")
                stats *= 1.0 - momentum
                stats += (momentum * new).astype(stats.dtype)
        self.x3, self.w, self.mean, self.invstd = x3, w, mean, invstd
        self.eps, self.has_weight, self.has_bias = float(eps), has_weight, has_bias
        return y3.reshape(x.shape)

    def backward(self, g: np.ndarray) -> tuple:
        x3 = self.x3
        g3 = np.ascontiguousarray(g, dtype=x3.dtype).reshape(x3.shape)
        dx3, dw, db = knorm.batch_norm_backward(g3, x3, self.mean, self.invstd, self.w)
        dx = dx3.reshape(g.shape) if self.needs_input_grad[0] else None
        return (dx,) + _affine_grads(self, dw, db, (x3.shape[1],), x3.dtype)

    def composite(self, x: Any, *affine: Any) -> Any:
        it = iter(affine)
        weight = next(it) if self.has_weight else None
        bias = next(it) if self.has_bias else None
        mean, var = moments(x, (0,) + tuple(range(2, x.ndim)))
        return normalize_channels(x, mean, var, weight, bias, self.eps)


def _affine(weight: Any, bias: Any) -> tuple[tuple, dict]:
    inputs = tuple(t for t in (weight, bias) if t is not None)
    return inputs, {"has_weight": weight is not None, "has_bias": bias is not None}


def layer_norm(
    x: Any, normalized_shape: int | Sequence[int], weight: Any = None, bias: Any = None, eps: float = 1e-5
) -> Any:
    """Fused `F.layer_norm`: normalise over the trailing `normalized_shape` dims of `x`."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    inputs, flags = _affine(weight, bias)
    return LayerNormFused.apply(x, *inputs, normalized_shape=shape, eps=eps, **flags)


def batch_norm_train(
    x: Any,
    weight: Any = None,
    bias: Any = None,
    running_mean: Any = None,
    running_var: Any = None,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Fused `F.batch_norm(training=True)` over (N, C, *); updates the running statistics in place."""
    inputs, flags = _affine(weight, bias)
    rm = running_mean._data if isinstance(running_mean, TensorBase) else running_mean
    rv = running_var._data if isinstance(running_var, TensorBase) else running_var
    return BatchNormTrainFused.apply(
        x, *inputs, eps=eps, running_mean=rm, running_var=rv, momentum=momentum, **flags
    )
