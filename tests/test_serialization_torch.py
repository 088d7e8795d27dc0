"""Checkpoints cross to PyTorch and back through safetensors, both ways, with the same outputs."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
from autograd_nn import nn


def _pair(torch):
    """The same small CNN in both libraries (PyTorch's parameter names and layouts)."""
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 5),
    )
    return ours, theirs


def _train_a_little(model):
    """A few steps, so the weights and BatchNorm's running statistics are not the initial ones."""
    opt = ag.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        loss = (model(ag.randn(8, 1, 6, 6)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_a_state_dict_saved_here_loads_into_pytorch(torch, tmp_path):
    from safetensors.torch import load_file

    ours, theirs = _pair(torch)
    _train_a_little(ours)
    path = tmp_path / "model.safetensors"
    ag.save(ours.state_dict(), path)
    theirs.load_state_dict(load_file(path))  # strict: every key, shape and dtype must fit
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert int(theirs[1].num_batches_tracked) == 3


def test_a_pytorch_save_file_loads_here(torch, tmp_path):
    from safetensors.torch import save_file

    ours, theirs = _pair(torch)
    with torch.no_grad():
        theirs(torch.randn(8, 1, 6, 6))  # moves BatchNorm's running statistics
    theirs.eval()
    path = tmp_path / "torch.safetensors"
    save_file(theirs.state_dict(), path, metadata={"format": "pt"})
    state = ag.load(path)
    assert set(state) == set(theirs.state_dict())
    ours.load_state_dict(state)
    ours.eval()
    x = np.random.default_rng(1).standard_normal((3, 1, 6, 6)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_tied_weights_are_written_under_every_key(torch, tmp_path):
    """A tied embedding/head (as in the GPT example) is one Parameter under two state_dict keys:
    PyTorch's strict load_state_dict needs both, and loading here shares one array again."""
    from safetensors.torch import load_file

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(5, 3)
            self.head = nn.Linear(3, 5, bias=False)
            self.head.weight = self.embed.weight

    model = Tied()
    path = tmp_path / "tied.safetensors"
    ag.save(model.state_dict(), path)
    tensors = load_file(path)
    assert sorted(tensors) == ["embed.weight", "head.weight"]
    torch.testing.assert_close(tensors["embed.weight"], tensors["head.weight"])
    back = ag.load(path)
    assert back["embed.weight"].numpy() is back["head.weight"].numpy()
