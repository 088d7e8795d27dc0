"""LoRA: frozen base, trainable adapters, merge/unmerge consistency, apply_lora and counting."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn

RNG = np.random.default_rng(3)


def _randomise_b(model):
    """lora_B starts at zero (the adapter is a no-op); give it values so the tests can fail."""
    for m in model.modules():
        if isinstance(m, nn.LoRALinear):
            m.lora_B.numpy()[...] = RNG.standard_normal(m.lora_B.shape).astype(m.lora_B.dtype)


def test_lora_linear_init_and_identity_at_start():
    base = nn.Linear(6, 4)
    w0 = base.weight.numpy().copy()
    lora = nn.LoRALinear(base, r=2, alpha=8)
    assert lora.scaling == 4.0 and lora.lora_A.shape == (2, 6) and lora.lora_B.shape == (4, 2)
    assert np.all(lora.lora_B.numpy() == 0) and np.abs(lora.lora_A.numpy()).max() > 0
    assert np.abs(lora.lora_A.numpy()).max() <= 1 / np.sqrt(6)  # kaiming-uniform(a=sqrt(5)) bound
    assert not base.weight.requires_grad and not base.bias.requires_grad
    x = ag.randn(3, 6)
    np.testing.assert_allclose(lora(x).numpy(), base(x).numpy(), rtol=1e-6)
    assert lora.weight is base.weight and lora.in_features == 6 and lora.out_features == 4
    np.testing.assert_array_equal(base.weight.numpy(), w0)


def test_forward_is_base_plus_scaled_low_rank_update():
    lora = nn.LoRALinear(nn.Linear(5, 3).double(), r=2, alpha=3)
    _randomise_b(lora)
    x = ag.tensor(RNG.standard_normal((4, 5)))
    w, b = lora.base_layer.weight.numpy(), lora.base_layer.bias.numpy()
    expected = x.numpy() @ (w + 1.5 * lora.lora_B.numpy() @ lora.lora_A.numpy()).T + b
    np.testing.assert_allclose(lora(x).numpy(), expected, rtol=1e-12)
    assert ag.gradcheck(lambda x, a, b: lora(x), (x.requires_grad_(), lora.lora_A, lora.lora_B))


def test_optimizer_step_updates_only_adapters():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    nn.apply_lora(model, target_modules=("0", "2"), r=2)
    _randomise_b(model)
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    opt = ag.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(2):
        opt.zero_grad()
        model(ag.randn(5, 4)).pow(2).mean().backward()
        opt.step()
    for name, p in model.named_parameters():
        changed = not np.array_equal(p.numpy(), before[name])
        assert changed == ("lora_" in name), name
        assert (p.grad is None) == ("lora_" not in name), name


def test_merge_matches_unmerged_and_unmerge_restores_weight():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    nn.apply_lora(layer, target_modules=("out_proj", "linear1", "linear2"), r=4, alpha=8)
    _randomise_b(layer)
    x = ag.randn(5, 2, 8)
    base_weights = {n: p.numpy().copy() for n, p in layer.named_parameters() if "base_layer" in n}
    unmerged = layer(x).numpy()
    nn.merge_lora(layer)
    assert all(m.merged for m in layer.modules() if isinstance(m, nn.LoRALinear))
    assert not np.allclose(layer.linear1.weight.numpy(), base_weights["linear1.base_layer.weight"])
    np.testing.assert_allclose(layer(x).numpy(), unmerged, rtol=1e-4, atol=1e-5)
    nn.merge_lora(layer)  # merging twice is a no-op
    np.testing.assert_allclose(layer(x).numpy(), unmerged, rtol=1e-4, atol=1e-5)
    nn.unmerge_lora(layer)
    for name, w in base_weights.items():
        np.testing.assert_allclose(layer.get_parameter(name).numpy(), w, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), unmerged, rtol=1e-5, atol=1e-6)


def test_parameter_counts_and_targets():
    mha = nn.MultiheadAttention(8, 2)
    model = nn.Sequential(mha, nn.Linear(8, 8))
    total_before = 3 * 8 * 8 + 3 * 8 + 8 * 8 + 8 + 8 * 8 + 8
    assert nn.count_parameters(model) == (total_before, total_before)
    nn.apply_lora(model, target_modules=lambda name, m: name.endswith("out_proj"), r=2)
    assert isinstance(mha.out_proj, nn.LoRALinear) and isinstance(model[1], nn.Linear)
    adapter = 2 * 8 + 8 * 2
    assert nn.count_parameters(model) == (adapter, total_before + adapter)
    _randomise_b(model)
    x = ag.randn(3, 1, 8)
    out, _ = mha(x, x, x)
    out.sum().backward()
    assert mha.out_proj.lora_A.grad is not None and mha.in_proj_weight.grad is None
    with pytest.raises(ValueError, match="no Linear submodule"):
        nn.apply_lora(nn.Sequential(nn.Linear(2, 2)), target_modules=("q_proj",))


def test_mark_only_lora_as_trainable_bias_modes():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    nn.apply_lora(model, target_modules=("0",), r=1)
    model.requires_grad_(True)
    nn.mark_only_lora_as_trainable(model)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"0.lora_A", "0.lora_B"}
    nn.mark_only_lora_as_trainable(model, bias="lora_only")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"0.lora_A", "0.lora_B", "0.base_layer.bias"}
    nn.mark_only_lora_as_trainable(model, bias="all")
    assert "1.bias" in {n for n, p in model.named_parameters() if p.requires_grad}


def test_dropout_on_adapter_input_only():
    lora = nn.LoRALinear(nn.Linear(50, 50), r=4, dropout=0.5)
    _randomise_b(lora)
    x = ag.randn(8, 50)
    lora.train()
    a, b = lora(x).numpy(), lora(x).numpy()
    assert not np.allclose(a, b)  # the adapter input is dropped at random
    lora.eval()
    np.testing.assert_allclose(lora(x).numpy(), lora(x).numpy())
    lora.lora_B.numpy()[...] = 0
    lora.train()
    np.testing.assert_allclose(lora(x).numpy(), lora.base_layer(x).numpy(), rtol=1e-6)
