"""Fused cross-entropy with class indices (kernels in `kernels/softmax.py`).

Each op runs its forward and first-order backward as one or two passes over a (rows, classes) view
instead of the five or six NumPy temporaries of the composite form. Their backward works on arrays
only (`differentiable_backward = False`); `composite` recomputes the same forward with Tensor ops, so
`create_graph=True` (gradient penalties, Hessian-vector products) still works through the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import DTypeError, OpIndexError, ShapeError
from ...function import Function, TensorBase
from ...kernels import softmax as ksoftmax
from .common import NUMPY_EXP_MIN, check_float, from_rows, stable_shift, to_rows

_REDUCTIONS = ("none", "mean", "sum")
# Cross-entropy takes its exp passes from NumPy at every size, and below CE_KERNEL_MIN entries it
# does the rest in NumPy too: a first training step (the usual 10-class head) then compiles none of
# the four kernels it used to (1.2 s of a 3.6 s cold start, measured), for about 20 us a call more
# on small batches. Larger inputs use the one-pass kernels, where they save more than that.
CE_NUMBA_EXP_BELOW = 0
CE_KERNEL_MIN = 1 << 14


def _logsumexp(x2: np.ndarray, numba_below: int = NUMPY_EXP_MIN) -> tuple[np.ndarray, np.ndarray]:
    """Each row's log-sum-exp as `kernels.softmax.logsumexp_rows`'s pair (m, ls): the Numba kernel
    on inputs smaller than `numba_below`, NumPy's SIMD exp on larger ones."""
    if x2.size < numba_below:
        return ksoftmax.logsumexp_rows(x2)
    m = x2.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        e = np.subtract(x2, m)
        np.exp(e, out=e)
        return m[:, 0], np.log(e.sum(axis=1, dtype=np.float64))


def _probs(
    x2: np.ndarray, lse: tuple[np.ndarray, np.ndarray], numba_below: int = NUMPY_EXP_MIN
) -> np.ndarray:
    """exp((x2 - m) - ls) as a new array."""
    m, ls = lse
    if x2.size < numba_below:
        return ksoftmax.softmax_from_lse(x2, m, ls)
    with np.errstate(invalid="ignore", over="ignore"):
        p = np.subtract(x2, m[:, None])
        p -= ls.astype(x2.dtype)[:, None]
        return np.exp(p, out=p)


def _ce_valid(target: np.ndarray, c: int, ignore_index: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(rows that count, their targets with 0 elsewhere, the first out-of-range row or -1)."""
    kept = target != ignore_index
    bad = kept & ((target < 0) | (target >= c))
    valid = kept & ~bad
    return valid, np.where(valid, target, 0), int(bad.argmax()) if bad.any() else -1


def _ce_forward_np(x, target, weight, mx, ls, ignore_index, smoothing):
    """`kernels.softmax.cross_entropy_forward` in NumPy (the same formula, for small inputs)."""
    n, c = x.shape
    valid, t, bad = _ce_valid(target, c, ignore_index)
    wt = np.where(valid, weight[t], 0.0)  # float64
    rows = np.arange(n)
    loss = (1.0 - smoothing) * wt * ((mx - x[rows, t]) + ls)
    if smoothing != 0.0:
        nll = (mx[:, None] - x) + ls[:, None]  # (N, C): -log p
        loss += (smoothing / c) * np.where(valid, nll @ weight.astype(np.float64), 0.0)
    return loss.astype(x.dtype), float(wt.sum()), bad


def _ce_backward_np(p, target, weight, ignore_index, smoothing, grow):
    """`kernels.softmax.cross_entropy_backward` in NumPy: turns the probabilities into dlogits."""
    n, c = p.shape
    valid, t, _ = _ce_valid(target, c, ignore_index)
    g = np.where(valid, grow, 0.0)  # float64; ignored and bad rows get zeros
    keep, share = 1.0 - smoothing, smoothing / c if c else 0.0
    wt = weight[t].astype(np.float64)
    p *= (g * (keep * wt + share * float(weight.sum(dtype=np.float64))))[:, None].astype(p.dtype)
    if smoothing != 0.0:
        p -= ((g * share)[:, None] * weight[None, :]).astype(p.dtype)
    p[np.arange(n), t] -= (g * keep * wt).astype(p.dtype)
    return p


class CrossEntropyIndices(Function):
    """Cross-entropy of logits (N, C, *) or (C,) with class indices (N, *) or (), PyTorch semantics.

    `target`, `weight` (C,), `ignore_index`, `label_smoothing` and `reduction` are parameters, not
    inputs: the class weights are constants of the loss, as in PyTorch. 'mean' divides by the total
    weight of the counted rows (their number without weights); it is NaN, with zero gradient, when
    every row is ignored.
    """

    differentiable_backward = False

    def forward(
        self,
        logits: np.ndarray,
        target: np.ndarray,
        weight: np.ndarray | None = None,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> np.ndarray:
        op = "CrossEntropyIndices"
        dtype = check_float(op, logits)
        target = np.asarray(target)
        if target.dtype.kind not in "iu":
            raise DTypeError(f"{op}: target must hold integer class indices, got {target.dtype}")
        if logits.ndim == 0 or (
            target.shape != logits.shape[:1] + logits.shape[2:]
            and not (logits.ndim == 1 and target.ndim == 0)
        ):
            raise ShapeError(
                f"{op}: logits {logits.shape} and target {target.shape} do not match; "
                "expected logits (N, C, *) with target (N, *), or (C,) with ()"
            )
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
        n_cls = logits.shape[0] if logits.ndim == 1 else logits.shape[1]
        if weight is None:
            w = np.ones(n_cls, dtype)
        else:
            w = np.ascontiguousarray(weight, dtype=dtype)
            if w.shape != (n_cls,):
                raise ShapeError(f"{op}: weight has shape {w.shape}, expected ({n_cls},)")
        self.cls_dim = 0 if logits.ndim == 1 else 1
        x2 = to_rows(logits, self.cls_dim)
        tgt = np.ascontiguousarray(target, dtype=np.int64).reshape(-1)
        lse = _logsumexp(x2, CE_NUMBA_EXP_BELOW)
        rows = ksoftmax.cross_entropy_forward if x2.size >= CE_KERNEL_MIN else _ce_forward_np
        loss, total, bad = rows(x2, tgt, w, lse[0], lse[1], int(ignore_index), float(label_smoothing))
        if bad >= 0:
            raise OpIndexError(
                f"{op}: target {tgt[bad]} (row {bad}) is out of range for {n_cls} "
                f"classes (ignore_index={ignore_index})"
            )
        self.x2, self.tgt, self.w, self.lse, self.total = x2, tgt, w, lse, total
        self.ignore_index, self.smoothing, self.reduction = int(ignore_index), label_smoothing, reduction
        self.target_shape = target.shape
        if reduction == "none":
            return loss.reshape(target.shape)
        s = loss.sum(dtype=np.float64)
        if reduction == "mean":
            s = s / total if total != 0.0 else np.nan
        return np.asarray(s, dtype=dtype)

    def backward(self, g: np.ndarray) -> np.ndarray:
        x2 = self.x2
        n = x2.shape[0]
        if self.reduction == "none":
            grow = np.ascontiguousarray(g, dtype=x2.dtype).reshape(-1)
        else:
            scale = float(g)
            if self.reduction == "mean":
                scale = scale / self.total if self.total != 0.0 else 0.0
            grow = np.full(n, scale, x2.dtype)
        rows = ksoftmax.cross_entropy_backward if x2.size >= CE_KERNEL_MIN else _ce_backward_np
        dx2 = rows(
            _probs(x2, self.lse, CE_NUMBA_EXP_BELOW),
            self.tgt,
            self.w,
            self.ignore_index,
            float(self.smoothing),
            grow,
        )
        shape = self.target_shape[:1] + (x2.shape[1],) + self.target_shape[1:]
        return from_rows(dx2, shape, self.cls_dim)

    def composite(self, logits: Any) -> Any:
        x2, tgt, w = self.x2, self.tgt, self.w
        n, c = x2.shape
        x = logits.reshape(1, c) if logits.ndim == 1 else logits
        if x.ndim > 2:
            x = x.movedim(1, -1)
        x = x.reshape(n, c)
        z = x - stable_shift(x2, 1)
        logp = z - z.exp().sum(1, keepdim=True).log()
        valid = (tgt != self.ignore_index).astype(x2.dtype)
        coef = np.zeros((n, c), x2.dtype)
        rows = np.nonzero(valid)[0]
        coef[rows, tgt[rows]] = (1.0 - self.smoothing) * w[tgt[rows]]
        coef += (self.smoothing / c) * valid[:, None] * w[None, :]
        loss = -(logp * coef).sum(1)
        if self.reduction == "none":
            return loss.reshape(self.target_shape)
        if self.reduction == "sum":
            return loss.sum()
        if self.total == 0.0:
            return loss.sum() * 0.0 + float("nan")
        return loss.sum() / self.total


def _data(x: Any) -> Any:
    return x._data if isinstance(x, TensorBase) else x


def cross_entropy_indices(
    logits: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Any:
    """`F.cross_entropy` with class-index targets, log-softmax fused in (PyTorch semantics).

    `target` is an integer Tensor or array; `weight` (C,) a Tensor or array of class weights, treated
    as a constant.
    """
    w = _data(weight)
    return CrossEntropyIndices.apply(
        logits,
        target=np.asarray(_data(target)),
        weight=None if w is None else np.asarray(w),
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
