"""A graph convolutional network (Kipf & Welling, 2017) for semi-supervised node classification.

One GCN layer mixes each node's features with its neighbours' and transforms them:

    H' = A_hat H W,   A_hat = D^-1/2 (A + I) D^-1/2

(A_hat averages over a node and its neighbours, normalised by degree). Two layers,
softmax(A_hat relu(A_hat X W0) W1), see two hops of the graph. The data is a stochastic block model:
the node features are a weak, noisy hint of the community and only 10 nodes per class are labelled,
so a model that ignores the edges (the MLP baseline here) does poorly and the GCN does well.

The graph is fixed (transductive), so the model holds A_hat as a buffer and maps all node features
(N, F) to all node logits (N, C); unlabelled nodes are left out of a loss by `ignore_index`.
"""

from __future__ import annotations

import os

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor
from ..data import GraphData, stochastic_block_model
from ..grad_mode import no_grad
from ..nn import functional as F
from ..nn import init
from ..random import manual_seed
from ..serialization import load
from ..training import EarlyStopping, fit
from .registry import example

IGNORE = -100  # label of nodes outside a split: ignored by cross_entropy and masked_accuracy


class GraphConv(nn.Module):
    """H' = A_hat (H W) + b, with A_hat passed in (dense (N, N))."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.zeros((in_features, out_features), np.float32))
        self.bias = nn.Parameter(np.zeros(out_features, np.float32))
        init.xavier_uniform_(self.weight)  # Glorot, as in the paper

    def forward(self, h: Tensor, adj: Tensor) -> Tensor:
        return adj @ (h @ self.weight) + self.bias  # (N, N) @ (N, out) -> (N, out)


class GCN(nn.Module):
    """Two GraphConv layers with ReLU and dropout: (N, F) node features -> (N, C) logits."""

    def __init__(
        self, adjacency: np.ndarray, in_features: int, hidden: int, n_classes: int, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.register_buffer("adj", as_tensor(adjacency), persistent=False)  # (N, N) normalised
        self.conv1 = GraphConv(in_features, hidden)
        self.conv2 = GraphConv(hidden, n_classes)
        self.dropout = nn.Dropout(dropout)

    def embed(self, x: Tensor) -> Tensor:
        return F.relu(self.conv1(self.dropout(x), self.adj))  # (N, hidden)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(self.dropout(self.embed(x)), self.adj)  # (N, C)


class NodeMLP(nn.Module):
    """The baseline that ignores the edges: each node classified from its own features."""

    def __init__(self, in_features: int, hidden: int, n_classes: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (N, C)


def masked_accuracy(logits: Tensor, labels: Tensor) -> float:
    """Accuracy over the nodes whose label is not IGNORE."""
    pred, y = logits.numpy().argmax(-1), np.asarray(labels.numpy())
    keep = y != IGNORE
    return float((pred[keep] == y[keep]).mean()) if keep.any() else 0.0


def node_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy over the labelled nodes of one split."""
    return F.cross_entropy(logits, labels, ignore_index=IGNORE)


def split_labels(graph: GraphData, mask: np.ndarray) -> Tensor:
    """The labels of the nodes in `mask`, IGNORE elsewhere: (N,) int64."""
    return as_tensor(np.where(mask, graph.y, IGNORE).astype(np.int64))


def train_node_classifier(
    model: nn.Module,
    graph: GraphData,
    epochs: int,
    checkpoint: str,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    patience: int = 50,
) -> dict:
    """Full-batch Adam on the labelled nodes, early stopping on validation loss; the best epoch's
    weights (saved to `checkpoint`) are restored before testing."""
    x = as_tensor(graph.x)
    train = [(x, split_labels(graph, graph.train_mask))]  # one batch: the whole graph
    val = [(x, split_labels(graph, graph.val_mask))]
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = fit(
        model,
        train,
        node_loss,
        opt,
        epochs,
        val_loader=val,
        metrics={"acc": masked_accuracy},
        early_stopping=EarlyStopping(patience=patience),
        checkpoint_path=checkpoint,
        progress=False,
        verbose=False,
    )
    model.load_state_dict(load(checkpoint)["model"])
    model.eval()
    with no_grad():
        logits = model(x)
    return {
        "test_accuracy": masked_accuracy(logits, split_labels(graph, graph.test_mask)),
        "val_accuracy": masked_accuracy(logits, split_labels(graph, graph.val_mask)),
        "train_accuracy": masked_accuracy(logits, split_labels(graph, graph.train_mask)),
        "epochs": len(history["loss"]),
        "history": history,
    }


@example("gcn", "2-layer GCN for node classification on a stochastic block model")
def run(
    out_dir: str = "runs/gcn", quick: bool = False, epochs: int = 200, hidden: int = 16, seed: int = 0
) -> dict:
    """Train the GCN and an MLP baseline on the same labelled nodes; plot curves and embeddings."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    epochs = 10 if quick else epochs
    graph = stochastic_block_model(seed=seed)
    n_classes = int(graph.y.max()) + 1
    gcn = GCN(graph.normalized_adjacency(), graph.x.shape[1], hidden, n_classes)
    result = train_node_classifier(gcn, graph, epochs, os.path.join(out_dir, "gcn.ckpt"))
    manual_seed(seed)
    baseline = train_node_classifier(
        NodeMLP(graph.x.shape[1], hidden, n_classes), graph, epochs, os.path.join(out_dir, "mlp.ckpt")
    )
    curves = result["history"].plot(os.path.join(out_dir, "gcn_curves.png"), "GCN on an SBM graph")
    with no_grad():
        emb = gcn.embed(as_tensor(graph.x)).numpy()  # (N, hidden)
    picture = plot_graph(graph, emb, os.path.join(out_dir, "gcn_embeddings.png"))
    return {
        "test_accuracy": result["test_accuracy"],
        "val_accuracy": result["val_accuracy"],
        "train_accuracy": result["train_accuracy"],
        "epochs_trained": result["epochs"],
        "mlp_baseline_test_accuracy": baseline["test_accuracy"],
        "n_nodes": graph.num_nodes,
        "n_edges": len(graph.edges),
        "n_labelled": int(graph.train_mask.sum()),
        "curves": curves,
        "embeddings": picture,
    }


def plot_graph(graph: GraphData, emb: np.ndarray, path: str) -> str:
    """Left: the adjacency matrix with nodes sorted by community. Right: hidden features (PCA)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(graph.y, kind="stable")
    a = np.zeros((graph.num_nodes, graph.num_nodes))
    a[graph.edges[:, 0], graph.edges[:, 1]] = a[graph.edges[:, 1], graph.edges[:, 0]] = 1
    centred = emb - emb.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T  # (N, 2): the two principal directions
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    axes[0].imshow(a[order][:, order], cmap="Greys", interpolation="nearest")
    axes[0].set_title("adjacency, nodes sorted by community", fontsize=9)
    axes[1].scatter(xy[:, 0], xy[:, 1], c=graph.y, cmap="tab10", s=10)
    lab = graph.train_mask
    axes[1].scatter(xy[lab, 0], xy[lab, 1], facecolors="none", edgecolors="k", s=40, label="labelled")
    axes[1].legend(fontsize=8)
    axes[1].set_title("GCN hidden features (PCA), colour = community", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
