"""The classic examples (micrograd, MLP, autoencoders, GANs, GCN) reach their stated results.

Each example runs once per module (fixtures below) with quick=False where that takes seconds, or
with fewer steps that still meet the thresholds; then unit checks of the models' maths.
"""

import contextlib
import os

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.examples import autoencoders, gan, gcn, micrograd, mlp


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """Small matmuls gain nothing from BLAS threads, and on a shared 2-core box they thrash."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn's dependency; without it, run as configured
        threadpool_limits = lambda limits: contextlib.nullcontext()
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("classic")


@pytest.fixture(scope="module")
def micrograd_result(out):
    return micrograd.run(str(out / "micrograd"))


@pytest.fixture(scope="module")
def mlp_result(out):
    return mlp.run(str(out / "mlp"))


@pytest.fixture(scope="module")
def ae_result(out):
    return autoencoders.run(str(out / "ae"))


@pytest.fixture(scope="module")
def gan_result(out):
    # 500 GAN steps already match the ring's moments; WGAN-GP only needs to show its penalty.
    return gan.run(str(out / "gan"), steps=500, wgan_steps=30, digits_epochs=2)


@pytest.fixture(scope="module")
def gcn_result(out):
    return gcn.run(str(out / "gcn"))


# --- headline results ---------------------------------------------------------------------------


def test_micrograd_reproduces_readme_numbers(micrograd_result):
    r = micrograd_result
    assert r["readme_g"] == pytest.approx(24.7041, abs=1e-4)
    assert r["readme_a_grad"] == pytest.approx(138.8338, abs=1e-4)
    assert r["readme_b_grad"] == pytest.approx(645.5773, abs=1e-4)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5, "o": 1.0}
    for name, value in expected.items():
        assert r["neuron_grads"][name] == pytest.approx(value, abs=1e-6), name


def test_micrograd_scalar_mlp_fits_the_four_points(micrograd_result):
    r = micrograd_result
    assert r["n_parameters"] == 41  # MLP(3, [4, 4, 1]) as in micrograd
    assert r["final_loss"] < 0.01 < r["initial_loss"]
    assert np.sign(r["predictions"]).tolist() == r["targets"]
    assert os.path.exists(r["curves"])
    if r["graph"] is not None:
        assert os.path.getsize(r["graph"]) > 0


def test_mlp_thresholds(mlp_result):
    r = mlp_result
    assert r["perceptron_train_accuracy"] == 1.0
    assert r["moons_train_accuracy"] == 1.0  # 100% train accuracy on the moons
    assert r["xor_train_accuracy"] >= 0.99
    assert r["digits_test_accuracy"] >= 0.96
    assert set(r["activations"]) == {"relu", "sigmoid", "tanh"}
    assert all(a["train_accuracy"] >= 0.9 for a in r["activations"].values())
    assert os.path.exists(r["decision_boundaries"]) and os.path.exists(r["digits_curves"])


def test_vae_elbo_improves_monotonically_after_smoothing(ae_result):
    r = ae_result
    elbo = r["elbo_per_epoch"]
    assert len(elbo) == 30
    assert elbo[-1] > elbo[0] + 5.0  # nats per image
    assert np.all(np.diff(autoencoders.moving_average(elbo)) > 0)
    assert r["elbo_monotone"]
    assert r["vae_test_elbo"] > -40.0


def test_autoencoders_reconstruct_and_sparse_code_is_sparse(ae_result):
    r = ae_result
    assert r["autoencoder_test_mse"] < 0.03 and r["sparse_test_mse"] < 0.03
    assert 0.0 < r["sparse_active_fraction"] < 0.5 * r["autoencoder_active_fraction"]
    assert os.path.exists(r["reconstructions"]) and os.path.exists(r["samples"])


def test_gan_matches_ring_moments(gan_result):
    r = gan_result["gan"]
    assert r["mean_error"] <= gan.MEAN_TOL
    assert r["cov_error"] <= gan.COV_TOL
    assert r["moments_ok"]
    assert r["modes_covered"] >= 6


def test_wgan_gp_penalty_is_nonzero(gan_result):
    assert np.isfinite(gan_result["wgan_gp_penalty_mean"])
    assert gan_result["wgan_gp_penalty_mean"] > 1e-6
    assert gan_result["wgan_gp_penalty_last"] > 0.0


def test_digits_gan_writes_samples(gan_result):
    assert os.path.exists(gan_result["digits_samples"])
    assert 0.0 < gan_result["digits_d_fake"] < 1.0


def test_gcn_node_accuracy(gcn_result):
    assert gcn_result["test_accuracy"] >= 0.90
    assert gcn_result["test_accuracy"] > gcn_result["mlp_baseline_test_accuracy"]
    assert os.path.exists(gcn_result["embeddings"])


@pytest.mark.parametrize("module", [micrograd, mlp, autoencoders, gan, gcn])
def test_quick_runs_return_metrics(module, tmp_path):
    result = module.run(str(tmp_path), quick=True)
    assert isinstance(result, dict) and result
    assert os.listdir(tmp_path)


def test_same_seed_same_result(tmp_path):
    a = gcn.run(str(tmp_path / "a"), quick=True, seed=3)
    b = gcn.run(str(tmp_path / "b"), quick=True, seed=3)
    assert a["test_accuracy"] == b["test_accuracy"]
    assert a["mlp_baseline_test_accuracy"] == b["mlp_baseline_test_accuracy"]


# --- the maths of the models --------------------------------------------------------------------


def test_gradient_penalty_of_a_linear_critic():
    """For D(x) = w.x + b the input gradient is w everywhere: penalty = (||w|| - 1)^2."""
    critic = nn.Linear(2, 1)
    with ag.no_grad():
        critic.weight.copy_(ag.tensor([[3.0, 4.0]]))
    real, fake = ag.randn(16, 2), ag.randn(16, 2)
    gp = gan.gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx(16.0, rel=1e-5)  # (5 - 1)^2
    gp.backward()  # through the gradient (create_graph=True): d/dw (||w|| - 1)^2 = 2 (5 - 1) w / 5
    np.testing.assert_allclose(critic.weight.grad.numpy(), [[4.8, 6.4]], rtol=1e-4)


def test_negative_elbo_matches_numpy():
    rng = np.random.default_rng(0)
    logits, x = rng.normal(size=(4, 64)), rng.random((4, 64))
    mu, logvar = rng.normal(size=(4, 8)), rng.normal(size=(4, 8)) * 0.3
    got = autoencoders.negative_elbo(
        tuple(ag.tensor(a, dtype=ag.float64) for a in (logits, mu, logvar)), ag.tensor(x, dtype=ag.float64)
    ).item()
    p = 1 / (1 + np.exp(-logits))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum() / 4
    kl = 0.5 * (np.exp(logvar) + mu**2 - 1 - logvar).sum() / 4
    assert got == pytest.approx(bce + kl, rel=1e-8)


def test_gcn_layer_is_the_normalised_propagation_rule():
    graph = ag.data.stochastic_block_model(n_nodes=30, seed=1)
    adj = graph.normalized_adjacency()
    np.testing.assert_allclose(adj, adj.T, atol=1e-6)
    layer = gcn.GraphConv(16, 4)
    x = ag.tensor(graph.x)
    got = layer(x, ag.tensor(adj)).numpy()
    expected = adj @ graph.x @ layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_gcn_is_permutation_equivariant():
    """Relabelling the nodes relabels the outputs and changes nothing else."""
    graph = ag.data.stochastic_block_model(n_nodes=40, seed=2)
    adj = graph.normalized_adjacency()
    perm = np.random.default_rng(0).permutation(40)
    model = gcn.GCN(adj, 16, 8, 3).eval()
    permuted = gcn.GCN(adj[perm][:, perm], 16, 8, 3).eval()
    permuted.load_state_dict(model.state_dict())
    out = model(ag.tensor(graph.x)).numpy()
    out_perm = permuted(ag.tensor(graph.x[perm])).numpy()
    np.testing.assert_allclose(out_perm, out[perm], rtol=1e-4, atol=1e-5)


def test_perceptron_loss_is_zero_only_when_all_correct():
    logits = ag.tensor([[2.0], [-1.0], [0.5]])
    assert mlp.perceptron_loss(logits, ag.tensor([1, 0, 1])).item() == 0.0
    assert mlp.perceptron_loss(logits, ag.tensor([0, 0, 1])).item() == pytest.approx(2.0 / 3)


def test_scalar_neuron_matches_formula():
    ag.manual_seed(0)
    neuron = micrograd.Neuron(3)
    x = [0.5, -1.0, 2.0]
    w = [p.item() for p in neuron.w]
    expected = np.tanh(sum(wi * xi for wi, xi in zip(w, x)) + neuron.b.item())
    assert neuron([micrograd.scalar(v, requires_grad=False) for v in x]).item() == pytest.approx(
        expected, rel=1e-12
    )
