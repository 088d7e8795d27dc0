"""Every example chooses on validation data carved from its training data and tests on data that
took no part in training or selection: the splits behind that, and the selection itself."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_nn.data import CharCorpus, load_digits
from autograd_nn.examples import bert, lm_common, t5
from autograd_nn.examples.lm_common import LMTrainConfig


def _rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x.reshape(len(x), -1)}


def test_digits_validation_is_carved_from_training_stratified_and_seeded():
    pytest.importorskip("sklearn")
    plain, d = load_digits(), load_digits(val_fraction=0.1)
    np.testing.assert_array_equal(d["y_test"], plain["y_test"])  # the test split never moves
    np.testing.assert_array_equal(d["X_test"], plain["X_test"])
    assert len(d["y_train"]) + len(d["y_val"]) == len(plain["y_train"])
    assert _rows(np.concatenate([d["X_train"], d["X_val"]])) == _rows(plain["X_train"])
    assert not _rows(d["X_val"]) & _rows(d["X_test"])
    counts = np.bincount(d["y_val"], minlength=10)
    assert counts.min() >= 12 and counts.max() <= 16  # ~10% of each class's ~144 training images
    again = load_digits(val_fraction=0.1)
    np.testing.assert_array_equal(again["y_val"], d["y_val"])
    assert len(plain["y_val"]) == 0
    with pytest.raises(ValueError, match="val_fraction"):
        load_digits(val_fraction=1.5)


def test_char_corpus_has_three_consecutive_splits():
    corpus = CharCorpus(text="abcdefghij" * 100)
    assert len(corpus.train) == 900 and len(corpus.val) == 50 and len(corpus.test) == 50
    np.testing.assert_array_equal(np.concatenate([corpus.train, corpus.val, corpus.test]), corpus.data)
    x, _ = corpus.batch(8, 4, "test", np.random.default_rng(0))
    assert x.shape == (4, 8)
    with pytest.raises(ValueError, match="split"):
        corpus.batch(8, 4, "dev")


def test_palindrome_splits_share_no_string():
    rng = np.random.default_rng(0)
    x_test, _ = bert.palindromes(300, 10, rng)
    x_train, y_train = bert.palindromes(800, 10, rng, exclude=bert.string_keys(x_test))
    assert len(x_train) == 800 and not bert.string_keys(x_train) & bert.string_keys(x_test)
    assert ((x_train == x_train[:, ::-1]).all(1) == (y_train == 1)).all()


def test_train_steps_restores_the_step_with_the_lowest_validation_loss():
    """A fake model whose 'validation loss' is scripted: the restored weights are those of the
    evaluation where it was lowest, and history.best_epoch names that row."""
    import autograd_nn as ag
    from autograd_nn import nn

    model = nn.Linear(2, 1)
    scripted = iter([3.0, 1.0, 2.0, 4.0])
    seen = []

    def evaluate():
        seen.append(model.weight.numpy().copy())
        return {"val_loss": next(scripted)}

    cfg = LMTrainConfig(steps=4, eval_every=1, warmup=0, lr=0.1)
    x = ag.randn(8, 2)
    history = lm_common.train_steps(
        model,
        lambda step: x,
        lambda m, b: (m(b) ** 2).mean(),
        cfg,
        evaluate=evaluate,
        log=None,
        restore_best=True,
    )
    assert history.best_epoch == 2
    np.testing.assert_array_equal(model.weight.numpy(), seen[1])
    with pytest.raises(ValueError, match="val_loss"):
        lm_common.train_steps(
            model, lambda step: x, lambda m, b: (m(b) ** 2).mean(), cfg, restore_best=True, log=None
        )


def test_t5_reports_test_exact_match_of_the_best_validation_step(tmp_path):
    r = t5.run(str(tmp_path), quick=True, log=False)
    assert 1 <= r["best_step"] <= 30 and 0.0 <= r["exact_match"] <= 1.0
