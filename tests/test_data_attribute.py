"""`.data` is PyTorch's: a Tensor outside the graph that shares memory with the original."""

import numpy as np

import autograd_nn as ag


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    d = p.data
    assert isinstance(d, ag.Tensor) and not d.requires_grad and d.grad_fn is None
    d.add_(ag.tensor([10.0, 10.0]), alpha=-0.5)  # old-style SGD step
    np.testing.assert_array_equal(p.numpy(), [-4.0, -3.0])


def test_assigning_data_swaps_values_and_the_optimizer_still_steps():
    p = ag.nn.Parameter(ag.zeros(3))
    p.data = ag.tensor([1.0, 2.0, 3.0])  # e.g. loading pretrained embeddings
    opt = ag.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.8, 1.6, 2.4], rtol=1e-6)


def test_numpy_accepts_tensors():
    t = ag.tensor([[1.0, 2.0]])
    assert np.asarray(t) is t.numpy()
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
