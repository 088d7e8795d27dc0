"""Loss functions with PyTorch's names, options and reductions ('mean' | 'sum' | 'none').

Class-index losses pick each sample's log-probability with `gather`; log-probabilities come from
`log_softmax`, and the logit losses shift by the larger of 0 and -x before exponentiating, so logits
of +-1e4 give finite values and gradients. Weighted means divide by the sum of the weights that were
used, as PyTorch does.

Package-internal API (not in `__all__`): `legacy_reduction` maps PyTorch's deprecated
size_average/reduce flags onto `reduction`, for these functions and the `nn` loss modules.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import OpIndexError, ShapeError
from ..ops import fused
from ..ops.loss import BinaryCrossEntropy, SquaredError
from .arguments import tensor_args

__all__ = [
    "l1_loss",
    "mse_loss",
    "smooth_l1_loss",
    "huber_loss",
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """Map PyTorch's deprecated size_average/reduce flags onto `reduction`."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _pair(op: str, input: Tensor, target: Any) -> tuple[Tensor, Tensor]:
    """The target as a Tensor of the input's dtype; PyTorch's warning when the shapes differ."""
    if not isinstance(target, Tensor):
        target = as_tensor(np.asarray(target, dtype=input.dtype))
    elif target.dtype != input.dtype:
        target = target.astype(input.dtype)
    if target.shape != input.shape:
        warnings.warn(
            f"{op}: target shape {target.shape} differs from input shape {input.shape}; "
            "they will be broadcast, which is likely not what you want",
            stacklevel=3,
        )
    return input, target


def _tensors(*xs: Any) -> Any:
    """Inputs given as lists or ndarrays as Tensors (one, or a tuple of several)."""
    out = tuple(x if isinstance(x, Tensor) else as_tensor(x) for x in xs)
    return out[0] if len(out) == 1 else out


def _mask(condition: np.ndarray, dtype: np.dtype) -> Tensor:
    """A constant 0/1 tensor: multiplying by it selects elements without a graph of its own."""
    return as_tensor(condition.astype(dtype))


@tensor_args("input", "target")
def l1_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """|input - target|."""
    input = _tensors(input)
    input, target = _pair("l1_loss", input, target)
    return _reduce("l1_loss", (input - target).abs(), legacy_reduction(size_average, reduce, reduction))


@tensor_args("input", "target")
def mse_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """(input - target)^2."""
    input = _tensors(input)
    input, target = _pair("mse_loss", input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction in ("mean", "sum") and input.dtype == target.dtype and input.dtype.kind == "f":
        return SquaredError.apply(input, target, reduction=reduction)  # one node, same maths
    diff = input - target
    return _reduce("mse_loss", diff * diff, reduction)


def _quadratic_near_zero(diff: Tensor, width: float, linear_scale: float) -> Tensor:
    """0.5 d^2 / width * linear_scale where |d| < width, else linear_scale * (|d| - width / 2)."""
    absd = diff.abs()
    small = _mask(np.abs(diff._data) < width, diff.dtype)
    quad = diff * diff * (0.5 * linear_scale / width)
    lin = (absd - 0.5 * width) * linear_scale
    return small * quad + (1.0 - small) * lin


@tensor_args("input", "target")
def smooth_l1_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta for |d| < beta, |d| - beta / 2 beyond (L1 when beta == 0)."""
    input = _tensors(input)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _pair("smooth_l1_loss", input, target)
    diff = input - target
    loss = diff.abs() if beta == 0 else _quadratic_near_zero(diff, beta, 1.0)
    return _reduce("smooth_l1_loss", loss, legacy_reduction(size_average, reduce, reduction))


@tensor_args("input", "target", "weight")
def huber_loss(
    input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """0.5 d^2 for |d| < delta, delta * (|d| - delta / 2) beyond (= delta * smooth_l1(beta=delta))."""
    input = _tensors(input)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _pair("huber_loss", input, target)
    loss = _quadratic_near_zero(input - target, delta, delta)
    if weight is not None:
        loss = loss * weight
    return _reduce("huber_loss", loss, reduction)


def _target_array(op: str, target: Any) -> np.ndarray:
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise ShapeError(f"{op}: class-index targets must be integers, got dtype {t.dtype}")
    return t.astype(np.int64, copy=False)


def _class_weights(op: str, weight: Tensor | None, n_classes: int, dtype: np.dtype) -> np.ndarray:
    if weight is None:
        return np.ones(n_classes, dtype=dtype)
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (n_classes,):
        raise ShapeError(f"{op}: weight has shape {w.shape}, expected ({n_classes},) (one per class)")
    return w.astype(dtype, copy=False)


def _nll_terms(
    op: str, logp: Tensor, target: Any, weight: Tensor | None, ignore_index: int
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Per-element weighted losses -w[t] * logp[t], the weights used, and the not-ignored mask.

    `logp` is (N, C, *) with `target` (N, *), both already batched.
    """
    t = _target_array(op, target)
    n, c = logp.shape[:2]
    expected = (n,) + logp.shape[2:]
    if t.shape != expected:
        raise ShapeError(
            f"{op}: target shape {t.shape} does not match input shape {logp.shape} (expected {expected})"
        )
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= c):
        bad = safe[(safe < 0) | (safe >= c)][0]
        raise OpIndexError(f"{op}: target {bad} is out of bounds for {c} classes")
    w = _class_weights(op, weight, c, logp.dtype)[safe] * valid  # (N, *)
    picked = logp.gather(1, as_tensor(safe[:, None])).reshape(expected)  # (N, *)
    return -picked * as_tensor(w), w, valid


def _weighted_mean(total: Tensor, weight_sum: float) -> Tensor:
    """total / weight_sum; NaN (as in PyTorch) when every target was ignored, without a warning."""
    return total / weight_sum if weight_sum != 0 else total * float("nan")


def _batched(input: Tensor, target: Any) -> tuple[Tensor, Any, bool]:
    """Treat an unbatched (C,) input with a 0-d target as a batch of one."""
    if input.ndim != 1:
        return input, target, False
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    return input.reshape(1, input.shape[0]), t.reshape(1), True


@tensor_args("input", "target", "weight")
def nll_loss(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices, given log-probabilities (N, C, *) or (C,)."""
    input = _tensors(input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    logp, target, unbatched = _batched(input, target)
    if logp.ndim < 2:
        raise ShapeError(f"nll_loss: expected input (N, C, *) or (C,), got {input.shape}")
    loss, w, _ = _nll_terms("nll_loss", logp, target, weight, ignore_index)
    if reduction == "mean":
        return _weighted_mean(loss.sum(), float(w.sum()))
    if reduction == "none" and unbatched:
        return loss.reshape(())
    return _reduce("nll_loss", loss, reduction)


def _is_prob_target(input: Tensor, target: Any) -> bool:
    dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    return np.dtype(dtype).kind == "f"


@tensor_args("input", "target", "weight")
def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over the class dim then NLL: logits (N, C, *) or (C,).

    `target` holds class indices (N, *) or class probabilities with the input's shape.
    `label_smoothing` mixes the target with the uniform distribution, as in PyTorch.
    """
    input = _tensors(input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class dim, got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if _is_prob_target(input, target):
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim)
    if input.dtype.kind == "f" and input.dtype.itemsize in (4, 8):
        # One fused node (log-softmax + NLL + smoothing in Numba); the lines below are the same maths.
        return fused.cross_entropy_indices(input, target, weight, ignore_index, label_smoothing, reduction)
    logp = input.log_softmax(dim=class_dim)  # same shape as input
    if label_smoothing == 0.0:
        return nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    logp, target, unbatched = _batched(logp, target)
    nll, w, valid = _nll_terms("cross_entropy", logp, target, weight, ignore_index)
    cw = _class_weights("cross_entropy", weight, n_classes, logp.dtype)
    cw_shape = (1, n_classes) + (1,) * (logp.ndim - 2)
    smooth = -(logp * as_tensor(cw.reshape(cw_shape))).sum(dim=1) * _mask(valid, logp.dtype)  # (N, *)
    if reduction == "mean":
        total = float(w.sum())  # the weights of the kept targets (their count without weight)
        nll_r, smooth_r = _weighted_mean(nll.sum(), total), _weighted_mean(smooth.sum(), total)
    elif reduction == "sum":
        nll_r, smooth_r = nll.sum(), smooth.sum()
    else:
        nll_r, smooth_r = nll, smooth
        if unbatched:
            nll_r, smooth_r = nll.reshape(()), smooth.reshape(())
    return nll_r * (1.0 - label_smoothing) + smooth_r * (label_smoothing / n_classes)


def _cross_entropy_probs(
    input: Tensor, target: Any, weight: Tensor | None, reduction: str, label_smoothing: float, class_dim: int
) -> Tensor:
    """Cross entropy against class probabilities (soft labels) of the input's shape."""
    if not isinstance(target, Tensor):
        target = as_tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ShapeError(
            f"cross_entropy: probability targets must have the input's shape "
            f"{input.shape}, got {target.shape}"
        )
    n_classes = input.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    terms = input.log_softmax(dim=class_dim) * target  # same shape as input
    if weight is not None:
        cw = _class_weights("cross_entropy", weight, n_classes, input.dtype)
        terms = terms * as_tensor(cw.reshape((n_classes,) + (1,) * (input.ndim - class_dim - 1)))
    if reduction == "mean":
        return -terms.sum() / float(input.numel() // n_classes)
    if reduction == "sum":
        return -terms.sum()
    return -terms.sum(dim=class_dim)  # (N, *)


@tensor_args("input", "target", "weight")
def binary_cross_entropy(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p, with PyTorch's clamps: each log at -100
    in the forward, and p (1 - p) at 1e-12 in the gradient (so p = 0 or 1 gives finite values)."""
    input = _tensors(input)
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ShapeError(
            f"binary_cross_entropy: target shape {target.shape} must equal the input shape {input.shape}"
        )
    input, target = _pair("binary_cross_entropy", input, target)
    if input.numel() and (input._data.min() < 0 or input._data.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    if target.numel() and (target._data.min() < 0 or target._data.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of target should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        weight = _tensors(weight)
        try:
            np.broadcast_shapes(weight.shape, input.shape)
        except ValueError:
            raise ShapeError(
                f"binary_cross_entropy: weight of shape {weight.shape} does not "
                f"broadcast to the input shape {input.shape}"
            ) from None
        loss = loss * weight
    return _reduce("binary_cross_entropy", loss, legacy_reduction(size_average, reduce, reduction))


def _softplus_neg(x: Tensor) -> Tensor:
    """log(1 + exp(-x)) = -log sigmoid(x): stable, and relatively exact for tiny losses."""
    return -x.logsigmoid()


@tensor_args("input", "target", "weight")
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of sigmoid(input) computed from the logits in a stable form; pos_weight scales positives."""
    input = _tensors(input)
    if isinstance(target, Tensor) and target.shape != input.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: target shape {target.shape} must "
            f"equal the input shape {input.shape}"
        )
    input, target = _pair("binary_cross_entropy_with_logits", input, target)
    sp = _softplus_neg(input)  # -log sigmoid(x)
    if pos_weight is not None:
        loss = (1.0 - target) * input + (target * (pos_weight - 1.0) + 1.0) * sp
    else:
        loss = (1.0 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(
        "binary_cross_entropy_with_logits", loss, legacy_reduction(size_average, reduce, reduction)
    )


@tensor_args("input", "target")
def soft_margin_loss(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """log(1 + exp(-y x)) for labels y in {-1, 1}."""
    input = _tensors(input)
    input, target = _pair("soft_margin_loss", input, target)
    return _reduce(
        "soft_margin_loss", _softplus_neg(input * target), legacy_reduction(size_average, reduce, reduction)
    )


@tensor_args("input", "target")
def kl_div(
    input: Tensor,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL(target || exp(input)) pointwise: input holds log-probabilities.

    'batchmean' divides the sum by the batch size (the true KL divergence); 'mean' divides by the
    number of elements, as PyTorch does.
    """
    input = _tensors(input)
    input, target = _pair("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # target * log(target) with 0 where target == 0 (xlogy): log(1) = 0 there
        safe = target + _mask(target._data == 0, input.dtype)
        loss = target * safe.log() - target * input
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction == "batchmean":
        return loss.sum() / float(input.shape[0] if input.ndim else 1)
    return _reduce("kl_div", loss, reduction)


def _label_masks(op: str, target: Any, dtype: np.dtype) -> tuple[Tensor, Tensor]:
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    return _mask(t == 1, dtype), _mask(t == -1, dtype)


@tensor_args("input1", "input2", "target")
def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Any,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""
    input1, input2 = _tensors(input1, input2)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ShapeError(
            f"cosine_embedding_loss: inputs must both be (N, D) or (D,), got "
            f"{input1.shape} and {input2.shape}"
        )
    dim = input1.ndim - 1
    eps = 1e-12
    dot = (input1 * input2).sum(dim=dim)  # (N,)
    mag = ((input1 * input1).sum(dim=dim) + eps) * ((input2 * input2).sum(dim=dim) + eps)
    cos = dot / mag**0.5  # (N,)
    pos, neg = _label_masks("cosine_embedding_loss", target, cos.dtype)
    loss = pos * (1.0 - cos) + neg * (cos - margin).clamp(min=0.0)
    return _reduce("cosine_embedding_loss", loss, legacy_reduction(size_average, reduce, reduction))


@tensor_args("input1", "input2", "target")
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Any,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where y = -1."""
    input1, input2 = _tensors(input1, input2)
    if not isinstance(target, Tensor):
        target = as_tensor(np.asarray(target, dtype=input1.dtype))
    loss = (-target * (input1 - input2) + margin).clamp(min=0.0)
    return _reduce("margin_ranking_loss", loss, legacy_reduction(size_average, reduce, reduction))


@tensor_args("input", "target")
def hinge_embedding_loss(
    input: Tensor,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """x where y = 1 and max(0, margin - x) where y = -1 (input is usually a distance)."""
    input = _tensors(input)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    keep_self = _mask(t != -1, input.dtype)
    keep_margin = _mask(t != 1, input.dtype)
    loss = keep_self * input + keep_margin * (margin - input).clamp(min=0.0)
    return _reduce("hinge_embedding_loss", loss, legacy_reduction(size_average, reduce, reduction))
