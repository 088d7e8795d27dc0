"""A byte-level byte-pair-encoding tokenizer (as in GPT-2), trained on any corpus in seconds.

Text becomes UTF-8 bytes, so the 256 byte values are the base vocabulary and nothing is ever
unknown; training learns merges, each a pair of ids that becomes one new id. Before merging, a
regular expression splits text into pre-tokens (words with their leading space, runs of digits,
runs of punctuation, whitespace) and merges never cross a pre-token, as in GPT-2. Special tokens
(e.g. "<|endoftext|>") get the last ids and are matched in the text before anything else.

Ids: 0-255 the bytes, 256 .. 255 + len(merges) the merges in the order learned, then the special
tokens. `decode(encode(s)) == s` for every string (lone surrogates included, through UTF-8's
"surrogatepass"); a sequence of ids that is not valid UTF-8 (a sampled one, say) decodes with
U+FFFD in place of the broken bytes.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ...errors import CheckpointError
from .bpe_train import Pair, learn_merges, merge_pair
from .files import PathLike, field, read_tokenizer_json, write_json_atomic
from .inputs import iter_texts

__all__ = ["GPT2_SPLIT_PATTERN", "BPETokenizer"]

# GPT-2's pre-tokenizer in the standard library's `re` ([^\W\d_] is a letter, `\d` a digit);
# '_' joins the punctuation runs, so every character belongs to some branch.
GPT2_SPLIT_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"
_CACHE_LIMIT = 100_000


def _to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class BPETokenizer:
    """Byte-level BPE: `BPETokenizer.train(texts, vocab_size)`, then `encode` / `decode`.

    `merges` lists the learned pairs in order; `special_tokens` the strings that map to single ids.
    """

    def __init__(
        self,
        merges: Sequence[Pair] = (),
        special_tokens: Sequence[str] = (),
        pattern: str = GPT2_SPLIT_PATTERN,
    ) -> None:
        self.merges: list[Pair] = []
        self._vocab: list[bytes] = [bytes([b]) for b in range(256)]
        self._ranks: dict[Pair, int] = {}
        for k, pair in enumerate(merges):
            a, b = self._check_pair(pair, k)
            if (a, b) in self._ranks:
                raise ValueError(f"BPETokenizer: merge {k} repeats the pair ({a}, {b})")
            self._ranks[(a, b)] = k
            self.merges.append((a, b))
            self._vocab.append(self._vocab[a] + self._vocab[b])
        if isinstance(special_tokens, str):
            raise TypeError("BPETokenizer: special_tokens must be a sequence of str, not one str")
        self.special_tokens: dict[str, int] = {}
        for token in special_tokens:
            if not isinstance(token, str) or not token:
                raise ValueError(f"BPETokenizer: special token {token!r} must be a non-empty str")
            if token in self.special_tokens:
                raise ValueError(f"BPETokenizer: special token {token!r} is given twice")
            self.special_tokens[token] = len(self._vocab) + len(self.special_tokens)
        self._special_text = {i: _to_bytes(t) for t, i in self.special_tokens.items()}
        longest_first = sorted(self.special_tokens, key=len, reverse=True)
        self._special_re = (
            re.compile("(" + "|".join(map(re.escape, longest_first)) + ")") if longest_first else None
        )
        if not isinstance(pattern, str):
            raise TypeError(f"BPETokenizer: pattern must be a str, got {type(pattern).__name__}")
        try:
            self.pattern = re.compile(pattern)
        except re.error as err:
            raise ValueError(
                f"BPETokenizer: pattern {pattern!r} is not a regular expression: {err}"
            ) from None
        self._cache: dict[str, tuple[int, ...]] = {}

    def _check_pair(self, pair: Any, k: int) -> Pair:
        try:
            a, b = (operator.index(x) for x in pair)
        except (TypeError, ValueError):
            raise TypeError(f"BPETokenizer: merge {k} must be a pair of ints, got {pair!r}") from None
        limit = len(self._vocab)
        if not (0 <= a < limit and 0 <= b < limit):
            raise ValueError(
                f"BPETokenizer: merge {k} = ({a}, {b}) uses an id outside "
                f"[0, {limit}) (the ids that exist before it)"
            )
        return a, b

    # ---- training --------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: str | Iterable[str],
        vocab_size: int,
        special_tokens: Sequence[str] = (),
        min_frequency: int = 2,
        pattern: str = GPT2_SPLIT_PATTERN,
    ) -> BPETokenizer:
        """Learn merges on `texts` until the vocabulary (256 bytes + merges + special tokens) has
        `vocab_size` entries, or until no pair occurs `min_frequency` times."""
        vocab_size = operator.index(vocab_size)
        if isinstance(special_tokens, str):
            raise TypeError("BPETokenizer.train: special_tokens must be a sequence of str, not one str")
        smallest = 256 + len(special_tokens)
        if vocab_size < smallest:
            raise ValueError(
                f"BPETokenizer.train: vocab_size {vocab_size} is below 256 bytes + "
                f"{len(special_tokens)} special tokens = {smallest}"
            )
        if min_frequency < 1:
            raise ValueError(f"BPETokenizer.train: min_frequency must be >= 1, got {min_frequency}")
        shell = cls((), special_tokens, pattern)  # validates the special tokens and the pattern
        words: Counter[str] = Counter()
        for text in iter_texts(texts, "BPETokenizer.train"):
            for chunk in shell._split_special(text, "none" if not special_tokens else "all"):
                if isinstance(chunk, str):
                    words.update(shell._pieces(chunk))
        merges = learn_merges(
            ((_to_bytes(w), c) for w, c in words.items()), vocab_size - smallest, min_frequency=min_frequency
        )
        return cls(merges, special_tokens, pattern)

    # ---- encoding --------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self._vocab) + len(self.special_tokens)

    def __len__(self) -> int:
        return self.vocab_size

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes that id `token_id` stands for (a special token's UTF-8 text)."""
        token_id = operator.index(token_id)
        if 0 <= token_id < len(self._vocab):
            return self._vocab[token_id]
        if token_id in self._special_text:
            return self._special_text[token_id]
        raise ValueError(f"BPETokenizer: id {token_id} is outside the vocabulary [0, {self.vocab_size})")

    def encode(self, text: str, allowed_special: str | Iterable[str] = "all") -> list[int]:
        """Ids of `text`. Special tokens in the text become their ids when allowed ("all", "none",
        or a set of them); otherwise they are encoded as ordinary text."""
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.encode: expected a str, got {type(text).__name__}")
        ids: list[int] = []
        for chunk in self._split_special(text, allowed_special):
            if isinstance(chunk, int):
                ids.append(chunk)
                continue
            for piece in self._pieces(chunk):
                ids.extend(self._encode_piece(piece))
        return ids

    def _split_special(self, text: str, allowed: str | Iterable[str]) -> Iterator[str | int]:
        """Ordinary text (str) and allowed special tokens (their id), in order."""
        if allowed == "none" or self._special_re is None:
            yield text
            return
        if allowed == "all":
            keep = set(self.special_tokens)
        else:
            keep = {allowed} if isinstance(allowed, str) else set(allowed)
            unknown = keep - set(self.special_tokens)
            if unknown:
                raise ValueError(
                    f"BPETokenizer.encode: {sorted(unknown)} are not special tokens "
                    f"of this tokenizer ({list(self.special_tokens)})"
                )
        start = 0
        for m in self._special_re.finditer(text):
            if m.group() in keep:
                if m.start() > start:
                    yield text[start : m.start()]
                yield self.special_tokens[m.group()]
                start = m.end()
        if start < len(text):
            yield text[start:]

    def _pieces(self, text: str) -> Iterator[str]:
        """The pre-tokens of `text`; text the pattern skips becomes a piece too, so the pieces
        always join back to `text` (whatever pattern a user gives)."""
        end = 0
        for m in self.pattern.finditer(text):
            if m.start() > end:
                yield text[end : m.start()]
            if m.end() > m.start():
                yield m.group()
            end = max(end, m.end())
        if end < len(text):
            yield text[end:]

    def _encode_piece(self, piece: str) -> tuple[int, ...]:
        """Apply the merges to one pre-token: repeatedly merge its lowest-ranked pair."""
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        ids: list[int] = list(_to_bytes(piece))
        ranks = self._ranks
        while len(ids) > 1:
            best = min(itertools.pairwise(ids), key=lambda p: ranks.get(p, len(ranks)))
            rank = ranks.get(best)
            if rank is None:
                break
            ids = merge_pair(ids, best, 256 + rank)
        out = tuple(ids)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[piece] = out
        return out

    # ---- decoding --------------------------------------------------------------------------------
    def decode(self, ids: Iterable[int]) -> str:
        """The text of `ids` (a list, an ndarray or a Tensor of ints)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()  # ndarray / Tensor
        data = bytearray()
        for i in ids:
            if isinstance(i, (bool, float)) or not hasattr(i, "__index__"):
                raise TypeError(f"BPETokenizer.decode: ids must be ints, got {type(i).__name__} {i!r}")
            data += self.token_bytes(i)
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace")

    # ---- files -----------------------------------------------------------------------------------
    def save(self, path: PathLike) -> None:
        """Write the tokenizer as JSON (merges, special tokens, pattern), atomically."""
        write_json_atomic(
            {
                "format": "autograd_nn.tokenizer",
                "type": "bpe",
                "version": 1,
                "pattern": self.pattern.pattern,
                "merges": [list(p) for p in self.merges],
                "special_tokens": list(self.special_tokens),
            },
            path,
        )

    @classmethod
    def load(cls, path: PathLike) -> BPETokenizer:
        """The tokenizer `save` wrote to `path`; CheckpointError if the file is not one."""
        obj = read_tokenizer_json(path, "bpe")
        pattern = field(obj, "pattern", str, path)
        merges = field(obj, "merges", list, path)
        special = field(obj, "special_tokens", list, path)
        for k, pair in enumerate(merges):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
            ):
                raise CheckpointError(f"{path}: merges[{k}] must be a pair of ints, got {pair!r}")
        try:
            return cls([tuple(p) for p in merges], special, pattern)
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{path}: {err}") from None

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
            f"special_tokens={list(self.special_tokens)})"
        )
