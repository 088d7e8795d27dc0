"""Real training, end to end: the digits CNN and the character LSTM of the examples, in both libraries.

One timed call is a stretch of ordinary training code (batching from NumPy arrays, forward, loss,
backward, clipping, optimizer step), written once and run with `autograd_nn` or `torch` as `L`.
Both libraries get the same data, batches, steps, model sizes and initial weights:

- CNNt: `examples/cnn.py`'s network (conv 1->16, BatchNorm, ReLU, max-pool, conv 16->32, BatchNorm,
  ReLU, max-pool, linear 128->10), Adam lr 3e-3, batch 32, one epoch of 1,437 digits (45 steps).
- LSTMt: `examples/sequence.py`'s char_lstm (embedding 32, LSTM 128, linear head), AdamW lr 5e-3,
  gradient clipping at 1.0, batch 32 windows of 64 characters, 20 steps.

The first call of each (compiling or loading kernels, first-touch allocations) is not timed; its
extra cost is the row's one-time-cost row (`CNNt0`, `LSTMt0`). The data is built here with NumPy
and the standard library only, so no worker imports a library it does not time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .common import build_model, lib, per_library
from .harness import Target, Workload


# ---- digits CNN ----------------------------------------------------------------------------------
def digits_cnn_model(nn: Any) -> Any:
    class DigitsCNN(nn.Module):
        """The network of examples/cnn.py."""

        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1),
                nn.BatchNorm2d(16),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )  # (B, 32, 2, 2)
            self.classifier = nn.Linear(32 * 4, 10)

        def forward(self, x: Any) -> Any:
            return self.classifier(self.features(x).flatten(1))  # (B, 10)

    return DigitsCNN()


def digits(n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 digits (scikit-learn), 80% of them in a fixed order: x (n, 1, 8, 8), y (n,)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    order = np.random.default_rng(0).permutation(len(bunch.target))
    keep = order[: n or int(0.8 * len(order))]
    x = (bunch.images[keep] / 16.0).astype(np.float32)[:, None]
    return x, bunch.target[keep].astype(np.int64)


def cnn_epoch(impl: str, quick: bool) -> Callable[[], Any]:
    L = lib(impl)
    F = L.nn.functional
    model = build_model(impl, digits_cnn_model)
    opt = L.optim.Adam(model.parameters(), lr=3e-3)
    x, y = digits(24 if quick else None)
    batch = 8 if quick else 32
    shuffles = np.random.default_rng(1)

    def epoch() -> Any:
        model.train()
        perm = shuffles.permutation(len(y))
        for i in range(0, len(y), batch):
            idx = perm[i : i + batch]
            loss = F.cross_entropy(model(L.from_numpy(x[idx])), L.from_numpy(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss

    return epoch


def digits_cnn(quick: bool = False) -> Workload:
    """One epoch of the digits CNN (examples/cnn.py), Adam, batch 32."""
    steps = "3 steps, batch 8" if quick else "1 epoch = 45 steps of 32"
    return Workload(
        "CNNt",
        f"train digits CNN (examples/cnn.py), {steps}, end to end",
        target=Target("<=", 1.0),
        make=per_library(lambda impl: cnn_epoch(impl, quick)),
        repeats=8,
        one_time=True,
    )


# ---- character LSTM ------------------------------------------------------------------------------
def char_ids() -> tuple[np.ndarray, int]:
    """Characters of some standard-library docstrings as ids (the examples' corpus, abridged)."""
    import collections
    import functools
    import json
    import textwrap

    text = "\n\n".join(
        inspect.getdoc(obj) or ""
        for mod in (collections, functools, json, textwrap)
        for obj in [mod, *vars(mod).values()]
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj)
    )
    vocab = sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(vocab)}
    return np.array([lookup[ch] for ch in text], dtype=np.int64), len(vocab)


def char_lstm_model(vocab: int, n_embd: int, hidden: int) -> Callable[[Any], Any]:
    def build(nn: Any) -> Any:
        class CharLSTM(nn.Module):
            """examples/sequence.py's CharRNN with cell='lstm'."""

            def __init__(self) -> None:
                super().__init__()
                self.embedding = nn.Embedding(vocab, n_embd)
                self.rnn = nn.LSTM(n_embd, hidden, batch_first=True)
                self.head = nn.Linear(hidden, vocab)

            def forward(self, idx: Any) -> Any:
                return self.head(self.rnn(self.embedding(idx))[0])  # (B, T, vocab)

        return CharLSTM()

    return build


def lstm_steps(impl: str, quick: bool) -> Callable[[], Any]:
    L = lib(impl)
    F = L.nn.functional
    ids, vocab = char_ids()
    n_embd, hidden, batch, block, steps = (8, 16, 4, 8, 2) if quick else (32, 128, 32, 64, 20)
    model = build_model(impl, char_lstm_model(vocab, n_embd, hidden))
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    opt = L.optim.AdamW(
        [{"params": decay, "weight_decay": 0.0}, {"params": rest, "weight_decay": 0.0}],
        lr=5e-3,
        betas=(0.9, 0.99),
    )
    windows = np.random.default_rng(2)

    def run() -> Any:
        model.train()
        for _ in range(steps):
            start = windows.integers(0, len(ids) - block - 1, size=batch)
            rows = start[:, None] + np.arange(block + 1)  # (B, T + 1)
            x, y = ids[rows[:, :-1]], ids[rows[:, 1:]]
            logits = model(L.from_numpy(x))  # (B, T, vocab)
            loss = F.cross_entropy(logits.reshape(batch * block, vocab), L.from_numpy(y.reshape(-1)))
            opt.zero_grad()
            loss.backward()
            L.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return loss

    return run


def char_lstm(quick: bool = False) -> Workload:
    """20 training steps of the character LSTM (examples/sequence.py, char_lstm)."""
    what = "2 steps, tiny" if quick else "20 steps, batch 32 x 64 chars, hidden 128"
    return Workload(
        "LSTMt",
        f"train char LSTM (examples char_lstm), {what}, end to end",
        target=Target("<=", 1.0),
        make=per_library(lambda impl: lstm_steps(impl, quick)),
        repeats=8,
        one_time=True,
    )
