"""Character-level recurrent language models (RNN, LSTM, GRU) on stdlib docstrings, with sampling.

embedding -> recurrent layers -> linear head: at each position the network reads one character
and predicts the next. The recurrent state carries what it has read so far; an LSTM or GRU gates
that state so it survives longer than a plain tanh RNN's. Three examples share one `run`:
`char_rnn`, `char_lstm`, `char_gru`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from .._tensor import Tensor, as_tensor
from ..data.text import CharCorpus
from ..grad_mode import no_grad
from ..random import manual_seed
from .lm_common import LMTrainConfig, report_lm, sample_next, train_lm
from .registry import example

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass
class CharRNNConfig:
    vocab_size: int = 96
    cell: str = "lstm"  # "rnn", "lstm" or "gru"
    n_embd: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.0  # between recurrent layers (num_layers > 1)


class CharRNN(nn.Module):
    """forward(idx (B, T)) -> logits (B, T, vocab); `step` also returns the recurrent state."""

    def __init__(self, config: CharRNNConfig) -> None:
        super().__init__()
        if config.cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {sorted(CELLS)}, got {config.cell!r}")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.rnn = CELLS[config.cell](
            config.n_embd, config.hidden_size, config.num_layers, batch_first=True, dropout=config.dropout
        )
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def step(self, idx: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Logits for every position of idx (B, T), continuing from `state` (None: zeros)."""
        x = self.embedding(idx)  # (B, T, n_embd)
        h, state = self.rnn(x, state)  # (B, T, H); state (num_layers, B, H) (LSTM: (h, c))
        return self.head(h), state  # (B, T, vocab)

    def forward(self, idx: Tensor) -> Tensor:
        return self.step(idx)[0]  # (B, T, vocab)

    def generate(
        self,
        idx: np.ndarray,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Extend ids (B, T): read the prompt once, then one character at a time, keeping state."""
        was_training = self.training
        self.eval()
        idx = np.asarray(idx, dtype=np.int64)
        with no_grad():
            logits, state = self.step(as_tensor(idx))  # (B, T, vocab)
            for _ in range(max_new_tokens):
                nxt = sample_next(logits.numpy()[:, -1, :], temperature, top_k, rng)  # (B,)
                idx = np.concatenate([idx, nxt[:, None]], axis=1)  # (B, T + 1)
                logits, state = self.step(as_tensor(nxt[:, None]), state)  # (B, 1, vocab)
        self.train(was_training)
        return idx


def run(
    out_dir: str = "runs/char_lstm",
    quick: bool = False,
    cell: str = "lstm",
    steps: int = 1000,
    seed: int = 0,
    config: CharRNNConfig | None = None,
    train: LMTrainConfig | None = None,
    max_chars: int = 200_000,
    log: bool = True,
) -> dict:
    """Train a character-level `cell` LM; returns its validation loss and the unigram baseline."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    corpus = CharCorpus(max_chars=50_000 if quick else max_chars)
    train = train or LMTrainConfig(
        steps=40 if quick else steps,
        batch_size=16 if quick else 32,
        block_size=32 if quick else 64,
        lr=1e-2 if quick else 5e-3,
        eval_every=20 if quick else 250,
        eval_iters=2 if quick else 8,
        seed=seed,
    )
    config = config or CharRNNConfig(
        vocab_size=corpus.vocab_size, cell=cell, hidden_size=64 if quick else 128
    )
    model = CharRNN(config)
    history = train_lm(model, corpus, train, log=print if log else None)
    return report_lm(
        model,
        corpus,
        history,
        out_dir,
        f"char_{config.cell}",
        config,
        train,
        sample_chars=60 if quick else 300,
        seed=seed,
    )


@example("char_rnn", "character-level tanh RNN language model with sampling")
def run_rnn(out_dir: str = "runs/char_rnn", quick: bool = False, **kwargs: Any) -> dict:
    return run(out_dir, quick, cell="rnn", **kwargs)


@example("char_lstm", "character-level LSTM language model with sampling")
def run_lstm(out_dir: str = "runs/char_lstm", quick: bool = False, **kwargs: Any) -> dict:
    return run(out_dir, quick, cell="lstm", **kwargs)


@example("char_gru", "character-level GRU language model with sampling")
def run_gru(out_dir: str = "runs/char_gru", quick: bool = False, **kwargs: Any) -> dict:
    return run(out_dir, quick, cell="gru", **kwargs)
