"""A tiny decoder-only GPT trained on characters or BPE tokens, written like nanoGPT's `model.py`.

Token and learned position embeddings, `n_layer` pre-norm blocks (LayerNorm -> causal
self-attention -> residual, LayerNorm -> MLP -> residual), a final LayerNorm and a language-model
head tied to the token embedding. Weights start N(0, 0.02), with the residual projections scaled
by 1/sqrt(2 n_layer) as in GPT-2. Sampling supports temperature and top-k.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from .. import nn
from .._tensor import Tensor, as_tensor
from ..data.text import CharCorpus, stdlib_docstrings
from ..data.token_corpus import TokenCorpus
from ..data.tokenizers import BPETokenizer
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from .lm_common import LMTrainConfig, nats_per_char, report_lm, sample_next, train_lm
from .registry import example


@dataclass
class GPTConfig:
    block_size: int = 64  # longest context the model sees
    vocab_size: int = 96
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True  # biases in Linear layers and LayerNorms


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t attends to positions <= t only."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(
                f"CausalSelfAttention: n_embd {config.n_embd} is not a multiple of n_head {config.n_head}"
            )
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd = config.n_head, config.n_embd

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape  # batch, time, channels (n_embd)
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # (B, T, C) each
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        # softmax(q k^T / sqrt(hs) + causal mask) v
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.attn_dropout if self.training else 0.0
        )  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))  # (B, T, C)


class MLP(nn.Module):
    """Position-wise feed-forward net: C -> 4C -> GELU (tanh approximation) -> C."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = F.gelu(self.c_fc(x), approximate="tanh")  # (B, T, 4C)
        return self.dropout(self.c_proj(x))  # (B, T, C)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    """Decoder-only transformer language model: forward(idx (B, T)) -> logits (B, T, vocab)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),  # token embeddings
                wpe=nn.Embedding(config.block_size, config.n_embd),  # learned position embeddings
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying (Press & Wolf, 2017)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2: scale the residual projections
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, 0.02)

    def num_params(self) -> int:
        """Parameter count (the tied embedding counted once)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: Tensor) -> Tensor:
        _B, T = idx.shape
        if self.config.block_size < T:
            raise ValueError(f"GPT: sequence of length {T} exceeds block_size {self.config.block_size}")
        pos = as_tensor(np.arange(T, dtype=np.int64))  # (T,)
        tok_emb = self.transformer.wte(idx)  # (B, T, C)
        pos_emb = self.transformer.wpe(pos)  # (T, C)
        x = self.transformer.drop(tok_emb + pos_emb)  # (B, T, C)
        for block in self.transformer.h:
            x = block(x)  # (B, T, C)
        x = self.transformer.ln_f(x)  # (B, T, C)
        return self.lm_head(x)  # (B, T, vocab)

    def generate(
        self,
        idx: np.ndarray,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Extend ids (B, T) by `max_new_tokens`, feeding back each sample (context cropped)."""
        was_training = self.training
        self.eval()
        idx = np.asarray(idx, dtype=np.int64)
        with no_grad():
            for _ in range(max_new_tokens):
                context = idx[:, -self.config.block_size :]  # (B, <= block_size)
                logits = self(as_tensor(context)).numpy()[:, -1, :]  # (B, vocab): the last position
                nxt = sample_next(logits, temperature, top_k, rng)  # (B,)
                idx = np.concatenate([idx, nxt[:, None]], axis=1)  # (B, T + 1)
        self.train(was_training)
        return idx


@example("gpt", "tiny decoder-only GPT on characters or BPE tokens (--tokenizer char|bpe)")
def run(
    out_dir: str = "runs/gpt",
    quick: bool = False,
    steps: int = 1000,
    seed: int = 0,
    config: GPTConfig | None = None,
    train: LMTrainConfig | None = None,
    max_chars: int = 200_000,
    log: bool = True,
    tokenizer: str = "char",
    bpe_vocab_size: int = 320,
) -> dict:
    """Train a GPT on stdlib docstrings; returns validation loss vs the unigram baseline.

    tokenizer "char" gives one id per character; "bpe" trains a byte-level BPE tokenizer of
    `bpe_vocab_size` ids on the training text first. Either way the context is `block_size`
    tokens, and `val_nats_per_char` (the loss over the whole validation text divided by its
    characters) compares the two.
    """
    if tokenizer not in ("char", "bpe"):
        raise ValueError(f"gpt: tokenizer must be 'char' or 'bpe', got {tokenizer!r}")
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    corpus, tokenizer_s = _corpus(tokenizer, 50_000 if quick else max_chars, bpe_vocab_size)
    train = train or LMTrainConfig(
        steps=40 if quick else steps,
        batch_size=16 if quick else 32,
        block_size=64,
        lr=3e-3,
        weight_decay=0.1,
        eval_every=20 if quick else 250,
        eval_iters=2 if quick else 8,
        seed=seed,
    )
    config = config or GPTConfig(
        block_size=train.block_size,
        vocab_size=corpus.vocab_size,
        n_layer=1 if quick else 2,
        n_head=4,
        n_embd=32 if quick else 64,
    )
    model = GPT(config)
    history = train_lm(model, corpus, train, log=print if log else None)
    result = report_lm(
        model, corpus, history, out_dir, "gpt", config, train, sample_chars=60 if quick else 300, seed=seed
    )
    if isinstance(corpus, TokenCorpus):
        result["tokenizer_file"] = os.path.join(out_dir, "tokenizer.json")
        corpus.tokenizer.save(result["tokenizer_file"])
    for split in ("val", "test"):  # per character: comparable across tokenizers
        ids = corpus.split(split)
        counts = corpus.char_counts(split) if isinstance(corpus, TokenCorpus) else None
        n_chars = len(ids) if counts is None else int(counts.sum())
        result[f"{split}_nats_per_char"] = nats_per_char(model, ids, config.block_size, counts)
        result[f"{split}_unigram_nats_per_char"] = corpus.unigram_loss(split) * len(ids) / n_chars
        if split == "val":
            result["chars_per_token"] = n_chars / len(ids)
    result.update(tokenizer=tokenizer, tokenizer_train_s=tokenizer_s)
    if log:
        print(
            f"{tokenizer}: {result['val_nats_per_char']:.3f} nats/char over the whole validation "
            f"text, {result['test_nats_per_char']:.3f} over the test text (unigram "
            f"{result['test_unigram_nats_per_char']:.3f}); {result['chars_per_token']:.2f} "
            "characters per token"
        )
    return result


def _corpus(tokenizer: str, max_chars: int, bpe_vocab_size: int) -> tuple[CharCorpus | TokenCorpus, float]:
    """The corpus for `tokenizer` and the seconds spent training the tokenizer (0 for chars).
    The BPE tokenizer learns from the training part of the text only."""
    if tokenizer == "char":
        return CharCorpus(max_chars=max_chars), 0.0
    text = stdlib_docstrings(max_chars)
    start = time.perf_counter()
    bpe = BPETokenizer.train(text[: int(0.9 * len(text))], bpe_vocab_size)
    return TokenCorpus(text, bpe), time.perf_counter() - start
