"""Classification metrics on plain values (Tensors or arrays in, Python numbers / arrays out)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _array(x: Any) -> np.ndarray:
    return np.asarray(getattr(x, "_data", x))


def predictions(output: Any) -> np.ndarray:
    """Class predictions from logits (N, C), probabilities, or already-made labels (N,)."""
    out = _array(output)
    if out.ndim >= 2 and out.shape[-1] > 1:
        return out.argmax(-1)
    if out.dtype.kind == "f":
        return (out.reshape(-1) > 0).astype(np.int64)  # one logit per sample: binary
    return out.reshape(-1)


def accuracy(output: Any, target: Any) -> float:
    """Fraction of correct predictions."""
    pred, tgt = predictions(output), _array(target).reshape(-1)
    if pred.shape != tgt.shape:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions for {tgt.shape[0]} targets")
    return float((pred == tgt).mean()) if tgt.size else 0.0


def confusion_matrix(output: Any, target: Any, num_classes: int | None = None) -> np.ndarray:
    """counts[i, j] = number of samples of true class i predicted as class j."""
    pred, tgt = predictions(output), _array(target).reshape(-1).astype(np.int64)
    k = num_classes or int(max(pred.max(initial=0), tgt.max(initial=0))) + 1
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (tgt, pred), 1)
    return counts
