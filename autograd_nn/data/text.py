"""A character-level corpus built at run time from the docstrings of Python's standard library.

Nothing is downloaded or copied into the repository: the text is whatever the running Python ships.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np

_MODULES = (
    "collections",
    "json",
    "functools",
    "itertools",
    "pathlib",
    "argparse",
    "logging",
    "textwrap",
    "string",
    "random",
    "statistics",
    "fractions",
    "decimal",
    "heapq",
    "bisect",
    "contextlib",
    "dataclasses",
    "enum",
    "typing",
    "shutil",
    "csv",
    "datetime",
    "calendar",
    "difflib",
    "inspect",
    "threading",
    "queue",
    "urllib.parse",
    "email.message",
    "zipfile",
)


def stdlib_docstrings(max_chars: int = 200_000) -> str:
    """Docstrings of standard-library modules, classes and functions, in a fixed order."""
    if max_chars < 0:
        raise ValueError(f"stdlib_docstrings: max_chars must be non-negative, got {max_chars}")
    parts: list[str] = []
    total = 0
    for name in _MODULES:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module) or ""]
        for attr in sorted(dir(module)):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr, None)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                doc = inspect.getdoc(obj)
                if doc and getattr(obj, "__module__", "") == module.__name__:
                    docs.append(doc)
        for doc in docs:
            text = "".join(ch for ch in doc if ch.isprintable() or ch == "\n")
            parts.append(text)
            total += len(text) + 2
            if total >= max_chars:
                return "\n\n".join(parts)[:max_chars]
    return "\n\n".join(parts)[:max_chars]


class CharCorpus:
    """A text, its vocabulary, and encode/decode between characters and integer ids.

    `batch(block_size, batch_size, split)` samples (input, target) windows for next-character
    prediction. The text is cut into three consecutive splits: the first 90% trains, the next 5%
    validates (to choose a checkpoint) and the last 5% tests (read once, at the end).
    """

    SPLITS = ("train", "val", "test")

    def __init__(self, text: str | None = None, max_chars: int = 200_000) -> None:
        self.text = stdlib_docstrings(max_chars) if text is None else text
        if not self.text:
            raise ValueError("CharCorpus: the text is empty")
        self.chars = sorted(set(self.text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.data = self.encode(self.text)
        cut_val, cut_test = int(0.90 * len(self.data)), int(0.95 * len(self.data))
        self.train = self.data[:cut_val]
        self.val, self.test = self.data[cut_val:cut_test], self.data[cut_test:]

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> np.ndarray:
        try:
            return np.array([self.stoi[c] for c in s], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"CharCorpus.encode: character {err} is not in the vocabulary") from None

    def decode(self, ids: np.ndarray) -> str:
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def split(self, name: str) -> np.ndarray:
        """The ids of split `name`: 'train', 'val' or 'test'."""
        if name not in self.SPLITS:
            raise ValueError(f"CharCorpus: split must be one of {self.SPLITS}, got {name!r}")
        return getattr(self, name)

    def batch(
        self, block_size: int, batch_size: int, split: str = "train", rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Random windows: x (batch, block) ids and y = x shifted by one character."""
        data = self.split(split)
        if len(data) <= block_size + 1:
            raise ValueError(f"CharCorpus.batch: the {split} split is shorter than block_size")
        rng = rng or np.random.default_rng()
        starts = rng.integers(0, len(data) - block_size - 1, batch_size)
        offsets = np.arange(block_size)
        x = data[starts[:, None] + offsets]
        y = data[starts[:, None] + offsets + 1]
        return x, y

    def unigram_loss(self, split: str = "val") -> float:
        """Cross-entropy (nats/char) of the training-set character frequencies: the baseline to beat."""
        counts = np.bincount(self.train, minlength=self.vocab_size) + 1.0
        logp = np.log(counts / counts.sum())
        return float(-logp[self.split(split)].mean())
