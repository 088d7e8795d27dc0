"""Tokenizers: the word tokenizer's vocabulary, padding and unknown words; byte-level BPE's merges
(against a hand-worked example and a naive reference trainer), exact round trips of any string
(hypothesis), special tokens, JSON save/load, and clear errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_nn import Tensor, as_tensor, nn
from autograd_nn.data.tokenizers import GPT2_SPLIT_PATTERN, BPETokenizer, WordTokenizer
from autograd_nn.data.tokenizers.bpe_train import learn_merges
from autograd_nn.errors import CheckpointError
from benchmarks.tokenizers import naive_merges  # recounts every pair before each merge

SETTINGS = settings(max_examples=60, deadline=None)
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "def f(x):\n    return x + 1\n",
    "naïve café — 東京 🙂🙂",
    "   spaces\tand\ttabs\n\n",
    "it's we'll they've 12345 67",
]
SPECIAL = "<|endoftext|>"


@pytest.fixture(scope="module")
def bpe() -> BPETokenizer:
    return BPETokenizer.train(CORPUS * 3, 300, special_tokens=[SPECIAL, "<|pad|>"], min_frequency=1)


# ---- BPE: merges -------------------------------------------------------------------------------
def test_bpe_merges_match_the_hand_worked_example():
    """'aaabdaaabac' (one pre-token): pairs aa 4, ab 2, ... -> merge aa = Z (256): 'ZabdZabac';
    then Za 2 and ab 2 tie and the smaller pair (a, b) wins: Y = 257, 'ZYdZYac'; then ZY 2 -> X =
    258, 'XdXac'; every other pair occurs once (below min_frequency 2), so training stops there."""
    tok = BPETokenizer.train("aaabdaaabac", vocab_size=1000)
    a, b = ord("a"), ord("b")
    assert tok.merges == [(a, a), (a, b), (256, 257)]
    assert tok.vocab_size == 259 and tok.token_bytes(258) == b"aaab"
    assert tok.encode("aaabdaaabac") == [258, ord("d"), 258, a, ord("c")]
    assert BPETokenizer.train("aaabdaaabac", vocab_size=257).merges == [(a, a)]


def test_merges_never_cross_pre_tokens_and_specials_take_the_last_ids():
    tok = BPETokenizer.train(["ab ab ab", "ab"], 260, special_tokens=["<s>"])
    # pre-tokens 'ab' x2 and ' ab' x2: (a, b) occurs 4 times, then (' ', 256) twice
    assert tok.merges == [(97, 98), (32, 256)]
    assert tok.special_tokens == {"<s>": 258} and tok.vocab_size == 259
    assert tok.encode("ab<s> ab") == [256, 258, 257]


@SETTINGS
@given(
    st.lists(
        st.tuples(st.lists(st.integers(0, 3), min_size=1, max_size=9), st.integers(1, 5)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 30),
    st.integers(1, 3),
)
def test_incremental_training_equals_the_naive_reference(words, num_merges, min_frequency):
    assert learn_merges(words, num_merges, min_frequency=min_frequency) == naive_merges(
        words, num_merges, min_frequency
    )


def test_training_benchmark_runs(capsys):
    from benchmarks.tokenizers import main

    assert main(["--vocab", "300", "--repeats", "1"]) == 0
    assert "vocab    300: train" in capsys.readouterr().out


# ---- BPE: round trips --------------------------------------------------------------------------
@SETTINGS
@given(st.text())
def test_bpe_round_trips_any_string(bpe, text):
    ids = bpe.encode(text)
    assert all(0 <= i < bpe.vocab_size for i in ids)
    assert bpe.decode(ids) == text
    assert bpe.decode(bpe.encode(text, allowed_special="none")) == text


@SETTINGS
@given(st.lists(st.text(min_size=1), min_size=1, max_size=4), st.text())
def test_bpe_trained_on_random_text_round_trips(corpus, text):
    tok = BPETokenizer.train(corpus, 300, min_frequency=1)
    for s in [*corpus, text]:
        assert tok.decode(tok.encode(s)) == s


@SETTINGS
@given(st.text())
def test_pre_tokens_join_back_to_the_text(bpe, text):
    assert "".join(bpe._pieces(text)) == text


def test_bpe_round_trips_lone_surrogates_and_special_text(bpe):
    for text in ["\ud800", "a\udfffb", f"x{SPECIAL}y<|pad|>{SPECIAL}", "<|endoftext", ""]:
        assert bpe.decode(bpe.encode(text)) == text


def test_enough_merges_make_each_trained_word_one_token():
    tok = BPETokenizer.train(CORPUS, 2000, min_frequency=1)
    text = CORPUS[0]  # 'The', ' quick', ' brown', ..., ' dog', '.'
    assert [tok.decode([i]) for i in tok.encode(text)] == list(tok._pieces(text))
    assert len(tok.encode(text)) == 10


def test_invalid_utf8_decodes_with_replacement_characters(bpe):
    assert bpe.decode([0xE6, 0x9D, ord("a")]) == "\ufffda"  # a cut-off 3-byte character
    assert bpe.decode(np.array([104, 105])) == "hi" and bpe.decode(as_tensor(np.array([104]))) == "h"


# ---- BPE: special tokens -----------------------------------------------------------------------
def test_special_tokens_are_single_ids_when_allowed(bpe):
    eot, pad = bpe.special_tokens[SPECIAL], bpe.special_tokens["<|pad|>"]
    assert (eot, pad) == (298, 299)
    assert bpe.encode(f"a{SPECIAL}<|pad|>") == [97, eot, pad]
    assert eot not in bpe.encode(SPECIAL, allowed_special="none")
    assert bpe.encode(f"{SPECIAL}<|pad|>", allowed_special={"<|pad|>"})[-1] == pad
    assert eot not in bpe.encode(f"{SPECIAL}<|pad|>", allowed_special={"<|pad|>"})
    assert bpe.decode([eot]) == SPECIAL


def test_training_skips_special_tokens_in_the_corpus():
    tok = BPETokenizer.train([f"{SPECIAL}x" * 50], 300, special_tokens=[SPECIAL])
    assert not any(b"<|" in tok.token_bytes(256 + k) for k in range(len(tok.merges)))


# ---- BPE: files --------------------------------------------------------------------------------
def test_bpe_save_load_round_trip(bpe, tmp_path):
    path = tmp_path / "bpe.json"
    bpe.save(path)
    again = BPETokenizer.load(path)
    assert again.merges == bpe.merges and again.special_tokens == bpe.special_tokens
    for text in CORPUS:
        assert again.encode(text) == bpe.encode(text)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert obj["type"] == "bpe" and obj["pattern"] == GPT2_SPLIT_PATTERN
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda o: o.update(merges=[[1, 999]]), "outside"),
        (lambda o: o.update(merges=[[1, True]]), "pair of ints"),
        (lambda o: o.update(merges=[[1, 2], [1, 2]]), "repeats"),
        (lambda o: o.update(special_tokens=["<s>", "<s>"]), "twice"),
        (lambda o: o.pop("merges"), "missing field 'merges'"),
        (lambda o: o.update(type="word"), "'word' tokenizer"),
        (lambda o: o.update(version=7), "version 7"),
        (lambda o: o.update(pattern="("), "not a regular expression"),
    ],
)
def test_bpe_load_rejects_bad_files(bpe, tmp_path, change, match):
    path = tmp_path / "bpe.json"
    bpe.save(path)
    obj = json.loads(path.read_text(encoding="utf-8"))
    change(obj)
    path.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.raises(CheckpointError, match=match):
        BPETokenizer.load(path)


def test_load_rejects_files_that_are_not_json(tmp_path):
    path = tmp_path / "junk.json"
    path.write_bytes(b"PK\x03\x04 not json")
    with pytest.raises(CheckpointError, match="not a tokenizer file"):
        BPETokenizer.load(path)
    path.write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="not a tokenizer file"):
        WordTokenizer.load(path)


# ---- BPE: bad input ----------------------------------------------------------------------------
def test_bpe_errors_for_bad_input(bpe):
    with pytest.raises(ValueError, match="vocab_size 257 is below 256 bytes"):
        BPETokenizer.train("abc", 257, special_tokens=["<a>", "<b>"])
    with pytest.raises(TypeError, match="texts\\[1\\] is int"):
        BPETokenizer.train(["abc", 3], 300)
    with pytest.raises(TypeError, match="special_tokens must be a sequence"):
        BPETokenizer.train("abc", 300, special_tokens="<s>")
    with pytest.raises(ValueError, match="min_frequency"):
        BPETokenizer.train("abc", 300, min_frequency=0)
    with pytest.raises(ValueError, match="non-empty"):
        BPETokenizer(special_tokens=[""])
    with pytest.raises(TypeError, match="expected a str, got bytes"):
        bpe.encode(b"abc")
    with pytest.raises(ValueError, match="id 300 is outside the vocabulary \\[0, 300\\)"):
        bpe.decode([1, 300])
    with pytest.raises(ValueError, match="id -1"):
        bpe.decode([-1])
    with pytest.raises(TypeError, match="ids must be ints, got float"):
        bpe.decode([1.0])
    with pytest.raises(ValueError, match="not special tokens"):
        bpe.encode("x", allowed_special={"<nope>"})


# ---- word tokenizer ----------------------------------------------------------------------------
WORDS = ["The cat sat on the mat.", "The dog sat.", "A cat, a dog; the END"]


def test_word_vocabulary_by_frequency_with_padding_and_unknown_first():
    tok = WordTokenizer.train(WORDS)
    assert tok.vocab[:4] == ["<pad>", "<unk>", "the", "."]  # 'the' 4 times, '.' twice (tie: a, cat, ...)
    assert tok.vocab[4:8] == ["a", "cat", "dog", "sat"]
    assert (tok.pad_id, tok.unk_id) == (0, 1)
    assert tok.encode("The zebra sat!") == [2, 1, tok.stoi["sat"], 1]
    assert tok.tokenize("Don't  stop") == ["don", "'", "t", "stop"]


def test_word_max_vocab_and_min_freq():
    assert WordTokenizer.train(WORDS, max_vocab=4).vocab == ["<pad>", "<unk>", "the", "."]
    assert WordTokenizer.train(WORDS, min_freq=2).vocab == [
        "<pad>",
        "<unk>",
        "the",
        ".",
        "a",
        "cat",
        "dog",
        "sat",
    ]
    cased = WordTokenizer.train(WORDS, lower=False)
    assert "The" in cased.stoi and cased.encode("THE") == [cased.unk_id]


def test_encode_batch_pads_and_truncates():
    tok = WordTokenizer.train(WORDS)
    ids = tok.encode_batch(["the cat", "a dog sat on the mat", ""])
    assert isinstance(ids, Tensor) and ids.dtype == np.int64 and ids.shape == (3, 6)
    rows = ids.numpy()
    assert rows[0, 2:].tolist() == [0] * 4 and rows[2].tolist() == [0] * 6
    assert tok.encode_batch(["a dog sat on the mat"], max_length=3).numpy().tolist() == [
        tok.encode("a dog sat")
    ]
    assert tok.decode(rows[0]) == "the cat"
    assert tok.decode(rows[0], skip_padding=False) == "the cat <pad> <pad> <pad> <pad>"


def test_padding_rows_embed_to_zero_and_get_no_gradient():
    tok = WordTokenizer.train(WORDS)
    emb = nn.Embedding(tok.vocab_size, 4, padding_idx=tok.pad_id)
    ids = tok.encode_batch(["the cat sat", "a"])
    out = emb(ids)  # (2, 3, 4)
    out.sum().backward()
    assert np.all(out.numpy()[1, 1:] == 0.0) and np.all(emb.weight.grad.numpy()[tok.pad_id] == 0.0)


@SETTINGS
@given(st.text())
def test_word_encode_decode_encode_is_stable(text):
    tok = WordTokenizer.train(WORDS + [text[: len(text) // 2]])
    ids = tok.encode(text)
    assert tok.encode(tok.decode(ids)) == ids


@SETTINGS
@given(st.lists(st.integers(1, 11), max_size=20))
def test_word_ids_survive_decode_then_encode(ids):
    tok = WordTokenizer.train(WORDS)
    assert tok.encode(tok.decode(ids)) == ids


def test_word_save_load_round_trip(tmp_path):
    tok = WordTokenizer.train(WORDS, lower=False, pad_token="[PAD]", unk_token="[UNK]")
    tok.save(tmp_path / "words.json")
    again = WordTokenizer.load(str(tmp_path / "words.json"))
    assert again.vocab == tok.vocab and again.lower is False
    assert (again.pad_token, again.unk_token, again.pad_id) == ("[PAD]", "[UNK]", 0)
    assert again.encode("The END") == tok.encode("The END")


def test_word_tokenizer_errors_for_bad_input(tmp_path):
    tok = WordTokenizer.train(WORDS)
    with pytest.raises(ValueError, match="max_vocab must be >= 2"):
        WordTokenizer.train(WORDS, max_vocab=1)
    with pytest.raises(ValueError, match="min_freq"):
        WordTokenizer.train(WORDS, min_freq=0)
    with pytest.raises(TypeError, match="texts\\[0\\] is bytes"):
        WordTokenizer.train([b"abc"])
    with pytest.raises(ValueError, match="unk_token '<unk>' is not in the vocabulary"):
        WordTokenizer(["<pad>", "a"])
    with pytest.raises(ValueError, match="repeats"):
        WordTokenizer(["<pad>", "<unk>", "a", "a"])
    with pytest.raises(ValueError, match="id 99 is outside"):
        tok.decode([99])
    with pytest.raises(TypeError, match="expected a sequence of str, not one str"):
        tok.encode_batch("the cat")
    with pytest.raises(ValueError, match="max_length"):
        tok.encode_batch(["a"], max_length=0)
    with pytest.raises(TypeError, match="expected a str"):
        tok.encode(None)
    tok.save(tmp_path / "w.json")
    with pytest.raises(CheckpointError, match="holds a 'word' tokenizer, not 'bpe'"):
        BPETokenizer.load(tmp_path / "w.json")
