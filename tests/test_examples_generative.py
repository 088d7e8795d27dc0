"""The multimodal (CLIP-style) and diffusion (DDPM) examples, at reduced sizes.

Their parts are checked against closed forms (captions, the contrastive loss, the noise schedule and
its posterior); the quick runs check that the whole pipeline trains, scores and draws. The full runs'
accuracies are in the README (these models need minutes, not the seconds a test has).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import as_tensor, nn
from autograd_nn.examples import clip, diffusion
from autograd_nn.examples.cnn import DigitsCNN


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    numba = pytest.importorskip("numba")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    with threadpoolctl.threadpool_limits(limits=1):
        yield
    numba.set_num_threads(previous)


# ---- CLIP: captions and vocabulary ---------------------------------------------------------------
def test_captions_fill_words_numerals_and_articles():
    assert clip.caption("a handwritten {word}", 7) == "a handwritten seven"
    assert clip.caption("{digit}, written by hand", 7) == "7, written by hand"
    assert clip.caption("someone wrote {a_word}", 8) == "someone wrote an eight"
    assert clip.caption("this is {a_digit}", 8) == "this is an 8"
    assert clip.words("7, Written by hand") == ["7", ",", "written", "by", "hand"]


def test_held_out_phrasings_are_new_but_use_known_words():
    train = {clip.caption(t, d) for t in clip.TRAIN_TEMPLATES for d in range(10)}
    held_out = {clip.caption(t, d) for t in clip.HELD_OUT_TEMPLATES for d in range(10)}
    assert not train & held_out
    vocab = clip.CaptionVocab(sorted(train))
    ids = vocab.encode(sorted(held_out), 10)
    assert not np.any(ids == clip.UNK)


def test_vocabulary_encodes_with_eos_and_padding():
    vocab = clip.CaptionVocab(["the digit 7", "a handwritten seven"])
    assert vocab.itos[:3] == ["<pad>", "<unk>", "<eos>"]
    ids = vocab.encode(["the digit 7", "the zebra"], 5)
    assert ids.shape == (2, 5) and ids.dtype == np.int64
    assert ids[0, 3] == clip.EOS and ids[0, 4] == clip.PAD
    assert ids[1, 1] == clip.UNK
    assert vocab.decode(ids[0]) == "the digit 7"
    with pytest.raises(ValueError, match="context"):
        vocab.encode(["a handwritten seven the digit"], 4)


# ---- CLIP: model and loss ------------------------------------------------------------------------
def test_contrastive_loss_is_the_mean_of_both_cross_entropies():
    logits = np.random.default_rng(0).normal(size=(5, 5)).astype(np.float32)

    def ce(z):
        z = z - z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - np.diag(z)))

    expected = 0.5 * (ce(logits) + ce(logits.T))
    assert clip.contrastive_loss(as_tensor(logits)).item() == pytest.approx(expected, rel=1e-5)
    perfect = as_tensor((100.0 * np.eye(4)).astype(np.float32))
    assert clip.contrastive_loss(perfect).item() < 1e-6


def test_clip_logits_are_scaled_cosine_similarities():
    ag.manual_seed(0)
    vocab = clip.CaptionVocab([clip.caption(t, d) for t in clip.TRAIN_TEMPLATES for d in range(10)])
    cfg = clip.CLIPConfig(image_width=16, image_layers=1, text_width=16)
    model = clip.CLIP(len(vocab), cfg).eval()
    images = as_tensor(np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32))
    ids = as_tensor(vocab.encode(["the digit 7", "a handwritten seven", "seven", "the number two"], 10))
    logits = model(images, ids)
    assert logits.shape == (3, 4)
    cosine = model.encode_image(images).numpy() @ model.encode_text(ids).numpy().T
    assert np.abs(cosine).max() <= 1.0 + 1e-5
    np.testing.assert_allclose(logits.numpy(), cosine / 0.07, rtol=1e-4)
    assert model.temperature() == pytest.approx(0.07, rel=1e-5)
    clip.contrastive_loss(model(images[:3], ids[:3])).backward()
    assert model.logit_scale.grad is not None and model.text_encoder.proj.weight.grad is not None
    model.logit_scale.data.fill_(10.0)  # past the cap: the temperature stops at 1/100
    assert model.temperature() == pytest.approx(0.01)
    with ag.no_grad():
        np.testing.assert_allclose(model(images, ids).numpy(), 100.0 * cosine, rtol=1e-4)


def test_caption_embedding_ignores_the_padding_and_other_captions():
    ag.manual_seed(0)
    vocab = clip.CaptionVocab(["a handwritten seven", "the digit 7", "one"])
    model = clip.CLIP(len(vocab), clip.CLIPConfig(text_width=16)).eval()
    ids = vocab.encode(["one", "a handwritten seven", "the digit 7"], 10)
    together = model.encode_text(as_tensor(ids)).numpy()
    alone = model.encode_text(as_tensor(ids[:1])).numpy()
    np.testing.assert_allclose(together[:1], alone, rtol=1e-5, atol=1e-6)


def test_clip_quick_run(tmp_path):
    result = clip.run(str(tmp_path), quick=True, verbose=False)
    history = result["history"]
    assert len(history["loss"]) == 6 and history["loss"][-1] < history["loss"][0] - 0.1
    for key in ("zero_shot_accuracy", "image_to_caption_accuracy", "caption_to_image_accuracy"):
        assert 0.0 <= result[key] <= 1.0
    assert result["zero_shot_accuracy"] > 0.15  # above chance (0.1) after 6 epochs: about 0.25
    assert os.path.getsize(result["similarity"]) > 0 and os.path.getsize(result["checkpoint"]) > 0


# ---- diffusion: schedule and posterior -----------------------------------------------------------
def test_linear_schedule_is_ho_et_al_at_1000_steps_and_rescaled_below():
    betas = diffusion.make_betas(1000, "linear")
    assert betas[0] == pytest.approx(1e-4) and betas[-1] == pytest.approx(0.02)
    short = diffusion.make_betas(200, "linear")
    assert short[-1] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="schedule"):
        diffusion.make_betas(10, "quadratic")


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedules_destroy_the_signal_monotonically(name):
    s = diffusion.NoiseSchedule(diffusion.make_betas(200, name))
    assert np.all((s.betas > 0) & (s.betas <= 0.999))
    assert np.all(np.diff(s.abar) < 0) and s.abar[0] > 0.99 and s.abar[-1] < 1e-3


def test_an_oracle_noise_prediction_recovers_x0():
    s = diffusion.NoiseSchedule(diffusion.make_betas(50))
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32)
    noise = rng.standard_normal(x0.shape).astype(np.float32)
    for t in (0, 10, 49):
        x_t = s.q_sample(x0, np.full(4, t), noise)
        _, x0_hat = s.step(x_t, t, noise, rng)
        np.testing.assert_allclose(x0_hat, x0, atol=1e-3 if t < 49 else 5e-2)
    x_t = s.q_sample(x0, np.zeros(4, int), noise)
    np.testing.assert_allclose(s.step(x_t, 0, noise, rng)[0], x0, atol=1e-5)  # no noise at t=0


def test_the_posterior_step_keeps_the_forward_marginals():
    """x_t ~ q(x_t | x0), then x_{t-1} ~ q(x_{t-1} | x_t, x0) must be distributed as
    q(x_{t-1} | x0) = N(sqrt(abar_{t-1}) x0, 1 - abar_{t-1}): eq. (6)-(7) of Ho et al."""
    s = diffusion.NoiseSchedule(diffusion.make_betas(20, "linear"))
    rng = np.random.default_rng(1)
    n, t = 200_000, 12
    x0 = np.full((n, 1, 1, 1), 0.6, np.float32)
    noise = rng.standard_normal(x0.shape).astype(np.float32)
    x_t = s.q_sample(x0, np.full(n, t), noise)
    x_prev, _ = s.step(x_t, t, noise, rng, clip=False)
    assert x_prev.mean() == pytest.approx(math.sqrt(s.abar[t - 1]) * 0.6, abs=5e-3)
    assert x_prev.var() == pytest.approx(1.0 - s.abar[t - 1], rel=2e-2)


# ---- diffusion: the time-conditioned U-Net -------------------------------------------------------
def test_time_embedding_reads_the_sinusoidal_table():
    emb = diffusion.TimeEmbedding(50, 8)
    table = emb.table.pe.numpy()
    assert table[0, 1] == pytest.approx(1.0) and table[3, 0] == pytest.approx(math.sin(3.0))
    assert emb(np.array([3, 0, 49])).shape == (3, 8)


def test_time_unet_keeps_the_shape_and_depends_on_t():
    ag.manual_seed(0)
    model = diffusion.TimeUNet(diffusion.DiffusionConfig(timesteps=20, base=8, time_dim=16)).eval()
    x = ag.randn(2, 1, 8, 8)
    early, late = model(x, np.array([0, 0])), model(x, np.array([19, 19]))
    assert early.shape == (2, 1, 8, 8)
    assert np.abs(early.numpy() - late.numpy()).max() > 1e-4


def test_ema_moves_toward_the_weights():
    layer = nn.Linear(2, 2)
    ema = diffusion.EMA(layer, decay=0.9)
    start = layer.weight.numpy().copy()
    layer.weight.data.fill_(1.0)
    ema.update(layer)
    np.testing.assert_allclose(ema.state_dict()["weight"].numpy(), 0.9 * start + 0.1, rtol=1e-6)


def test_the_classifier_is_loaded_when_a_checkpoint_exists(tmp_path):
    ag.manual_seed(3)
    cnn = DigitsCNN()
    path = str(tmp_path / "cnn.ckpt")
    ag.save({"model": cnn.state_dict()}, path)
    loaded = diffusion.digits_classifier(path, str(tmp_path))
    np.testing.assert_array_equal(loaded.classifier.weight.numpy(), cnn.classifier.weight.numpy())
    assert not loaded.training


def test_diffusion_quick_run(tmp_path):
    result = diffusion.run(
        str(tmp_path), quick=True, num_samples=20, classifier_checkpoint=None, verbose=False
    )
    history = result["history"]
    assert len(history["loss"]) == 2 and history["loss"][-1] < history["loss"][0]
    assert sum(result["class_counts"]) == 20 and 1 <= result["classes_present"] <= 10
    assert 0.0 <= result["confident_fraction"] <= 1.0
    for key in ("samples", "trajectory", "checkpoint"):
        assert os.path.getsize(result[key]) > 0
