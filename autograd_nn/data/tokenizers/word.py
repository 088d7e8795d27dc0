"""A word-level tokenizer: one id per word of a vocabulary built from a corpus.

Text is (optionally) lower-cased and split into words (runs of letters, digits and '_') and single
punctuation marks; the padding and unknown tokens take ids 0 and 1, then the words by decreasing
frequency (ties alphabetical). Words outside the vocabulary map to the unknown id. Unlike the
byte-level BPE this loses information (case, spacing, rare words), so `decode` joins the tokens with
single spaces; what it keeps is `encode(decode(ids)) == ids` for ids without padding.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..._tensor import Tensor, as_tensor
from ...errors import CheckpointError
from .files import PathLike, field, read_tokenizer_json, write_json_atomic
from .inputs import iter_texts

__all__ = ["WordTokenizer"]

_WORD = r"\w+|[^\w\s]"


class WordTokenizer:
    """`WordTokenizer.train(texts, max_vocab, min_freq)`, then `encode`, `encode_batch`, `decode`.

    `vocab` is the list of tokens by id; it must hold `pad_token` and `unk_token`.
    """

    def __init__(
        self, vocab: Sequence[str], lower: bool = True, pad_token: str = "<pad>", unk_token: str = "<unk>"
    ) -> None:
        if isinstance(vocab, str):
            raise TypeError("WordTokenizer: vocab must be a sequence of str, not one str")
        self.vocab: list[str] = list(vocab)
        for i, token in enumerate(self.vocab):
            if not isinstance(token, str) or not token:
                raise ValueError(f"WordTokenizer: vocab[{i}] = {token!r} is not a non-empty str")
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.vocab)}
        if len(self.stoi) != len(self.vocab):
            twice = sorted(t for t, n in Counter(self.vocab).items() if n > 1)
            raise ValueError(f"WordTokenizer: vocab repeats {twice[:5]}")
        for name, token in (("pad_token", pad_token), ("unk_token", unk_token)):
            if token not in self.stoi:
                raise ValueError(f"WordTokenizer: {name} {token!r} is not in the vocabulary")
        if pad_token == unk_token:
            raise ValueError(f"WordTokenizer: pad_token and unk_token are both {pad_token!r}")
        self.lower, self.pad_token, self.unk_token = bool(lower), pad_token, unk_token
        self.pad_id, self.unk_id = self.stoi[pad_token], self.stoi[unk_token]
        specials = sorted((pad_token, unk_token), key=len, reverse=True)
        self._split = re.compile("|".join(map(re.escape, specials)) + "|" + _WORD)

    @classmethod
    def train(
        cls,
        texts: str | Iterable[str],
        max_vocab: int | None = None,
        min_freq: int = 1,
        lower: bool = True,
        pad_token: str = "<pad>",
        unk_token: str = "<unk>",
    ) -> WordTokenizer:
        """Vocabulary of the words in `texts` seen at least `min_freq` times, most frequent first,
        at most `max_vocab` entries in all (the padding and unknown tokens included)."""
        if max_vocab is not None and operator.index(max_vocab) < 2:
            raise ValueError(
                f"WordTokenizer.train: max_vocab must be >= 2 (padding and unknown tokens), got {max_vocab}"
            )
        if operator.index(min_freq) < 1:
            raise ValueError(f"WordTokenizer.train: min_freq must be >= 1, got {min_freq}")
        shell = cls([pad_token, unk_token], lower, pad_token, unk_token)
        counts: Counter[str] = Counter()
        for text in iter_texts(texts, "WordTokenizer.train"):
            counts.update(t for t in shell.tokenize(text) if t not in (pad_token, unk_token))
        words = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        if max_vocab is not None:
            words = words[: max_vocab - 2]
        return cls([pad_token, unk_token, *words], lower, pad_token, unk_token)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text` (lower-cased first if `lower`): the padding and unknown tokens,
        words, and single punctuation marks."""
        if not isinstance(text, str):
            raise TypeError(f"WordTokenizer.tokenize: expected a str, got {type(text).__name__}")
        return self._split.findall(text.lower() if self.lower else text)

    def encode(self, text: str) -> list[int]:
        """Ids of the tokens of `text`; words outside the vocabulary get `unk_id`."""
        return [self.stoi.get(t, self.unk_id) for t in self.tokenize(text)]

    def encode_batch(self, texts: Sequence[str], max_length: int | None = None) -> Tensor:
        """(len(texts), L) int64 ids, each row padded on the right with `pad_id` to the longest
        row, or cut and padded to exactly `max_length`."""
        if isinstance(texts, str):
            raise TypeError("WordTokenizer.encode_batch: expected a sequence of str, not one str")
        rows = [self.encode(t) for t in texts]
        if max_length is None:
            length = max((len(r) for r in rows), default=0)
        else:
            length = operator.index(max_length)
            if length < 1:
                raise ValueError(f"WordTokenizer.encode_batch: max_length must be >= 1, got {max_length}")
        out = np.full((len(rows), length), self.pad_id, dtype=np.int64)
        for i, row in enumerate(rows):
            row = row[:length]
            out[i, : len(row)] = row
        return as_tensor(out)

    def decode(self, ids: Iterable[int], skip_padding: bool = True) -> str:
        """The tokens of `ids` joined by single spaces (padding left out unless skip_padding is
        False). Accepts a list, an ndarray or a Tensor of ints."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        tokens = []
        for i in ids:
            if isinstance(i, (bool, float)) or not hasattr(i, "__index__"):
                raise TypeError(f"WordTokenizer.decode: ids must be ints, got {type(i).__name__} {i!r}")
            i = operator.index(i)
            if not 0 <= i < len(self.vocab):
                raise ValueError(
                    f"WordTokenizer.decode: id {i} is outside the vocabulary [0, {len(self.vocab)})"
                )
            if not (skip_padding and i == self.pad_id):
                tokens.append(self.vocab[i])
        return " ".join(tokens)

    def save(self, path: PathLike) -> None:
        """Write the vocabulary and settings as JSON, atomically."""
        write_json_atomic(
            {
                "format": "autograd_nn.tokenizer",
                "type": "word",
                "version": 1,
                "lower": self.lower,
                "pad_token": self.pad_token,
                "unk_token": self.unk_token,
                "vocab": self.vocab,
            },
            path,
        )

    @classmethod
    def load(cls, path: PathLike) -> WordTokenizer:
        """The tokenizer `save` wrote to `path`; CheckpointError if the file is not one."""
        obj = read_tokenizer_json(path, "word")
        vocab = field(obj, "vocab", list, path)
        try:
            return cls(
                vocab,
                field(obj, "lower", bool, path),
                field(obj, "pad_token", str, path),
                field(obj, "unk_token", str, path),
            )
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{path}: {err}") from None

    def __repr__(self) -> str:
        return (
            f"WordTokenizer(vocab_size={self.vocab_size}, lower={self.lower}, "
            f"pad_token={self.pad_token!r}, unk_token={self.unk_token!r})"
        )
