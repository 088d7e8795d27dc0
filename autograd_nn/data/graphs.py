"""A small graph dataset for node classification, generated in code: a stochastic block model.

Nodes belong to communities; edges are dense inside a community and sparse across. Node features
are a weak, noisy hint of the community, so a model must use the edges (as a GCN does) to do well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GraphData:
    """x: (N, F) float32 features; edges: (E, 2) int64 undirected pairs; y: (N,) labels; masks."""

    x: np.ndarray
    edges: np.ndarray
    y: np.ndarray
    train_mask: np.ndarray
    val_mask: np.ndarray
    test_mask: np.ndarray

    @property
    def num_nodes(self) -> int:
        return len(self.y)

    def normalized_adjacency(self) -> np.ndarray:
        """D^-1/2 (A + I) D^-1/2, the propagation matrix of Kipf & Welling's GCN (dense)."""
        n = self.num_nodes
        a = np.eye(n, dtype=np.float32)
        a[self.edges[:, 0], self.edges[:, 1]] = 1.0
        a[self.edges[:, 1], self.edges[:, 0]] = 1.0
        d = 1.0 / np.sqrt(a.sum(1))
        return (a * d[:, None] * d[None, :]).astype(np.float32)


def stochastic_block_model(
    n_nodes: int = 300,
    n_classes: int = 3,
    p_in: float = 0.08,
    p_out: float = 0.005,
    n_features: int = 16,
    feature_noise: float = 2.0,
    train_per_class: int = 10,
    seed: int = 0,
) -> GraphData:
    """A planted-partition graph with `train_per_class` labelled nodes per class (semi-supervised)."""
    for name, n in (("n_nodes", n_nodes), ("n_classes", n_classes), ("n_features", n_features)):
        if n < 1:
            raise ValueError(f"stochastic_block_model: {name} must be >= 1, got {n}")
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"stochastic_block_model: {name} must be a probability, got {p}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_nodes).astype(np.int64)
    same = y[:, None] == y[None, :]
    prob = np.where(same, p_in, p_out)
    upper = np.triu(rng.random((n_nodes, n_nodes)) < prob, k=1)
    edges = np.argwhere(upper).astype(np.int64)
    centers = rng.normal(0, 1, (n_classes, n_features))
    x = centers[y] + rng.normal(0, feature_noise, (n_nodes, n_features))
    train = np.zeros(n_nodes, bool)
    for c in range(n_classes):
        train[rng.permutation(np.flatnonzero(y == c))[:train_per_class]] = True
    rest = rng.permutation(np.flatnonzero(~train))
    val = np.zeros(n_nodes, bool)
    val[rest[: len(rest) // 3]] = True
    test = ~(train | val)
    return GraphData(x.astype(np.float32), edges, y, train, val, test)
