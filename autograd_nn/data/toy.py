"""Generated 2-D toy datasets (nothing downloaded): moons, circles, spirals, XOR, Gaussian mixtures.

Each returns (X float32 of shape (n, 2), y int64 of shape (n,)) and is fully determined by `seed`.
"""

from __future__ import annotations

import numpy as np


def _counts(op: str, **counts: int) -> None:
    """n_samples, n_classes, ... must be non-negative (positive for class and mode counts)."""
    for name, n in counts.items():
        low = 0 if name == "n_samples" else 1
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
            raise ValueError(f"{op}: {name} must be an int >= {low}, got {n!r}")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 below)."""
    _counts("make_moons", n_samples=n_samples)
    rng = _rng(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    x = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)]
    )
    y = np.concatenate([np.zeros(n0), np.ones(n1)]).astype(np.int64)
    x += rng.normal(0, noise, x.shape)
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order]


def make_circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1) inside a large one (class 0)."""
    _counts("make_circles", n_samples=n_samples)
    rng = _rng(seed)
    n0 = n_samples // 2
    n1 = n_samples - n0
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    x = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), factor * np.stack([np.cos(t1), np.sin(t1)], 1)]
    )
    y = np.concatenate([np.zeros(n0), np.ones(n1)]).astype(np.int64)
    x += rng.normal(0, noise, x.shape)
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order]


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`n_classes` interleaved spiral arms (the classic CS231n toy problem)."""
    _counts("make_spirals", n_samples=n_samples, n_classes=n_classes)
    rng = _rng(seed)
    per = n_samples // n_classes
    xs, ys = [], []
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, per)
        t = np.linspace(k * 4, (k + 1) * 4, per) + rng.normal(0, noise, per)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(per, k))
    x, y = np.concatenate(xs), np.concatenate(ys).astype(np.int64)
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order]


def make_xor(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners of a square; label = XOR of the coordinates' signs."""
    _counts("make_xor", n_samples=n_samples)
    rng = _rng(seed)
    corners = rng.integers(0, 2, size=(n_samples, 2))
    x = corners * 2.0 - 1.0 + rng.normal(0, noise, (n_samples, 2))
    y = (corners[:, 0] ^ corners[:, 1]).astype(np.int64)
    return x.astype(np.float32), y


def make_gaussian_mixture(
    n_samples: int = 1000, n_modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussians evenly spaced on a circle: the usual 2-D target for GANs. y is the mode index."""
    _counts("make_gaussian_mixture", n_samples=n_samples, n_modes=n_modes)
    rng = _rng(seed)
    modes = rng.integers(0, n_modes, n_samples)
    angle = 2 * np.pi * modes / n_modes
    centers = radius * np.stack([np.cos(angle), np.sin(angle)], 1)
    return (centers + rng.normal(0, std, centers.shape)).astype(np.float32), modes.astype(np.int64)
