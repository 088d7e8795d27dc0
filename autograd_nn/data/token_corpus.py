"""A text cut into training and validation parts and encoded by a subword tokenizer (e.g. BPE).

The counterpart of `CharCorpus` (same `batch`, `encode`, `decode`, `vocab_size`, `unigram_loss`)
for a tokenizer whose ids stand for byte strings. The cut is made on the text, at the same place
as `CharCorpus`'s (90% of the characters), so the validation text is the same whichever tokenizer
encodes it, and losses per character compare across tokenizers: `val_char_counts[i]` is the
number of characters that start inside validation token i (the UTF-8 lead bytes of its bytes), so
`val_char_counts.sum() == len(val_text)` exactly.
"""
from __future__ import annotations

import numpy as np

from .tokenizers import BPETokenizer


class TokenCorpus:
    """`text` split 90/10 into training and validation text, each encoded by `tokenizer`."""

    def __init__(self, text: str, tokenizer: BPETokenizer, val_fraction: float = 0.1) -> None:
        if not text:
            raise ValueError("TokenCorpus: the text is empty")
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"TokenCorpus: val_fraction must be in (0, 1), got {val_fraction}")
        self.tokenizer = tokenizer
        cut = int((1.0 - val_fraction) * len(text))
        self.train_text, self.val_text = text[:cut], text[cut:]
        self.train = self.encode(self.train_text)
        self.val = self.encode(self.val_text)
        lead_bytes = np.array([sum((b & 0xC0) != 0x80 for b in tokenizer.token_bytes(i))
                               for i in range(tokenizer.vocab_size)], dtype=np.int64)
        self.val_char_counts = lead_bytes[self.val]  # (len(val),)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def encode(self, s: str) -> np.ndarray:
        return np.array(self.tokenizer.encode(s), dtype=np.int64)

    def decode(self, ids: np.ndarray) -> str:
        return self.tokenizer.decode(np.asarray(ids).reshape(-1).tolist())

    def batch(self, block_size: int, batch_size: int, split: str = "train",
              rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Random windows: x (batch, block) ids and y = x shifted by one token."""
        data = self.train if split == "train" else self.val
        if len(data) <= block_size + 1:
            raise ValueError(f"TokenCorpus.batch: the {split} split ({len(data)} tokens) is "
                             f"shorter than block_size {block_size} + 2")
        rng = rng or np.random.default_rng()
        starts = rng.integers(0, len(data) - block_size - 1, batch_size)
        offsets = np.arange(block_size)
        return data[starts[:, None] + offsets], data[starts[:, None] + offsets + 1]

    def unigram_loss(self, split: str = "val") -> float:
        """Cross-entropy (nats/token) of the training-set token frequencies (add-one smoothed)."""
        counts = np.bincount(self.train, minlength=self.vocab_size) + 1.0
        logp = np.log(counts / counts.sum())
        data = self.val if split == "val" else self.train
        return float(-logp[data].mean())
