"""Train the char LSTM and the tiny GPT in autograd_nn and in PyTorch, side by side, and compare.

Both frameworks get the same architecture (the PyTorch modules below mirror
`autograd_nn.examples.sequence.CharRNN` and `autograd_nn.examples.gpt.GPT` name for name), the same
initial weights (the autograd_nn state_dict is copied into the PyTorch model), the same training
batches and validation windows (`examples.lm_common`), and the same optimiser settings (AdamW with
the same parameter groups, learning-rate schedule `lm_common.lr_factor` and gradient clipping).
After the same number of steps the validation losses should agree to within 0.05 nats/char: the
two runs differ only by float32 rounding.

    python -m benchmarks.compare_language_models [--steps N] [--model lstm|gpt|both]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import numpy as np

from autograd_nn import manual_seed
from autograd_nn.data.text import CharCorpus
from autograd_nn.examples.gpt import GPT, GPTConfig
from autograd_nn.examples.lm_common import LMTrainConfig, estimate_loss, eval_batches, lr_factor, train_lm
from autograd_nn.examples.sequence import CharRNN, CharRNNConfig

TOLERANCE = 0.05  # nats/char


def _torch_models() -> dict[str, Any]:
    """PyTorch twins of CharRNN (LSTM) and GPT, defined only once torch is importable."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class TorchCharLSTM(nn.Module):
        def __init__(self, c: CharRNNConfig) -> None:
            super().__init__()
            self.embedding = nn.Embedding(c.vocab_size, c.n_embd)
            self.rnn = nn.LSTM(c.n_embd, c.hidden_size, c.num_layers, batch_first=True)
            self.head = nn.Linear(c.hidden_size, c.vocab_size)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            return self.head(self.rnn(self.embedding(idx))[0])  # (B, T, vocab)

    class CausalSelfAttention(nn.Module):
        def __init__(self, c: GPTConfig) -> None:
            super().__init__()
            self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
            self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
            self.n_head, self.n_embd = c.n_head, c.n_embd

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            q, k, v = (
                t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v)
            )  # (B, nh, T, hs)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class MLP(nn.Module):
        def __init__(self, c: GPTConfig) -> None:
            super().__init__()
            self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
            self.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self, c: GPTConfig) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(c.n_embd, bias=c.bias)
            self.attn = CausalSelfAttention(c)
            self.ln_2 = nn.LayerNorm(c.n_embd, bias=c.bias)
            self.mlp = MLP(c)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self, c: GPTConfig) -> None:
            super().__init__()
            # entries reached by name (ModuleDict attributes are Tensor | Module to a type checker)
            self.transformer: Any = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(c.vocab_size, c.n_embd),
                    wpe=nn.Embedding(c.block_size, c.n_embd),
                    drop=nn.Dropout(c.dropout),
                    h=nn.ModuleList([Block(c) for _ in range(c.n_layer)]),
                    ln_f=nn.LayerNorm(c.n_embd, bias=c.bias),
                )
            )
            self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
            self.transformer["wte"].weight = self.lm_head.weight  # tied, as in nanoGPT

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            pos = torch.arange(idx.shape[1])
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            return self.lm_head(self.transformer.ln_f(x))  # (B, T, vocab)

    return {"lstm": TorchCharLSTM, "gpt": TorchGPT}


def _torch_loss(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    import torch

    logits = model(torch.from_numpy(x))  # (B, T, V)
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1)
    )


def train_torch(model: Any, corpus: CharCorpus, cfg: LMTrainConfig) -> float:
    """`lm_common.train_lm`, step for step, in PyTorch; returns the final validation loss."""
    import torch

    rng = np.random.default_rng(cfg.seed)
    val = eval_batches(corpus, cfg)
    params = list(model.parameters())
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.lr, betas=cfg.betas)
    model.train()
    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(step, cfg)
        x, y = corpus.batch(cfg.block_size, cfg.batch_size, "train", rng)
        loss = _torch_loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
    model.eval()
    with torch.no_grad():
        return float(np.mean([_torch_loss(model, x, y).item() for x, y in val]))


def build(name: str, corpus: CharCorpus, cfg: LMTrainConfig, seed: int = 0) -> tuple[Any, Any]:
    """The autograd_nn model and its PyTorch twin holding a copy of the same initial weights."""
    import torch

    manual_seed(seed)
    if name == "lstm":
        config: Any = CharRNNConfig(vocab_size=corpus.vocab_size, cell="lstm", n_embd=32, hidden_size=64)
        ours: CharRNN | GPT = CharRNN(config)
    elif name == "gpt":
        config = GPTConfig(
            block_size=cfg.block_size, vocab_size=corpus.vocab_size, n_layer=2, n_head=4, n_embd=32
        )
        ours = GPT(config)
    else:
        raise ValueError(f"unknown model {name!r} (use 'lstm' or 'gpt')")
    theirs = _torch_models()[name](config)
    state = {k: torch.from_numpy(np.array(v.numpy(), copy=True)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)
    return ours, theirs


def compare(
    name: str, steps: int = 200, seed: int = 0, max_chars: int = 50_000, verbose: bool = True
) -> dict[str, float]:
    """Train `name` ('lstm' or 'gpt') in both frameworks; validation losses and their gap."""
    corpus = CharCorpus(max_chars=max_chars)
    cfg = LMTrainConfig(
        steps=steps,
        batch_size=16,
        block_size=32,
        lr=3e-3,
        warmup=min(20, steps // 5),
        weight_decay=0.1,
        eval_every=steps,
        eval_iters=4,
        seed=seed,
    )
    ours, theirs = build(name, corpus, cfg, seed)
    initial = estimate_loss(ours, eval_batches(corpus, cfg))
    start = time.perf_counter()
    history = train_lm(ours, corpus, cfg, log=None, restore_best=False)  # as PyTorch: last weights
    ours_time = time.perf_counter() - start
    start = time.perf_counter()
    torch_val = train_torch(theirs, corpus, cfg)
    torch_time = time.perf_counter() - start
    ours_val = history["val_loss"][-1]
    result = {
        "initial_val_loss": initial,
        "autograd_nn_val_loss": ours_val,
        "torch_val_loss": torch_val,
        "difference": abs(ours_val - torch_val),
        "unigram_loss": corpus.unigram_loss("val"),
        "autograd_nn_time_s": ours_time,
        "torch_time_s": torch_time,
    }
    if verbose:
        print(
            f"{name:5s} {steps} steps: autograd_nn {ours_val:.4f} ({ours_time:.1f} s)  "
            f"torch {torch_val:.4f} ({torch_time:.1f} s)  difference "
            f"{result['difference']:.4f} nats/char  (start {initial:.4f}, unigram "
            f"{result['unigram_loss']:.4f})"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare_language_models", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--steps", type=int, default=200, help="training steps (default 200)")
    parser.add_argument("--model", choices=("lstm", "gpt", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: nothing to compare against", file=sys.stderr)
        return 2
    names = ("lstm", "gpt") if args.model == "both" else (args.model,)
    ok = True
    for name in names:
        r = compare(name, args.steps, args.seed)
        ok &= math.isfinite(r["difference"]) and r["difference"] <= TOLERANCE
    print(
        f"PASS: every difference within {TOLERANCE} nats/char"
        if ok
        else f"FAIL: a difference exceeds {TOLERANCE} nats/char"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
