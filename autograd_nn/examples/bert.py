"""An encoder-only (BERT-style) transformer that classifies character strings as palindromes.

A [CLS] token is prepended to the string; token and learned position embeddings are summed and
layer-normalised, then a stack of (post-norm, as in BERT) transformer encoder layers lets every
position attend to every other one in both directions. The [CLS] token's final state goes through
BERT's pooler (Linear + tanh) and a linear classifier.

Why attention suits the task: a palindrome needs position i compared with position L-1-i, for
every i at once; an encoder layer can learn to attend from each position to its mirror.
Half of the negatives are hard: a palindrome with one or two characters changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor, cat
from ..data import DataLoader, TensorDataset
from ..nn import functional as F
from ..random import manual_seed
from ..training import train_classifier
from .data_parallel import parallelize
from .registry import example

ALPHABET = "abcd"
CLS = len(ALPHABET)  # the classification token's id


@dataclass
class BertConfig:
    vocab_size: int = len(ALPHABET) + 1  # letters + [CLS]
    max_len: int = 32
    d_model: int = 64
    nhead: int = 4
    num_layers: int = 2
    dim_feedforward: int = 128
    dropout: float = 0.0
    num_classes: int = 2
    norm_first: bool = False  # BERT is post-norm; pre-norm trains more steadily when deep


class BertClassifier(nn.Module):
    """forward(ids (B, L)) -> class logits (B, num_classes); [CLS] is prepended inside."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.tok_embed = nn.Embedding(config.vocab_size, d)
        self.pos_embed = nn.LearnedPositionalEmbedding(config.max_len, d, batch_first=True)
        self.embed_norm = nn.LayerNorm(d)
        layer = nn.TransformerEncoderLayer(
            d,
            config.nhead,
            config.dim_feedforward,
            config.dropout,
            partial(F.gelu, approximate="tanh"),
            batch_first=True,
            norm_first=config.norm_first,
        )
        self.encoder = nn.TransformerEncoder(layer, config.num_layers)
        self.pooler = nn.Linear(d, d)
        self.classifier = nn.Linear(d, config.num_classes)
        nn.init.normal_(self.tok_embed.weight, 0.0, 0.02)

    def forward(self, ids: Tensor) -> Tensor:
        B = ids.shape[0]
        cls = as_tensor(np.full((B, 1), CLS, dtype=np.int64))  # (B, 1)
        x = self.tok_embed(cat([cls, ids.long()], 1))  # (B, L + 1, d)
        x = self.embed_norm(self.pos_embed(x))  # (B, L + 1, d)
        x = self.encoder(x)  # (B, L + 1, d): every position has seen every other
        pooled = self.pooler(x[:, 0]).tanh()  # (B, d): the [CLS] position
        return self.classifier(pooled)  # (B, num_classes)


def palindromes(
    n: int, length: int, rng: np.random.Generator, exclude: set[bytes] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """n strings (ids, (n, length)) and labels (1 = palindrome): about half positives, a quarter
    near-misses (a palindrome with 1-2 characters changed), a quarter random strings; none of
    the strings in `exclude` (keys as made by `string_keys`), so splits can be kept disjoint."""
    if not exclude:
        return _palindromes(n, length, rng)
    xs, ys, have = [], [], 0
    while have < n:
        x, y = _palindromes(n, length, rng)
        keep = np.array([row.astype(np.int64).tobytes() not in exclude for row in x])
        xs.append(x[keep][: n - have])
        ys.append(y[keep][: n - have])
        have += len(xs[-1])
    return np.concatenate(xs), np.concatenate(ys)


def string_keys(x: np.ndarray) -> set[bytes]:
    """One hashable key per row of ids."""
    return {row.astype(np.int64).tobytes() for row in x}


def _palindromes(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    k = len(ALPHABET)
    half = rng.integers(0, k, (n, (length + 1) // 2))  # (n, ceil(L/2))
    x = np.concatenate([half, half[:, : length // 2][:, ::-1]], 1)  # (n, L): all palindromes
    near = np.arange(n) % 4 == 1
    for i in np.flatnonzero(near):
        for pos in rng.choice(length, rng.integers(1, 3), replace=False):
            x[i, pos] = (x[i, pos] + rng.integers(1, k)) % k  # a different letter
    rand = np.arange(n) % 4 == 3
    x[rand] = rng.integers(0, k, (rand.sum(), length))
    y = (x == x[:, ::-1]).all(1).astype(np.int64)  # the true label, whatever the recipe
    order = rng.permutation(n)
    return x[order], y[order]


@example("bert", "encoder-only (BERT-style) classifier: is a string a palindrome?", distributed=True)
def run(
    out_dir: str = "runs/bert",
    quick: bool = False,
    epochs: int = 20,
    length: int = 10,
    n_train: int = 4000,
    seed: int = 0,
    config: BertConfig | None = None,
    lr: float = 1e-3,
    verbose: bool = True,
) -> dict:
    """Train on `n_train` strings, keep the epoch with the lowest loss on 500 validation strings;
    returns accuracy on 1000 test strings. The three sets share no string (with four letters
    there are only 1,024 palindromes of length 10, so random draws would repeat them)."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    x_test, y_test = palindromes(1000, length, rng)
    x_val, y_val = palindromes(500, length, rng, exclude=string_keys(x_test))
    x_train, y_train = palindromes(
        500 if quick else n_train, length, rng, exclude=string_keys(x_test) | string_keys(x_val)
    )
    val = DataLoader(TensorDataset(x_val, y_val), batch_size=500)
    test = DataLoader(TensorDataset(x_test, y_test), batch_size=500)
    config = config or (BertConfig(d_model=32, num_layers=1, dim_feedforward=64) if quick else BertConfig())
    # on N processes (--nproc N): DDP, each rank 64 / N strings of every batch of 64
    model, train = parallelize(BertClassifier(config), TensorDataset(x_train, y_train), 64, seed)
    epochs = 2 if quick else epochs
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    history, result, curves = train_classifier(
        model,
        train,
        val,
        test,
        opt,
        epochs,
        os.path.join(out_dir, "curves.png"),
        "BERT-style palindrome classifier",
        verbose,
    )
    if not result:  # a rank other than 0: rank 0 reports
        return {}
    return {
        "test_accuracy": result["acc"],
        "test_loss": result["loss"],
        "best_epoch": history.best_epoch,
        "train_positive_fraction": float(y_train.mean()),
        "majority_baseline": float(max(y_test.mean(), 1 - y_test.mean())),
        "num_params": sum(p.numel() for p in model.parameters()),
        "train_time_s": sum(history["time"]),
        "curves": curves,
    }
