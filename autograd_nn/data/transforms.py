"""Pre-processing helpers: standardisation and one-hot encoding."""

from __future__ import annotations

from typing import Any

import numpy as np


class Standardizer:
    """x -> (x - mean) / std with statistics fitted on training data only (no test-set leakage)."""

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = eps
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: Any, axis: Any = 0) -> Standardizer:
        x = np.asarray(x, dtype=np.float64)
        self.mean = x.mean(axis=axis, keepdims=True)
        self.std = x.std(axis=axis, keepdims=True)
        return self

    def transform(self, x: Any) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.transform called before fit")
        x = np.asarray(x)
        try:
            np.broadcast_shapes(x.shape, self.mean.shape)
        except ValueError:
            raise ValueError(
                f"Standardizer.transform: data of shape {x.shape} does not match the "
                f"fitted statistics of shape {self.mean.shape}"
            ) from None
        return ((x - self.mean) / (self.std + self.eps)).astype(
            x.dtype if x.dtype.kind == "f" else np.float32
        )

    def fit_transform(self, x: Any, axis: Any = 0) -> np.ndarray:
        return self.fit(x, axis).transform(x)


def standardize(train: Any, *others: Any, axis: Any = 0) -> tuple:
    """Standardise `train` and every array in `others` with the training statistics."""
    s = Standardizer().fit(train, axis)
    return (s.transform(train),) + tuple(s.transform(o) for o in others)


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """Integer labels (N,) -> (N, num_classes) one-hot rows."""
    labels = np.asarray(labels)
    if labels.size and labels.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    k = int(labels.max()) + 1 if num_classes is None else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"one_hot: labels must be in [0, {k}), got range [{labels.min()}, {labels.max()}]")
    out = np.zeros(labels.shape + (k,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out
