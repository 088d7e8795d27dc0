"""Shared pieces of the language-model and sequence examples.

* `LMTrainConfig`, `train_lm`: the character-LM training loop (AdamW, linear warmup then cosine
  decay, gradient clipping, periodic validation), written once for the RNNs and the GPT.
* `eval_batches`, `estimate_loss`: the loss on a fixed set of windows of one split, so successive
  estimates (and the PyTorch comparison in `benchmarks/compare_language_models.py`) see the same
  characters.
* `lr_factor`: the learning-rate schedule as a plain function, so another framework can follow it.
* `sample_next`: one step of temperature / top-k sampling from logits.
* `report_lm`: the common end of an LM example (sample, checkpoint, curves, metrics).
* `train_steps`: the step loop itself, also used by the examples that generate their batches. It
  keeps the weights of the evaluation with the lowest validation loss and restores them at the
  end; the test split is read once, afterwards, by `report_lm`.
* `nats_per_char`: the loss over a whole validation text per character, comparable across
  tokenizers (characters, BPE).

A language model here is any Module with `forward(idx) -> logits`, idx (B, T) int64 ids and logits
(B, T, vocab_size).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor
from ..data.text import CharCorpus
from ..data.token_corpus import TokenCorpus
from ..grad_mode import no_grad
from ..nn import functional as F
from ..training import History

Batch = tuple[np.ndarray, np.ndarray]
Corpus = CharCorpus | TokenCorpus  # one id per character, or per subword token
ModelT = TypeVar("ModelT", bound=nn.Module)


@dataclass
class LMTrainConfig:
    """Optimisation settings for `train_lm` (batches are `block_size` characters long)."""

    steps: int = 1000
    batch_size: int = 32
    block_size: int = 64
    lr: float = 3e-3
    min_lr_ratio: float = 0.1  # the cosine decay ends at lr * min_lr_ratio
    warmup: int = 50
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0  # 0 disables clipping
    eval_every: int = 250
    eval_iters: int = 8  # validation batches per estimate
    seed: int = 0  # seeds the training batches (the model is seeded by the caller)


def lr_factor(step: int, cfg: LMTrainConfig) -> float:
    """Multiplier of cfg.lr at `step` (1-based): linear warmup, then cosine down to min_lr_ratio."""
    if step <= cfg.warmup:
        return step / max(cfg.warmup, 1)
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * cosine


def lm_loss(model: nn.Module, x: np.ndarray, y: np.ndarray) -> Tensor:
    """Mean next-character cross-entropy (nats/char) of `model` on ids x, targets y (B, T)."""
    logits = model(as_tensor(x))  # (B, T, V)
    B, T, V = logits.shape
    return F.cross_entropy(logits.reshape(B * T, V), as_tensor(y.reshape(B * T)))


def eval_batches(corpus: Corpus, cfg: LMTrainConfig, split: str = "val") -> list[Batch]:
    """`eval_iters` fixed windows from `split` (seeded apart from the training batches)."""
    rng = np.random.default_rng(10_000 + cfg.seed + (1 if split == "test" else 0))
    return [corpus.batch(cfg.block_size, cfg.batch_size, split, rng) for _ in range(cfg.eval_iters)]


def estimate_loss(model: nn.Module, batches: list[Batch]) -> float:
    """Mean loss over `batches` in eval mode, without recording a graph."""
    was_training = model.training
    model.eval()
    with no_grad():
        losses = [float(lm_loss(model, x, y).item()) for x, y in batches]
    model.train(was_training)
    return float(np.mean(losses))


def nats_per_char(
    model: nn.Module,
    ids: np.ndarray,
    block_size: int,
    char_counts: np.ndarray | None = None,
    batch_size: int = 32,
) -> float:
    """Total cross-entropy (nats) of predicting ids[1:] from what precedes each, divided by the
    number of characters those tokens hold (`char_counts[i]` for token i; one per token if None).

    The text is read in consecutive windows of `block_size` targets, so each token is predicted
    once, from the previous ones in its window (at most block_size tokens of context).
    """
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.ones(len(ids), np.int64) if char_counts is None else np.asarray(char_counts)
    if len(ids) < 2 or counts.shape != ids.shape:
        raise ValueError(
            f"nats_per_char: need >= 2 ids and one char count per id, got "
            f"{len(ids)} ids and counts of shape {counts.shape}"
        )
    starts = list(range(0, len(ids) - 1, block_size))
    full = [s for s in starts if s + block_size < len(ids)]
    was_training = model.training
    model.eval()
    total = 0.0
    with no_grad():
        for i in range(0, len(full), batch_size):
            rows = np.array(full[i : i + batch_size])[:, None] + np.arange(block_size)  # (B, T)
            total += _sum_loss(model, ids[rows], ids[rows + 1])
        for s in starts[len(full) :]:  # the last, shorter window
            total += _sum_loss(model, ids[None, s:-1], ids[None, s + 1 :])
    model.train(was_training)
    return total / float(counts[1:].sum())


def _sum_loss(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    logits = model(as_tensor(x))  # (B, T, V)
    B, T, V = logits.shape
    return float(
        F.cross_entropy(logits.reshape(B * T, V), as_tensor(y.reshape(B * T)), reduction="sum").item()
    )


def make_optimizer(model: nn.Module, cfg: LMTrainConfig) -> optim.AdamW:
    """AdamW with weight decay on matrices only (biases, norms, embeddings of size 1 excluded)."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return optim.AdamW([g for g in groups if g["params"]], lr=cfg.lr, betas=cfg.betas)


def train_lm(
    model: nn.Module,
    corpus: Corpus,
    cfg: LMTrainConfig,
    log: Callable[[str], Any] | None = print,
    restore_best: bool = True,
) -> History:
    """Train a character LM on random windows of `corpus`; returns the History.

    History columns, one row per evaluation: step, loss (mean training loss since the previous
    evaluation), val_loss, time (seconds of training so far). With `restore_best` the model ends
    with the weights of the evaluation with the lowest val_loss (`history.best_epoch` is its row).
    """
    rng = np.random.default_rng(cfg.seed)
    val = eval_batches(corpus, cfg)
    return train_steps(
        model,
        lambda step: corpus.batch(cfg.block_size, cfg.batch_size, "train", rng),
        lambda m, batch: lm_loss(m, *batch),
        cfg,
        evaluate=lambda: {"val_loss": estimate_loss(model, val)},
        log=log,
        restore_best=restore_best,
    )


def sample_next(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Draw one id per row from logits (B, V): softmax(logits / temperature) over the top_k.

    temperature 0 means greedy (argmax).
    """
    logits = np.asarray(logits, dtype=np.float64)  # (B, V)
    if temperature <= 0:
        return logits.argmax(-1)  # (B,)
    rng = rng or np.random.default_rng()
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]  # (B, 1)
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)  # (B, V)
    return np.array([rng.choice(len(p), p=p) for p in probs], dtype=np.int64)  # (B,)


def train_steps(
    model: ModelT,
    next_batch: Callable[[int], Any],
    loss_fn: Callable[[ModelT, Any], Tensor],
    cfg: LMTrainConfig,
    evaluate: Callable[[], dict[str, float]] | None = None,
    log: Callable[[str], Any] | None = print,
    restore_best: bool = False,
) -> History:
    """The step loop under `train_lm`, also used directly for freshly generated batches.

    `next_batch(step)` returns a batch and `loss_fn(model, batch)` its loss. Every
    `cfg.eval_every` steps (and at the end) the History logs the mean training loss since the last
    row, the values returned by `evaluate()` (if given) and the training time so far. With
    `restore_best`, `evaluate()` must return a "val_loss" (on validation data, never the test
    split): the weights of the row where it was lowest are restored at the end, and
    `history.best_epoch` is that row (1-based).
    """
    if restore_best and evaluate is None:
        raise ValueError("train_steps: restore_best=True needs evaluate() returning a val_loss")
    opt = make_optimizer(model, cfg)
    history = History()
    best, best_state = float("inf"), None
    model.train()
    running, count, train_time, start = 0.0, 0, 0.0, time.perf_counter()
    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, cfg)
        loss = loss_fn(model, next_batch(step))
        opt.zero_grad()
        loss.backward()
        if cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        running, count = running + float(loss.item()), count + 1
        if step % cfg.eval_every == 0 or step == cfg.steps:
            train_time += time.perf_counter() - start  # evaluation time is not training time
            row = {"step": step, "loss": running / count, **(evaluate() if evaluate else {})}
            history.log(**row, time=train_time)
            if log is not None:
                log("  ".join(f"{k} {v:.4f}" if k != "step" else f"step {v:5d}" for k, v in row.items()))
            if restore_best and row["val_loss"] < best:
                best, history.best_epoch = row["val_loss"], len(history["step"])
                best_state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
            running, count, start = 0.0, 0, time.perf_counter()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def report_lm(
    model: nn.Module,
    corpus: Corpus,
    history: History,
    out_dir: str,
    name: str,
    config: Any,
    train: LMTrainConfig,
    sample_chars: int = 300,
    seed: int = 0,
    prompt: str = "Return ",
) -> dict:
    """The common end of an LM example: the test loss (read once, here, on fixed windows of the
    test split), a sample, a checkpoint, the curves, the headline metrics.

    `model` must have `generate(idx, max_new_tokens, temperature, top_k, rng)`; `config` is the
    model's config dataclass (stored in the checkpoint); `train` gives the test windows' size.
    """
    test_loss = estimate_loss(model, eval_batches(corpus, train, "test"))
    from ..serialization import save  # late: serialization sits above nn in the layering

    ids = model.generate(
        corpus.encode(prompt)[None], sample_chars, temperature=0.8, top_k=10, rng=np.random.default_rng(seed)
    )  # (1, len(prompt) + sample_chars)
    text = corpus.decode(ids[0])
    with open(os.path.join(out_dir, "sample.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    ckpt = os.path.join(out_dir, f"{name}.ckpt")
    save({"model": model.state_dict(), "config": asdict(config)}, ckpt)
    every = int(history["step"][0]) if history["step"] else 0
    curves = history.plot(os.path.join(out_dir, "curves.png"), f"{name} (one point per {every} steps)")
    best = (history.best_epoch or len(history["val_loss"])) - 1
    return {
        "test_loss": test_loss,
        "test_unigram_loss": corpus.unigram_loss("test"),
        "val_loss": history["val_loss"][best],
        "best_step": int(history["step"][best]),
        "train_loss": history["loss"][-1],
        "unigram_loss": corpus.unigram_loss("val"),
        "num_params": sum(p.numel() for p in model.parameters()),
        "train_time_s": history["time"][-1],
        "sample": text,
        "checkpoint": ckpt,
        "curves": curves,
    }
