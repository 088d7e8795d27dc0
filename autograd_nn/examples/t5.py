"""A tiny encoder-decoder transformer (T5-style text-to-text) that learns to reverse or sort digits.

The encoder reads the source digits with bidirectional self-attention; the decoder writes the
answer one digit at a time, with causal self-attention over what it has written and
cross-attention over the encoder's output. Token embeddings are shared by encoder, decoder and
output head (as in T5); positions are learned. Trained with teacher forcing, evaluated by greedy
decoding: a sequence counts only if every digit is right (exact match).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import nn
from .._tensor import Tensor, as_tensor
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from .lm_common import LMTrainConfig, train_steps
from .registry import example

BOS = 10  # decoder start token; ids 0-9 are the digits


@dataclass
class Seq2SeqConfig:
    vocab_size: int = 11  # ten digits + BOS
    max_len: int = 16
    d_model: int = 64
    nhead: int = 4
    num_layers: int = 2  # in the encoder and in the decoder
    dim_feedforward: int = 128
    dropout: float = 0.0


class Seq2SeqTransformer(nn.Module):
    """forward(src (B, S), tgt_in (B, T)) -> logits (B, T, vocab) for the next target token."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.embed = nn.Embedding(config.vocab_size, d)  # shared by encoder, decoder and head
        self.src_pos = nn.LearnedPositionalEmbedding(config.max_len, d, batch_first=True)
        self.tgt_pos = nn.LearnedPositionalEmbedding(config.max_len, d, batch_first=True)
        self.transformer = nn.Transformer(
            d,
            config.nhead,
            config.num_layers,
            config.num_layers,
            config.dim_feedforward,
            config.dropout,
            partial(F.gelu, approximate="tanh"),
            batch_first=True,
            norm_first=True,
        )
        nn.init.normal_(self.embed.weight, 0.0, d**-0.5)

    def encode(self, src: Tensor) -> Tensor:
        x = self.src_pos(self.embed(src))  # (B, S, d)
        return self.transformer.encoder(x)  # (B, S, d): the memory the decoder attends to

    def decode(self, tgt_in: Tensor, memory: Tensor) -> Tensor:
        T = tgt_in.shape[1]
        y = self.tgt_pos(self.embed(tgt_in))  # (B, T, d)
        mask = nn.Transformer.generate_square_subsequent_mask(T)  # (T, T): no peeking ahead
        y = self.transformer.decoder(y, memory, tgt_mask=mask)  # (B, T, d)
        return y @ self.embed.weight.T  # (B, T, vocab): tied output head

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        return self.decode(tgt_in, self.encode(src))  # (B, T, vocab)

    def greedy_decode(self, src: np.ndarray, length: int) -> np.ndarray:
        """Write `length` tokens for each row of src (B, S), always taking the likeliest next."""
        was_training = self.training
        self.eval()
        with no_grad():
            memory = self.encode(as_tensor(src))  # (B, S, d)
            out = np.full((len(src), 1), BOS, dtype=np.int64)  # (B, 1)
            for _ in range(length):
                logits = self.decode(as_tensor(out), memory).numpy()[:, -1]  # (B, vocab)
                out = np.concatenate([out, logits.argmax(-1)[:, None]], 1)  # (B, t + 1)
        self.train(was_training)
        return out[:, 1:]  # (B, length), BOS dropped


class DigitTask:
    """Random digit strings of a fixed length and their targets, reversed or sorted.

    A held-out test set is drawn first, then a validation set with none of the test strings;
    training batches never contain a test or validation string.
    """

    def __init__(
        self, length: int = 8, task: str = "reverse", test_size: int = 500, seed: int = 0, val_size: int = 500
    ) -> None:
        if task not in ("reverse", "sort"):
            raise ValueError(f"DigitTask: task must be 'reverse' or 'sort', got {task!r}")
        self.length, self.task = length, task
        self.rng = np.random.default_rng(seed)
        self.test_src = self._draw(test_size, exclude=None)  # (N, L)
        self.val_src = self._draw(val_size, exclude=set(self._keys(self.test_src)))  # (<= N, L)
        self._held_out = set(self._keys(self.test_src)) | set(self._keys(self.val_src))

    @staticmethod
    def _keys(src: np.ndarray) -> list[bytes]:
        return [row.tobytes() for row in src]

    def _draw(self, n: int, exclude: set | None) -> np.ndarray:
        src = self.rng.integers(0, 10, (n, self.length))  # (n, L)
        if exclude:
            keep = np.array([k not in exclude for k in self._keys(src)])
            src = src[keep]
        return src

    def target(self, src: np.ndarray) -> np.ndarray:
        return src[:, ::-1].copy() if self.task == "reverse" else np.sort(src, axis=1)

    def batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(src, decoder input = BOS + target[:-1], target), each (B, L)."""
        return self.teacher_forcing(self._draw(batch_size, exclude=self._held_out))

    def teacher_forcing(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(src, decoder input = BOS + target[:-1], target) for given source strings."""
        tgt = self.target(src)
        tgt_in = np.concatenate([np.full((len(src), 1), BOS), tgt[:, :-1]], 1)
        return src, tgt_in, tgt


def seq2seq_loss(model: Seq2SeqTransformer, batch: tuple) -> Tensor:
    """Teacher forcing: cross-entropy of each target token given the true previous ones."""
    src, tgt_in, tgt = batch
    logits = model(as_tensor(src), as_tensor(tgt_in))  # (B, L, vocab)
    B, L, V = logits.shape
    return F.cross_entropy(logits.reshape(B * L, V), as_tensor(tgt.reshape(B * L)))


def exact_match(model: Seq2SeqTransformer, task: DigitTask) -> tuple[float, float]:
    """(fraction of test strings decoded exactly right, fraction of digits right)."""
    pred = model.greedy_decode(task.test_src, task.length)  # (N, L)
    right = pred == task.target(task.test_src)
    return float(right.all(1).mean()), float(right.mean())


@example("t5", "tiny encoder-decoder transformer reversing digit strings (greedy decoding)")
def run(
    out_dir: str = "runs/t5",
    quick: bool = False,
    steps: int = 1200,
    length: int = 8,
    task: str = "reverse",
    seed: int = 0,
    config: Seq2SeqConfig | None = None,
    batch_size: int = 64,
    lr: float = 2e-3,
    log: bool = True,
) -> dict:
    """Train on freshly drawn strings, keep the step with the lowest loss on 500 validation
    strings; returns exact match on 500 other held-out test strings."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    data = DigitTask(length=4 if quick else length, task=task, seed=seed)
    config = config or (
        Seq2SeqConfig(d_model=32, num_layers=1, dim_feedforward=64) if quick else Seq2SeqConfig()
    )
    model = Seq2SeqTransformer(config)
    steps = 30 if quick else steps
    cfg = LMTrainConfig(steps=steps, lr=lr, warmup=min(100, steps // 10), eval_every=10 if quick else 100)
    val = data.teacher_forcing(data.val_src)

    def validate() -> dict[str, float]:
        model.eval()
        with no_grad():
            loss = float(seq2seq_loss(model, val).item())
        model.train()
        return {"val_loss": loss}

    history = train_steps(
        model,
        lambda step: data.batch(batch_size),
        seq2seq_loss,
        cfg,
        evaluate=validate,
        log=print if log else None,
        restore_best=True,
    )
    match, digits = exact_match(model, data)  # the test strings, read once
    src = data.test_src[:5]
    examples = [
        ("".join(map(str, s)), "".join(map(str, p)))
        for s, p in zip(src, model.greedy_decode(src, data.length))
    ]
    curves = history.plot(
        os.path.join(out_dir, "curves.png"),
        f"{task} {data.length} digits (one point per {cfg.eval_every} steps)",
    )
    assert history.best_epoch is not None  # restore_best=True picked a row
    return {
        "exact_match": match,
        "digit_accuracy": digits,
        "train_loss": history["loss"][-1],
        "best_step": int(history["step"][history.best_epoch - 1]),
        "num_params": sum(p.numel() for p in model.parameters()),
        "train_time_s": history["time"][-1],
        "examples": examples,
        "curves": curves,
    }
