"""A word-level text classifier: which standard-library module does a docstring sentence come from?

The labelled data is derived at run time from the docstrings of eight modules of Python's standard
library (nothing is downloaded): each sentence of at least four words is labelled by its module.
Sentences of one docstring stay together in one split (train, validation or test), so the test
sentences come from functions and classes the model never saw.

A `WordTokenizer` built on the training sentences maps words to ids and pads each batch; the
model averages the word embeddings of a sentence and classifies the average with a small MLP
(a "bag of embeddings", as in fastText). `Embedding(padding_idx=pad_id)` keeps the padding row at
zero and out of training, so a plain sum over the padded positions is the sum over the real words:

    ids (B, L) -> embeddings (B, L, d) -> sum over L / number of words (B, d) -> MLP -> logits (B, K)
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor
from ..data import DataLoader, TensorDataset
from ..data.tokenizers import WordTokenizer
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import confusion_matrix, evaluate, fit
from .registry import example

MODULES = (
    "configparser",
    "difflib",
    "email.message",
    "logging",
    "statistics",
    "tarfile",
    "threading",
    "typing",
)


@dataclass
class Sentences:
    """Sentences, their labels (index into `modules`) and the docstring each came from."""

    text: list[str]
    label: np.ndarray  # (N,) int64
    group: np.ndarray  # (N,) int64: one id per docstring
    modules: tuple[str, ...]


def _docstrings(module_name: str) -> list[str]:
    """The module's docstring and those of its public classes, functions and methods."""
    module = importlib.import_module(module_name)
    docs = [inspect.getdoc(module) or ""]
    with warnings.catch_warnings():  # typing.io and typing.re warn when looked at
        warnings.simplefilter("ignore", DeprecationWarning)
        for attr in sorted(dir(module)):
            obj = getattr(module, attr, None)
            if attr.startswith("_") or getattr(obj, "__module__", "") != module.__name__:
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                docs.append(inspect.getdoc(obj) or "")
            if inspect.isclass(obj):
                docs += [
                    inspect.getdoc(f) or ""
                    for name, f in sorted(vars(obj).items())
                    if not name.startswith("_") and inspect.isfunction(f)
                ]
    return [d for d in docs if d]


def docstring_sentences(modules: tuple[str, ...] = MODULES, min_words: int = 4) -> Sentences:
    """Every sentence (split at . ! ? followed by space, or at blank lines) of `min_words` words
    or more from the docstrings of `modules`, labelled by module."""
    text: list[str] = []
    label: list[int] = []
    group: list[int] = []
    doc_id = 0
    for k, name in enumerate(modules):
        for doc in _docstrings(name):
            for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", doc):
                sentence = " ".join(sentence.split())
                if len(sentence.split()) >= min_words:
                    text.append(sentence)
                    label.append(k)
                    group.append(doc_id)
            doc_id += 1
    return Sentences(text, np.array(label, np.int64), np.array(group, np.int64), modules)


def split_by_docstring(
    data: Sentences, seed: int = 0, test: float = 0.2, val: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (train, val, test) that keep each docstring's sentences in one split."""
    groups = np.random.default_rng(seed).permutation(np.unique(data.group))
    n_test, n_val = int(test * len(groups)), int(val * len(groups))
    in_test = np.isin(data.group, groups[:n_test])
    in_val = np.isin(data.group, groups[n_test : n_test + n_val])
    return ~(in_test | in_val), in_val, in_test


class BagOfEmbeddings(nn.Module):
    """Mean of a sentence's word embeddings, then Linear - ReLU - Dropout - Linear."""

    def __init__(
        self, vocab_size: int, num_classes: int, dim: int = 64, pad_id: int = 0, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=pad_id)
        self.classifier = nn.Sequential(
            nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, num_classes)
        )

    def forward(self, ids: Tensor) -> Tensor:
        words = (ids != self.pad_id).sum(1, keepdim=True).clamp(min=1)  # (B, 1)
        mean = self.embedding(ids).sum(1) / words  # (B, dim): padding rows are zero
        return self.classifier(mean)  # (B, num_classes)


@example("text_classifier", "word-level classifier: which stdlib module a docstring sentence is from")
def run(
    out_dir: str = "runs/text_classifier",
    quick: bool = False,
    epochs: int = 30,
    dim: int = 64,
    max_length: int = 48,
    lr: float = 3e-3,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train on sentences of 8 modules, keep the epoch with the best validation loss, report test
    accuracy against always guessing the most common training label."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    epochs = 5 if quick else epochs
    data = docstring_sentences()
    train, val, test = split_by_docstring(data, seed)
    sentences = np.array(data.text, dtype=object)
    tokenizer = WordTokenizer.train(list(sentences[train]), min_freq=2)
    tokenizer.save(os.path.join(out_dir, "tokenizer.json"))

    def loader(mask: np.ndarray, shuffle: bool) -> DataLoader:
        ids = tokenizer.encode_batch(list(sentences[mask]), max_length=max_length)
        return DataLoader(TensorDataset(ids, as_tensor(data.label[mask])), batch_size=32, shuffle=shuffle)

    model = BagOfEmbeddings(tokenizer.vocab_size, len(data.modules), dim, tokenizer.pad_id)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    ckpt = os.path.join(out_dir, "best.ckpt")
    start = time.perf_counter()
    history = fit(
        model,
        loader(train, True),
        F.cross_entropy,
        opt,
        epochs,
        val_loader=loader(val, False),
        checkpoint_path=ckpt,
        progress=False,
        verbose=verbose,
    )
    train_time = time.perf_counter() - start
    model.load_state_dict(load(ckpt)["model"])
    result = evaluate(model, loader(test, False), F.cross_entropy)
    x_test = tokenizer.encode_batch(list(sentences[test]), max_length=max_length)
    with no_grad():
        confusion = confusion_matrix(model.eval()(x_test), data.label[test], len(data.modules))
    majority = int(np.bincount(data.label[train]).argmax())
    return {
        "test_accuracy": result["acc"],
        "test_loss": result["loss"],
        "majority_baseline": float((data.label[test] == majority).mean()),
        "sentences": {"train": int(train.sum()), "val": int(val.sum()), "test": int(test.sum())},
        "vocab_size": tokenizer.vocab_size,
        "modules": list(data.modules),
        "best_epoch": history.best_epoch,
        "train_time_s": train_time,
        "num_params": sum(p.numel() for p in model.parameters()),
        "curves": history.plot(
            os.path.join(out_dir, "curves.png"), "which module is a docstring sentence from?"
        ),
        "confusion_matrix": confusion.tolist(),
    }
