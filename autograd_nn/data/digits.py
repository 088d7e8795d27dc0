"""The 8x8 handwritten digits that ship with scikit-learn (1,797 images, 10 classes).

scikit-learn is an optional dependency (`pip install autograd-nn[examples]`); without it the loader
raises an ImportError that says so.
"""

from __future__ import annotations

import numpy as np


def load_digits(
    test_fraction: float = 0.2, seed: int = 0, flatten: bool = False, val_fraction: float = 0.0
) -> dict:
    """A fixed, stratified train/test split of the digits, pixels scaled to [0, 1], and optionally
    a validation split carved out of the training part.

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test: images (n, 1, 8, 8) float32
    (or (n, 64) with flatten=True) and labels int64. The test split depends only on `seed` and
    `test_fraction`; the validation split takes `val_fraction` of every class's training images
    (seeded, stratified), so choosing a model on it never looks at the test split. With the
    default val_fraction=0 the validation arrays are empty and the training split is unchanged.
    """
    for name, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"load_digits: {name} must be in [0, 1], got {value}")
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as err:  # pragma: no cover - exercised only without scikit-learn
        raise ImportError(
            "load_digits needs scikit-learn, which ships the dataset: pip install scikit-learn "
            "(or pip install 'autograd-nn[examples]')"
        ) from err
    bunch = sk_load_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_idx: list[int] = []
    for c in range(10):  # stratified: the same fraction of every class in the test set
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test_idx.extend(idx[: round(len(idx) * test_fraction)])
    test_mask = np.zeros(len(y), bool)
    test_mask[test_idx] = True
    x = x.reshape(len(x), 64) if flatten else x[:, None]
    train_order = rng.permutation(np.flatnonzero(~test_mask))
    test_order = np.flatnonzero(test_mask)
    val_mask = np.zeros(len(train_order), bool)  # the first images of each class in train_order
    for c in range(10):
        of_class = np.flatnonzero(y[train_order] == c)
        val_mask[of_class[: round(len(of_class) * val_fraction)]] = True
    val_order, train_order = train_order[val_mask], train_order[~val_mask]
    return {
        "X_train": x[train_order],
        "y_train": y[train_order],
        "X_val": x[val_order],
        "y_val": y[val_order],
        "X_test": x[test_order],
        "y_test": y[test_order],
    }
