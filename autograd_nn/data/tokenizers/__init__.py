"""Tokenizers: text to integer ids and back.

* `WordTokenizer`: a word-level vocabulary built from a corpus, with padding and unknown tokens and
  batches padded into one id Tensor (for `Embedding(..., padding_idx=tokenizer.pad_id)`).
* `BPETokenizer`: byte-level byte-pair encoding as in GPT-2, trained on a corpus; every string
  round-trips exactly.

Both save to and load from JSON files (written atomically, no pickle).
"""

from .bpe import GPT2_SPLIT_PATTERN, BPETokenizer
from .word import WordTokenizer

__all__ = ["GPT2_SPLIT_PATTERN", "BPETokenizer", "WordTokenizer"]
