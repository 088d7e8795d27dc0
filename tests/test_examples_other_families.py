"""The degradation problem, the TDNN and the deep stacking network: their pieces, and each one's
claim at reduced size (the deeper plain network trains worse while the residual one does not; the
TDNN beats an MLP on time-shifted sequences; stacking modules classifies the digits).

These models multiply small matrices, for which extra BLAS and Numba threads only add
synchronisation cost on a shared machine, so the module runs with one thread of each.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograd_nn import as_tensor, manual_seed
from autograd_nn.examples import degradation, dsn, tdnn


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    numba = pytest.importorskip("numba")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    with threadpoolctl.threadpool_limits(limits=1):
        yield
    numba.set_num_threads(previous)


# ---- degradation ---------------------------------------------------------------------------------
def test_plain_and_residual_twins_share_weights_and_differ_only_by_the_skip():
    x = as_tensor(np.random.default_rng(0).normal(size=(2, 1, 8, 8)).astype(np.float32))
    manual_seed(3)
    plain = degradation.DeepCNN(8, residual=False, width=4).eval()
    manual_seed(3)
    residual = degradation.DeepCNN(8, residual=True, width=4).eval()
    assert len(plain.blocks) == 3  # 1 stem conv + 3 blocks x 2 convs + 1 linear = 8 layers
    for (name, p), (_, q) in zip(plain.named_parameters(), residual.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    block_in = plain.stem(x)
    plain_out, residual_out = plain.blocks[0](block_in), residual.blocks[0](block_in)
    expected = residual.blocks[0].bn2(
        residual.blocks[0].conv2(
            residual.blocks[0].relu(residual.blocks[0].bn1(residual.blocks[0].conv1(block_in)))
        )
    )
    np.testing.assert_allclose(plain_out.numpy(), expected.relu().numpy(), atol=1e-6)
    np.testing.assert_allclose(residual_out.numpy(), (expected + block_in).relu().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="depth must be even"):
        degradation.DeepCNN(7, residual=True)


@pytest.mark.slow
def test_deeper_plain_network_trains_worse_but_residual_does_not(tmp_path):
    """Depths 6 and 16, width 8, 4 epochs (about 7 CPU-seconds): such a run ended with training
    losses plain-6 0.43, plain-16 1.07, residual-16 0.11."""
    r = degradation.run(str(tmp_path), shallow=6, deep=16, epochs=4, width=8, verbose=False)
    plain_shallow, plain_deep = r["plain-6"]["final_train_loss"], r["plain-16"]["final_train_loss"]
    residual_deep = r["residual-16"]["final_train_loss"]
    assert plain_deep > 1.5 * plain_shallow, r
    assert residual_deep < 0.5 * plain_deep, r
    assert os.path.getsize(r["curves"]) > 0


def test_smooth_is_an_exponential_moving_average():
    np.testing.assert_allclose(degradation.smooth([1.0, 3.0, 3.0], alpha=0.5), [1.0, 2.0, 2.5])


# ---- TDNN ----------------------------------------------------------------------------------------
def test_spoken_digits_vary_in_onset_and_keep_the_templates():
    cfg = tdnn.SpokenDigitsConfig(noise=0.0)
    x, y = tdnn.spoken_digits(200, np.random.default_rng(0), cfg)
    assert x.shape == (200, cfg.n_features, cfg.n_frames) and x.dtype == np.float32
    assert set(y) == set(range(10))
    onsets = [np.flatnonzero(np.abs(u).sum(0) > 0)[0] for u in x]
    assert max(onsets) - min(onsets) > 20  # words start anywhere
    again, _ = tdnn.spoken_digits(200, np.random.default_rng(0), cfg)
    np.testing.assert_array_equal(x, again)


def test_tdnn_output_does_not_depend_on_when_the_word_starts():
    manual_seed(0)
    model = tdnn.TDNN(n_features=3, channels=4).eval()
    assert model.receptive_field == 31
    x = np.zeros((1, 3, 80), np.float32)
    x[0, :, 30:40] = np.random.default_rng(0).normal(size=(3, 10))
    shifted = np.roll(x, 17, axis=2)  # still clear of the edges, where padding would differ
    np.testing.assert_allclose(
        model(as_tensor(x)).numpy(), model(as_tensor(shifted)).numpy(), rtol=1e-5, atol=1e-6
    )


def test_tdnn_beats_the_mlp(tmp_path):
    """Quick setting (400 utterances, 4 epochs): such a run reached TDNN 0.86, MLP 0.47."""
    r = tdnn.run(str(tmp_path), quick=True, verbose=False)
    assert r["tdnn"]["test_accuracy"] >= 0.7, r
    assert r["tdnn"]["test_accuracy"] >= r["mlp"]["test_accuracy"] + 0.2, r
    assert os.path.getsize(r["examples"]) > 0


# ---- deep stacking network -----------------------------------------------------------------------
def test_stacking_features_hold_the_input_and_the_outputs_below():
    manual_seed(0)
    net = dsn.DeepStackingNetwork(n_inputs=5, hidden=4, num_modules=3)
    x = as_tensor(np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32))
    feats = net.features(x, 2).numpy()
    assert feats.shape == (2, 5 + 2 * 10)
    np.testing.assert_allclose(feats[:, :5], x.numpy())
    np.testing.assert_allclose(feats[:, 5:15].sum(1), 1.0, rtol=1e-5)  # module 1's probabilities
    assert net(x).shape == (2, 10) and net(x, upto=1).shape == (2, 10)
    assert [m.hidden.in_features for m in net.stack] == [5, 15, 25]


def test_dsn_trains_module_by_module(tmp_path):
    """Quick setting (2 modules, 3 epochs): such a run reached 0.89 and 0.90 test accuracy."""
    r = dsn.run(str(tmp_path), quick=True, verbose=False)
    assert len(r["dsn_test_accuracy_by_modules"]) == 2
    assert min(r["dsn_test_accuracy_by_modules"]) >= 0.8 and r["mlp_test_accuracy"] >= 0.8, r
    assert r["dsn_test_accuracy"] == pytest.approx(r["dsn_test_accuracy_by_modules"][-1])
