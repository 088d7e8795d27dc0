"""The sequence and transformer examples learn, at reduced sizes: char LSTM/GRU/RNN and GPT beat
the unigram baseline, the T5-style model reverses digit strings, the ViT and the BERT-style
classifier beat chance, and the LSTM and GPT train like their PyTorch twins.

Each training test uses settings chosen to reach its threshold with a margin in well under a
minute on an idle core; the thresholds are stated in each test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from autograd_nn import as_tensor, manual_seed
from autograd_nn.examples import bert, gpt, sequence, t5, vit
from autograd_nn.examples.lm_common import LMTrainConfig, lr_factor, sample_next

SMALL_LM = dict(steps=150, batch_size=16, block_size=32, lr=1e-2, warmup=20, eval_every=150, eval_iters=4)


# ---- shared pieces -----------------------------------------------------------------------------
def test_sample_next_greedy_top_k_and_temperature():
    logits = np.array([[0.0, 3.0, 1.0, 2.0], [5.0, 0.0, 0.0, 0.0]])
    assert sample_next(logits, temperature=0).tolist() == [1, 0]
    rng = np.random.default_rng(0)
    for _ in range(20):  # top_k=1 leaves only the argmax
        assert sample_next(logits, 1.0, top_k=1, rng=rng).tolist() == [1, 0]
    draws = np.concatenate([sample_next(logits, 1.0, top_k=2, rng=rng) for _ in range(200)])
    assert set(draws[::2]) <= {1, 3}  # row 0: only the two largest logits survive top_k=2
    hot = np.concatenate([sample_next(logits[:1], 100.0, rng=rng) for _ in range(400)])
    assert len(set(hot)) == 4  # a high temperature flattens the distribution


def test_lr_schedule_warms_up_then_decays():
    cfg = LMTrainConfig(steps=100, warmup=10, min_lr_ratio=0.1)
    factors = [lr_factor(s, cfg) for s in range(1, 101)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(factors[9:]))  # non-increasing after warm-up
    assert factors[-1] == pytest.approx(0.1)


def test_gpt_is_causal():
    """Changing a later token must not change the logits at earlier positions."""
    manual_seed(0)
    model = gpt.GPT(gpt.GPTConfig(block_size=8, vocab_size=10, n_layer=2, n_head=2, n_embd=16))
    model.eval()
    a = np.array([[1, 2, 3, 4, 5, 6]])
    b = a.copy()
    b[0, 4] = 9
    la, lb = model(as_tensor(a)).numpy(), model(as_tensor(b)).numpy()  # (1, 6, 10)
    np.testing.assert_allclose(la[:, :4], lb[:, :4], rtol=1e-5, atol=1e-6)
    assert np.abs(la[:, 4:] - lb[:, 4:]).max() > 1e-4
    assert model.lm_head.weight is model.transformer.wte.weight  # tied


def test_generate_extends_the_prompt():
    manual_seed(0)
    prompt = np.array([[1, 2, 3]])
    lm = gpt.GPT(gpt.GPTConfig(block_size=4, vocab_size=7, n_layer=1, n_head=1, n_embd=8))
    out = lm.generate(prompt, 6, temperature=1.0, top_k=3, rng=np.random.default_rng(0))
    assert out.shape == (1, 9) and (out[:, :3] == prompt).all() and out.max() < 7
    rnn = sequence.CharRNN(sequence.CharRNNConfig(vocab_size=7, cell="gru", hidden_size=8))
    out = rnn.generate(prompt, 5, temperature=0, rng=np.random.default_rng(0))
    assert out.shape == (1, 8) and (out[:, :3] == prompt).all()


def test_patch_embedding_takes_patches_in_raster_order():
    cfg = vit.ViTConfig(patch_size=4, d_model=16)
    embed = vit.PatchEmbedding(cfg)
    images = np.zeros((1, 1, 8, 8), np.float32)
    images[0, 0, 4:, :4] = 1.0  # bottom-left patch = patch 2 in raster order
    tokens = embed(as_tensor(images)).numpy()  # (1, 4, 16)
    assert tokens.shape == (1, 4, 16)
    bias = embed.proj.bias.numpy()
    assert np.allclose(tokens[0, [0, 1, 3]], bias) and not np.allclose(tokens[0, 2], bias)


def test_palindrome_data_labels_and_balance():
    x, y = bert.palindromes(400, 9, np.random.default_rng(0))
    assert x.shape == (400, 9) and x.max() < len(bert.ALPHABET)
    assert ((x == x[:, ::-1]).all(1) == (y == 1)).all()
    assert 0.4 < y.mean() < 0.6


def test_digit_task_keeps_test_and_validation_strings_out_of_training():
    task = t5.DigitTask(length=2, test_size=30, val_size=30, seed=0)  # 100 strings: collisions
    test = set(map(bytes, task.test_src.astype(np.uint8)))
    val = set(map(bytes, task.val_src.astype(np.uint8)))
    assert val and not test & val
    for _ in range(20):
        src, tgt_in, tgt = task.batch(32)
        assert not (test | val) & set(map(bytes, src.astype(np.uint8)))
        assert (tgt == src[:, ::-1]).all() and (tgt_in[:, 0] == t5.BOS).all()
        assert (tgt_in[:, 1:] == tgt[:, :-1]).all()


# ---- training: each model learns its task --------------------------------------------------------
def test_char_lstm_beats_unigram(tmp_path):
    """150 steps of a 64-unit LSTM: validation loss at least 0.5 nats/char below unigram."""
    r = sequence.run(
        str(tmp_path),
        cell="lstm",
        train=LMTrainConfig(**SMALL_LM),
        config=sequence.CharRNNConfig(vocab_size=100, hidden_size=64),
        max_chars=50_000,
        log=False,
    )
    assert r["test_loss"] < r["test_unigram_loss"] - 0.5, r
    assert r["val_loss"] < r["unigram_loss"] - 0.5, r
    assert r["sample"].startswith("Return ") and len(r["sample"]) == 7 + 300


def test_gpt_beats_unigram(tmp_path):
    """300 steps of a 1-layer, 32-wide GPT at lr 3e-3: validation loss at least 0.3 below
    unigram (such a run reached 0.47 below; at lr 1e-2 the GPT learns more slowly)."""
    gpt_lm = {**SMALL_LM, "steps": 300, "eval_every": 300, "lr": 3e-3}
    r = gpt.run(
        str(tmp_path),
        train=LMTrainConfig(**gpt_lm, weight_decay=0.1),
        config=gpt.GPTConfig(block_size=32, vocab_size=100, n_layer=1, n_embd=32),
        max_chars=50_000,
        log=False,
    )
    assert r["test_loss"] < r["test_unigram_loss"] - 0.3, r


@pytest.mark.parametrize("run", [sequence.run_rnn, sequence.run_gru])
def test_quick_rnn_and_gru_learn(tmp_path, run):
    """The quick settings (40 steps): well below the uniform guess log(vocab)."""
    r = run(str(tmp_path), quick=True, log=False)
    assert math.isfinite(r["test_loss"]) and r["test_loss"] < math.log(100) - 1.0, r


def test_t5_reverses_digit_strings(tmp_path):
    """Reversing 5-digit strings (reduced from the example's 8): >= 95% exact match on 500
    held-out strings after 400 steps of a 1+1-layer, 32-wide encoder-decoder."""
    r = t5.run(
        str(tmp_path),
        length=5,
        steps=400,
        lr=3e-3,
        log=False,
        config=t5.Seq2SeqConfig(d_model=32, num_layers=1, dim_feedforward=64),
    )
    assert r["exact_match"] >= 0.95, r


def test_vit_beats_chance(tmp_path):
    """A 1-layer, 32-wide ViT, 10 epochs: test accuracy >= 70% (chance is 10%)."""
    r = vit.run(
        str(tmp_path),
        epochs=10,
        verbose=False,
        config=vit.ViTConfig(d_model=32, num_layers=1, dim_feedforward=64, dropout=0.0),
    )
    assert r["test_accuracy"] >= 0.7, r


def test_bert_classifies_palindromes(tmp_path):
    """A 2-layer, 32-wide encoder on 2,000 strings, 8 epochs: test accuracy >= 70% (majority
    class ~50%; such runs reached 80-81%, mostly failing only on the one-letter near-misses)."""
    r = bert.run(
        str(tmp_path),
        epochs=8,
        n_train=2000,
        verbose=False,
        config=bert.BertConfig(d_model=32, num_layers=2, dim_feedforward=64),
    )
    assert r["test_accuracy"] >= 0.7, r


# ---- against PyTorch ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lstm", "gpt"])
def test_language_models_train_like_pytorch(torch, name):
    """Same weights, batches and optimiser: validation losses within 0.05 nats/char (30 steps)."""
    from benchmarks.compare_language_models import TOLERANCE, compare

    r = compare(name, steps=30, verbose=False)
    assert r["autograd_nn_val_loss"] < r["initial_val_loss"] - 0.3, r  # both actually trained
    assert r["difference"] <= TOLERANCE, r
