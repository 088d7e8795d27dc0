"""The tokenized-text examples: the GPT on BPE tokens (a corpus whose validation text is the
character corpus's, losses per character over the whole text), the word-level docstring
classifier, and example options passed through `python -m autograd_nn --example NAME --key value`.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from autograd_nn import Tensor, as_tensor, manual_seed, nn
from autograd_nn.data.text import CharCorpus
from autograd_nn.data.token_corpus import TokenCorpus
from autograd_nn.data.tokenizers import BPETokenizer
from autograd_nn.examples import gpt, text_classifier
from autograd_nn.examples.lm_common import nats_per_char
from autograd_nn.examples.options import parse_example_options

TEXT = "héllo wörld, hello world! 😀 " * 40


# ---- corpus and per-character loss ---------------------------------------------------------------
def test_token_corpus_counts_every_validation_character_once():
    tok = BPETokenizer.train(TEXT, 300)
    corpus = TokenCorpus(TEXT, tok)
    assert corpus.val_text == TEXT[int(0.9 * len(TEXT)) : int(0.95 * len(TEXT))]  # CharCorpus's cuts
    assert corpus.test_text == TEXT[int(0.95 * len(TEXT)) :]
    assert corpus.val_text == CharCorpus(TEXT).decode(CharCorpus(TEXT).val)
    assert int(corpus.val_char_counts.sum()) == len(corpus.val_text)
    assert len(corpus.val) < len(corpus.val_text)  # BPE tokens hold several characters
    assert corpus.decode(corpus.encode("wörld 😀")) == "wörld 😀"
    x, y = corpus.batch(8, 3, "train", np.random.default_rng(0))
    assert x.shape == y.shape == (3, 8) and (x[:, 1:] == y[:, :-1]).all()


class Uniform(nn.Module):
    """Logits all zero: every prediction costs log(vocab) nats."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.vocab = vocab

    def forward(self, idx: Tensor) -> Tensor:
        return as_tensor(np.zeros((*idx.shape, self.vocab), np.float32))


@pytest.mark.parametrize("n", [2, 17, 64, 65, 200])
def test_nats_per_char_predicts_each_token_once(n):
    ids = np.arange(n) % 7
    assert nats_per_char(Uniform(7), ids, block_size=16, batch_size=3) == pytest.approx(math.log(7))
    counts = np.arange(n) % 3 + 1  # characters per token
    expected = math.log(7) * (n - 1) / counts[1:].sum()
    assert nats_per_char(Uniform(7), ids, 16, counts) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="one char count per id"):
        nats_per_char(Uniform(7), ids, 16, counts[:-1])


def test_gpt_on_bpe_tokens_reports_loss_per_character(tmp_path):
    r = gpt.run(str(tmp_path), quick=True, tokenizer="bpe", log=False)
    assert r["tokenizer"] == "bpe" and r["chars_per_token"] > 1.3
    # 40 steps: better than a uniform guess over the vocabulary, per character
    assert r["val_nats_per_char"] < math.log(320) / r["chars_per_token"], r
    assert r["sample"].startswith("Return ")
    assert BPETokenizer.load(r["tokenizer_file"]).vocab_size == 320
    with pytest.raises(ValueError, match="tokenizer must be 'char' or 'bpe'"):
        gpt.run(str(tmp_path), quick=True, tokenizer="words")


# ---- word-level classifier -----------------------------------------------------------------------
def test_docstring_sentences_and_split_keep_docstrings_together():
    data = text_classifier.docstring_sentences(("json", "heapq"))
    assert len(data.text) == len(data.label) == len(data.group) > 20
    assert set(data.label) == {0, 1} and all(len(s.split()) >= 4 for s in data.text)
    train, val, test = text_classifier.split_by_docstring(data, seed=0, test=0.3, val=0.2)
    assert (train ^ val ^ test).all() and not (train & val).any()  # a partition
    assert not set(data.group[train]) & set(data.group[test])
    assert not set(data.group[val]) & (set(data.group[train]) | set(data.group[test]))


def test_bag_of_embeddings_ignores_padding():
    manual_seed(0)
    model = text_classifier.BagOfEmbeddings(20, 3, dim=8, pad_id=0).eval()
    short = as_tensor(np.array([[5, 6, 7, 0, 0]]))
    long = as_tensor(np.array([[5, 6, 7, 0, 0, 0, 0, 0, 0]]))
    np.testing.assert_allclose(model(short).numpy(), model(long).numpy(), rtol=1e-6, atol=1e-6)
    assert model.embedding.padding_idx == 0


def test_text_classifier_beats_the_majority_class(tmp_path):
    """Quick setting (5 epochs): test accuracy at least 3x the majority baseline (about 0.53 vs
    0.11 in such a run; the full run reaches about 0.70)."""
    r = text_classifier.run(str(tmp_path), quick=True, verbose=False)
    assert r["test_accuracy"] >= 3 * r["majority_baseline"], r
    assert np.asarray(r["confusion_matrix"]).sum() == r["sentences"]["test"]
    assert (tmp_path / "tokenizer.json").exists()


# ---- example options -----------------------------------------------------------------------------
def _run(
    out_dir: str = "",
    quick: bool = False,
    steps: int = 10,
    lr: float = 0.1,
    tokenizer: str = "char",
    log: bool = True,
    config: object = None,
) -> dict:
    return {}


def test_example_options_are_converted_to_the_parameter_types():
    opts = parse_example_options(_run, ["--steps", "5", "--lr=0.5", "--tokenizer", "bpe", "--log", "false"])
    assert opts == {"steps": 5, "lr": 0.5, "tokenizer": "bpe", "log": False}
    for bad, match in [
        (["--stepz", "5"], "unknown option --stepz"),
        (["--steps"], "needs a value"),
        (["--steps", "x"], "takes an integer"),
        (["--log", "maybe"], "true or false"),
        (["--config", "x"], "unknown"),
        (["--quick", "1"], "unknown"),
        (["steps"], "unexpected argument"),
    ]:
        with pytest.raises(ValueError, match=match):
            parse_example_options(_run, bad)


def test_main_passes_example_options(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograd_nn",
            "--example",
            "dsn",
            "--quick",
            "--hidden",
            "16",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # quick: 2 modules of 16 hidden units: (64*16 + 16 + 16*10 + 10) + (74*16 + 16 + 16*10 + 10)
    assert '"dsn_params": 2580' in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "autograd_nn", "--example", "dsn", "--nope", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 2 and "unknown option --nope" in bad.stderr
