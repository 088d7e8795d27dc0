"""The Module system: registration, traversal order, state dicts, modes, freezing, hooks, containers.

Where PyTorch defines the behaviour, the same architecture is built in both libraries and compared.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.errors import CheckpointError


def build(lib):
    """The same small network in autograd_nn.nn or torch.nn (shared Linear, buffers, containers)."""

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.stem = lib.Sequential(lib.Conv2d(3, 4, 3), lib.BatchNorm2d(4), lib.ReLU())
            self.shared = lib.Linear(4, 4)
            self.blocks = lib.ModuleList([lib.Linear(4, 4), self.shared])
            self.heads = lib.ModuleDict({"a": lib.Linear(4, 2), "b": lib.Linear(4, 3, bias=False)})
            self.alias = self.shared  # the same module under a second name
            self.register_buffer("scale", lib_ones(lib))
            self.register_buffer("cache", lib_ones(lib), persistent=False)

        def forward(self, x):
            h = self.stem(x).mean((2, 3))
            for b in self.blocks:
                h = b(h)
            return self.heads["a"](h) * self.scale

    return Net()


def lib_ones(lib):
    return ag.ones(2) if lib is nn else __import__("torch").ones(2)


def test_names_order_and_dedup_match_pytorch(torch):
    ours, theirs = build(nn), build(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # shared module under both names
    assert "cache" not in ours.state_dict()  # non-persistent buffer
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))


def test_state_dict_round_trip_with_pytorch(torch):
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(
        ours(ag.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    fresh = build(nn)
    fresh.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (k, a), b in zip(fresh.state_dict().items(), ours.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert fresh.shared is fresh.alias  # sharing survives loading


def test_load_state_dict_strict_errors_leave_model_unchanged():
    model = build(nn)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    good = {k: np.zeros_like(v) for k, v in before.items()}
    missing = dict(good)
    missing.pop("heads.a.bias")
    with pytest.raises(CheckpointError, match="heads.a.bias"):
        model.load_state_dict(missing)
    with pytest.raises(CheckpointError, match="extra"):
        model.load_state_dict({**good, "extra": np.zeros(1)})
    wrong = {**good, "shared.weight": np.zeros((3, 3))}
    with pytest.raises(CheckpointError, match=r"shared.weight.*\(3, 3\)"):
        model.load_state_dict(wrong)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    result = model.load_state_dict(missing, strict=False)
    assert list(result[0]) == ["heads.a.bias"] and list(result[1]) == []
    assert np.all(model.heads["a"].weight.numpy() == 0)


def test_train_eval_zero_grad_and_freezing():
    model = build(nn)
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    model(ag.randn(2, 3, 5, 5)).sum().backward()
    assert all(p.grad is not None for p in model.blocks.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.blocks.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.stem.requires_grad_(False)
    model(ag.randn(2, 3, 5, 5)).sum().backward()
    assert all(p.grad is None for p in model.stem.parameters())
    assert model.heads["a"].weight.grad is not None


def test_apply_hooks_and_to():
    model = build(nn)
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Conv2d"  # children first, then the module itself
    calls = []
    pre = model.heads["a"].register_forward_pre_hook(lambda m, args: calls.append("pre"))
    post = model.heads["a"].register_forward_hook(lambda m, args, out: out * 0)
    out = model(ag.randn(1, 3, 5, 5))
    assert calls == ["pre"] and np.all(out.numpy() == 0)
    pre.remove()
    post.remove()
    assert np.any(model(ag.randn(1, 3, 5, 5)).numpy() != 0) and calls == ["pre"]
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.stem[1].num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype


def test_repr_matches_pytorch(torch):
    ours = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8, 2),
        nn.Dropout(0.1),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 2),
        torch.nn.Dropout(0.1),
    )
    assert repr(ours) == repr(theirs)


def test_containers_index_slice_and_register():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head[1] is seq[2]  # slicing shares the modules
    assert list(head.state_dict()) == ["2.weight", "2.bias"]  # keeps the original names, as PyTorch
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers[1:]) == 2 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 2))
    assert "3.weight" in layers.state_dict()
    heads = nn.ModuleDict({"x": nn.Linear(2, 1)})
    heads["y"] = nn.Linear(2, 1)
    assert list(heads.keys()) == ["x", "y"] and "y" in heads
    params = nn.ParameterList([nn.Parameter(ag.ones(2)), nn.Parameter(ag.zeros(3))])
    assert [n for n, _ in params.named_parameters()] == ["0", "1"]


def test_assignment_rules():
    m = nn.Module()
    m.w = nn.Parameter(ag.ones(2))
    m.sub = nn.Linear(2, 2)
    m.w = None  # a parameter slot may be cleared
    assert "w" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.register_parameter("w", nn.Parameter(ag.ones(1)))
        m.w = ag.ones(1)
    m.register_buffer("b", ag.zeros(2))
    m.b = ag.ones(2)  # buffers may be reassigned with tensors
    assert np.all(m.b.numpy() == 1) and "b" in m.state_dict()
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = m.missing

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ag.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_reassigning_a_submodule_keeps_its_position():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = ag.randn(4, 2)
    before = seq(x).numpy().copy()
    seq[0] = seq[0]
    assert list(seq._modules) == ["0", "1", "2"]
    np.testing.assert_allclose(seq(x).numpy(), before)
    seq[2] = nn.Linear(3, 1)  # a new module takes the old one's place
    assert isinstance(list(seq)[2], nn.Linear) and list(seq._modules) == ["0", "1", "2"]
