"""In-place ops with PyTorch's semantics: the memory changes (every alias sees it), the version is
bumped (a backward that saved the old values refuses), and inside a graph the change is recorded
(the tensor's history is rebased), so gradients through `relu_`, `x[i] = v`, `+=` are right."""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from tests.helpers import RNG


def _t(*shape, rg=True):
    return ag.tensor(RNG.standard_normal(shape), requires_grad=rg)


def _both(torch, fn, *arrays):
    """fn run on autograd_nn and on torch tensors made from `arrays` (float64, requiring grad):
    (outputs, grads) of each."""
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_a, out_t = fn(ag, ours), fn(torch, theirs)
    out_a.sum().backward()
    out_t.sum().backward()
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out_a.detach().numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)


# ---- memory and aliases ------------------------------------------------------------------------------
def test_kept_alias_sees_an_inplace_relu():
    x = ag.tensor([-1.0, 2.0, -3.0])
    kept = x
    out = nn.ReLU(inplace=True)(x)
    assert out is x and kept.tolist() == [0.0, 2.0, 0.0]


def test_views_and_detached_aliases_share_memory_and_version():
    x = ag.tensor([1.0, 2.0, 3.0, 4.0])
    v, d = x.view(2, 2), x.detach()
    v[0, 0] = 10.0
    d.mul_(2.0)
    assert x.tolist() == [20.0, 4.0, 6.0, 8.0]
    assert ag.function.version_of(x) == ag.function.version_of(v) == ag.function.version_of(d) > 0


def test_flip_copies_as_in_pytorch():
    x = ag.tensor([1.0, 2.0])
    x.flip(0).add_(1.0)
    assert x.tolist() == [1.0, 2.0]


# ---- the version check ----------------------------------------------------------------------------------
def test_backward_that_needs_overwritten_values_fails_clearly():
    x = _t(3)
    y = x.exp()  # exp saves its output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_inplace_on_a_detached_alias_is_caught():
    x = _t(3)
    y = x.sigmoid()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_inplace_through_data_is_not_tracked_as_in_pytorch():
    x = _t(3)
    y = x.sigmoid()
    y.data.mul_(1.0)  # PyTorch's documented escape hatch: no version bump, no error
    y.sum().backward()
    assert x.grad is not None


def test_leaf_that_requires_grad_is_refused_and_fine_under_no_grad():
    w = ag.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.add_(1.0)
    with ag.no_grad():
        w.add_(1.0)
    assert w.tolist() == [1.0, 1.0, 1.0] and w.is_leaf and w.requires_grad


def test_inplace_on_a_view_in_a_graph_is_refused_clearly():
    x = _t(2, 3)
    with pytest.raises(RuntimeError, match="view"):
        (x * 2)[0].add_(1.0)


def test_int_tensor_refuses_a_float_result():
    with pytest.raises(RuntimeError, match="cast"):
        ag.tensor([1, 2]).add_(0.5)


# ---- recorded in-place ops: gradients equal PyTorch's -------------------------------------------------
def test_relu_inplace_after_linear(torch):
    def f(lib, ins):
        x, w = ins
        y = x @ w
        return lib.nn.functional.relu(y, inplace=True) * 3.0

    _both(torch, f, RNG.standard_normal((4, 3)), RNG.standard_normal((3, 5)))


def test_older_consumers_keep_the_history_they_saw(torch):
    def f(lib, ins):
        (x,) = ins
        a = x * 2.0
        b = a * 3.0  # consumed a before the in-place change
        a.add_(1.0)
        a.relu_()
        return b + a

    _both(torch, f, RNG.standard_normal((3, 4)))


def test_augmented_assignment_is_in_place(torch):
    def f(lib, ins):
        x, y = ins
        h = x * 1.0
        kept = h
        h += y
        h *= y
        h -= 1.0
        h /= 2.0
        return kept

    _both(torch, f, RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)))


def test_mul_by_a_tensor_that_requires_grad_keeps_the_old_values(torch):
    def f(lib, ins):
        x, w = ins
        h = x.tanh()
        h = h * 1.0
        h.mul_(w)
        h.addcmul_(x, w, value=0.5)
        return h

    _both(torch, f, RNG.standard_normal(4), RNG.standard_normal(4))


def test_setitem_with_tensors_that_require_grad(torch):
    def f(lib, ins):
        a, b = ins
        out = lib.zeros(4, 3, dtype=lib.float64)
        out[0] = a[0]
        out[lib.tensor([1, 3])] = b * 2.0
        mask = out > 0.5
        out[mask] = 0.0
        out[2, lib.tensor([0, 2])] = a[1, :2]
        return out * out

    _both(torch, f, RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)))


def test_inplace_family_in_a_graph(torch):
    def f(lib, ins):
        x, y = ins
        h = x * 1.0
        h.clamp_(-0.5, 0.7).mul_(2.0).sigmoid_()
        h = h * 1.0
        h.lerp_(y, 0.3)
        h.addcdiv_(y, y.exp(), value=2.0)
        h.masked_fill_(h > 1.0, 1.0)
        h.sub_(y, alpha=0.5).abs_().sqrt_()
        return h

    _both(torch, f, RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4)))


def test_scatter_and_index_ops_in_a_graph(torch):
    def f(lib, ins):
        x, src = ins
        idx = lib.tensor([[0, 2, 1], [1, 0, 2]])
        h = x * 1.0
        h.scatter_(1, idx, src)
        h.index_fill_(0, lib.tensor([1]), 0.25)
        h.index_add_(1, lib.tensor([0, 0]), src[:, :2])
        return h.scatter(0, lib.tensor([[1, 0, 1]]), 2.0) * x

    _both(torch, f, RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)))


def test_one_hot_by_scatter_matches_pytorch(torch):
    y = [2, 0, 1]
    ours = ag.zeros(3, 4).scatter_(1, ag.tensor(y).unsqueeze(1), 1)
    theirs = torch.zeros(3, 4).scatter_(1, torch.tensor(y).unsqueeze(1), 1)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_shape_changing_inplace_ops(torch):
    def f(lib, ins):
        (x,) = ins
        h = x * 2.0
        h.unsqueeze_(0)
        h.t_() if h.dim() == 2 else h.transpose_(0, 2)
        h.squeeze_()
        return h * lib.arange(h.shape[-1], dtype=lib.float64)

    _both(torch, f, RNG.standard_normal((3, 4)))


def test_accumulating_a_loss_with_plus_equals(torch):
    def f(lib, ins):
        (x,) = ins
        total = 0
        for i in range(3):
            total += (x[i] ** 2).sum()
        return total

    _both(torch, f, RNG.standard_normal((3, 2)))


def test_gradcheck_through_recorded_inplace_ops():
    def f(x, v):
        h = x * 1.0
        h[1:] = v.tanh()
        h.mul_(x)  # needs the old h: read from a copy
        return h.relu_()

    assert ag.gradcheck(f, (_t(3, 2), _t(2, 2)))
    assert ag.gradgradcheck(lambda x: (x * 1.0).tanh_() * x, (_t(4),))


# ---- random fills and no-grad updates --------------------------------------------------------------
def test_random_fills_use_the_library_generator_and_keep_dtype():
    ag.manual_seed(3)
    a = ag.empty(1000, dtype=ag.float64).normal_(2.0, 0.5)
    ag.manual_seed(3)
    b = ag.empty(1000, dtype=ag.float64).normal_(2.0, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert abs(a.mean().item() - 2.0) < 0.1
    u = ag.empty(500).uniform_(-1, 1)
    assert u.dtype == np.float32 and u.min().item() >= -1 and u.max().item() <= 1
    assert set(ag.empty(200).bernoulli_(0.5).tolist()) == {0.0, 1.0}
    assert ag.empty(200).exponential_().min().item() >= 0
    r = ag.zeros(300, dtype=ag.long).random_(0, 5)
    assert set(r.tolist()) == {0, 1, 2, 3, 4}
    g = ag.Generator().manual_seed(1)
    np.testing.assert_array_equal(
        ag.randn(4, generator=g).numpy(), ag.randn(4, generator=ag.Generator().manual_seed(1)).numpy()
    )


def test_old_style_parameter_updates_through_data():
    w = nn.Parameter(ag.ones(3))
    (w * w).sum().backward()
    w.data.add_(-0.1, w.grad)  # PyTorch's deprecated add_(alpha, other) form
    w.data.clamp_(0.85, 0.9)
    w.grad.data.zero_()
    np.testing.assert_allclose(w.numpy(), [0.85] * 3, rtol=1e-6)
    assert w.grad.tolist() == [0.0, 0.0, 0.0]


def test_fused_ops_that_keep_a_view_of_their_input_are_checked_too():
    x = ag.randn(4, 3, 5, 5)
    conv, bn = nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3)
    y = conv(x)
    z = bn(y)  # the fused batch norm keeps a reshaped view of y for its backward
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()


# ---- the in-place door (TensorBase._inplace) ----------------------------------------------------
def test_the_door_stamps_the_owner_only_when_the_write_succeeds():
    x = ag.tensor([1.0, 2.0, 3.0, 4.0])
    v = x.view(2, 2)
    before = ag.function.version_of(x)
    with pytest.raises(ZeroDivisionError), v._inplace("test") as array:
        array[0, 0] = 5.0
        raise ZeroDivisionError  # the block failed: no stamp (the write itself is not undone)
    assert ag.function.version_of(x) == before
    with v._inplace("test") as array:
        array[1, 1] = 7.0
    assert ag.function.version_of(x) == ag.function.version_of(v) > before and x.tolist()[3] == 7.0


def test_the_door_refuses_a_recorded_leaf_and_a_read_only_array():
    w = _t(3)
    with pytest.raises(RuntimeError, match="no_grad"):
        w._inplace("test")
    with ag.no_grad(), w._inplace("test") as array:
        array += 1.0
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"test: .*read-only"):
        ag.as_tensor(ro)._inplace("test")


@pytest.mark.parametrize(
    "change",
    [
        lambda p: ag.nn.init.zeros_(p),
        lambda p: (setattr(p, "grad", ag.ones_like(p)), ag.optim.SGD([p], lr=0.1).step()),
        lambda p: ag.nn.utils.vector_to_parameters(ag.zeros(p.numel()), [p]),
    ],
)
def test_library_updates_go_through_the_door(change):
    p = nn.Parameter(ag.tensor([1.0, 2.0, 3.0]))
    loss = (p * p).sum()  # saves p for backward
    change(p)
    with pytest.raises(ag.errors.GraphError, match="modified in place"):
        loss.backward()


def test_assigning_data_stamps_the_version():
    p = nn.Parameter(ag.tensor([1.0, 2.0, 3.0]))
    before = ag.function.version_of(p)
    p.data = ag.zeros(3)  # a new array: a saved old one is still intact, but the values changed
    assert ag.function.version_of(p) > before
