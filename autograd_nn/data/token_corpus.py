"""A text cut into training, validation and test parts and encoded by a subword tokenizer (BPE).

The counterpart of `CharCorpus` (same `split`, `batch`, `encode`, `decode`, `vocab_size`,
`unigram_loss`) for a tokenizer whose ids stand for byte strings. The cuts are made on the text, at
the same places as `CharCorpus`'s (90% and 95% of the characters), so each split holds the same
text whichever tokenizer encodes it, and losses per character compare across tokenizers:
`char_counts(split)[i]` is the number of characters that start inside token i of that split (the
UTF-8 lead bytes of its bytes), so `char_counts("val").sum() == len(val_text)` exactly.
"""

from __future__ import annotations

import numpy as np

from .tokenizers import BPETokenizer


class TokenCorpus:
    """`text` split 90/5/5 into training, validation and test text, each encoded by `tokenizer`."""

    SPLITS = ("train", "val", "test")

    def __init__(self, text: str, tokenizer: BPETokenizer) -> None:
        if not text:
            raise ValueError("TokenCorpus: the text is empty")
        self.tokenizer = tokenizer
        cut_val, cut_test = int(0.90 * len(text)), int(0.95 * len(text))
        self.train_text, self.val_text = text[:cut_val], text[cut_val:cut_test]
        self.test_text = text[cut_test:]
        self.train, self.val, self.test = (
            self.encode(t) for t in (self.train_text, self.val_text, self.test_text)
        )
        self._lead_bytes = np.array(
            [sum((b & 0xC0) != 0x80 for b in tokenizer.token_bytes(i)) for i in range(tokenizer.vocab_size)],
            dtype=np.int64,
        )

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def val_char_counts(self) -> np.ndarray:
        return self.char_counts("val")

    def char_counts(self, split: str) -> np.ndarray:
        """Characters starting inside each token of `split`, (len(split),)."""
        return self._lead_bytes[self.split(split)]

    def split(self, name: str) -> np.ndarray:
        """The ids of split `name`: 'train', 'val' or 'test'."""
        if name not in self.SPLITS:
            raise ValueError(f"TokenCorpus: split must be one of {self.SPLITS}, got {name!r}")
        data: np.ndarray = getattr(self, name)
        return data

    def encode(self, s: str) -> np.ndarray:
        return np.array(self.tokenizer.encode(s), dtype=np.int64)

    def decode(self, ids: np.ndarray) -> str:
        return self.tokenizer.decode(np.asarray(ids).reshape(-1).tolist())

    def batch(
        self, block_size: int, batch_size: int, split: str = "train", rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random windows: x (batch, block) ids and y = x shifted by one token."""
        data = self.split(split)
        if len(data) <= block_size + 1:
            raise ValueError(
                f"TokenCorpus.batch: the {split} split ({len(data)} tokens) is "
                f"shorter than block_size {block_size} + 2"
            )
        rng = rng or np.random.default_rng()
        starts = rng.integers(0, len(data) - block_size - 1, batch_size)
        offsets = np.arange(block_size)
        return data[starts[:, None] + offsets], data[starts[:, None] + offsets + 1]

    def unigram_loss(self, split: str = "val") -> float:
        """Cross-entropy (nats/token) of the training-set token frequencies (add-one smoothed)."""
        counts = np.bincount(self.train, minlength=self.vocab_size) + 1.0
        logp = np.log(counts / counts.sum())
        return float(-logp[self.split(split)].mean())
