"""Engine invariants: graph walk, accumulation, freeing, grad mode, functional grad, higher order."""

import gc
import threading
import time
import tracemalloc
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.errors import DTypeError, GraphError, ShapeError


def test_chain_of_100k_ops_backpropagates_without_recursion_error():
    x = ag.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    start = time.perf_counter()
    y.backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(x.grad.item(), 1.00001**100_000, rtol=1e-9)
    assert elapsed < 60  # a sanity bound against hangs, not a performance assertion


def test_diamond_graph_sums_both_paths():
    x = ag.tensor(3.0, requires_grad=True)
    a = x * 2.0
    b = x * x
    (a + b).backward()
    assert x.grad.item() == pytest.approx(2.0 + 2 * 3.0)


def test_value_used_many_times_gets_the_sum():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x + x + x * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])


def test_gradients_accumulate_until_zeroed():
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    for _ in range(3):
        (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_grad_is_a_tensor_with_the_input_dtype():
    for dtype in (np.float32, np.float64):
        x = ag.ones(3, dtype=dtype, requires_grad=True)
        (x * 2).sum().backward()
        assert isinstance(x.grad, ag.Tensor)
        assert x.grad.dtype == dtype


def test_first_gradient_is_not_aliased_between_leaves():
    a = ag.ones(3, requires_grad=True)
    b = ag.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10  # e.g. gradient clipping in place
    np.testing.assert_allclose(b.grad.numpy(), 1.0)


def test_broadcast_gradient_is_reduced_to_input_shape():
    x = ag.ones(4, 1, 3, requires_grad=True)
    b = ag.ones(3, requires_grad=True)
    s = ag.ones(1, requires_grad=True)
    ((x + b) * s).sum().backward()
    assert x.grad.shape == (4, 1, 3) and b.grad.shape == (3,) and s.grad.shape == (1,)
    np.testing.assert_allclose(b.grad.numpy(), 4.0)
    np.testing.assert_allclose(s.grad.numpy(), 24.0)


def test_retain_graph_allows_a_second_backward():
    x = ag.tensor(2.0, requires_grad=True)
    y = (x * x).exp()
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = ag.tensor(2.0, requires_grad=True)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(GraphError, match="second time"):
        y.backward()


def test_backward_frees_saved_arrays():
    x = ag.ones(1000, requires_grad=True)
    h = x * 3.0
    loss = (h * h).sum()
    ctx = loss._ctx
    loss.backward()
    assert ctx.parents is None and ctx.saved == ()


def test_non_scalar_backward_needs_a_gradient():
    x = ag.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(GraphError, match="scalar"):
        y.backward()
    y.backward(ag.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), 2.0)
    with pytest.raises(ShapeError):
        (x * 2).backward(ag.ones(4))


def test_backward_on_tensor_without_graph_is_a_clear_error():
    with pytest.raises(GraphError, match="does not require grad"):
        ag.ones(1).backward()


def test_requires_grad_on_integer_tensor_is_refused():
    with pytest.raises(DTypeError, match="floating"):
        ag.tensor([1, 2, 3], requires_grad=True)


def test_no_grad_records_nothing_as_context_and_decorator():
    x = ag.ones(2, requires_grad=True)
    with ag.no_grad():
        y = x * 2
    assert not y.requires_grad and y._ctx is None

    @ag.no_grad()
    def f(t):
        return t * 2

    z = f(x)
    assert not z.requires_grad and ag.is_grad_enabled()
    with ag.no_grad():
        with ag.enable_grad():
            assert (x * 2).requires_grad
        assert not ag.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError), ag.no_grad():
        raise ValueError
    assert ag.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


def test_grad_mode_is_thread_local():
    barrier = threading.Barrier(2)
    seen = {}

    def off():
        with ag.no_grad():
            barrier.wait()
            barrier.wait()
            seen["off"] = ag.is_grad_enabled()

    def on():
        barrier.wait()
        x = ag.ones(2, requires_grad=True)
        seen["on"] = (x * 2).requires_grad
        barrier.wait()

    with ThreadPoolExecutor(2) as pool:
        for f in [pool.submit(off), pool.submit(on)]:
            f.result()
    assert seen == {"off": False, "on": True}


def test_functional_grad_does_not_touch_dot_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    (gx,) = ag.grad((x * w).sum(), x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_functional_grad_unused_input():
    x = ag.ones(2, requires_grad=True)
    y = ag.ones(2, requires_grad=True)
    with pytest.raises(GraphError, match="not used"):
        ag.grad((x * 2).sum(), [x, y])
    gx, gy = ag.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_retain_grad_and_hooks():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    h.register_hook(lambda g: g * 2.0)
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * 2 * np.array([3.0, 6.0]))
    np.testing.assert_allclose(x.grad.numpy(), 3 * h.grad.numpy())


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    a = a + a.T
    A = ag.tensor(a)
    x = ag.tensor(rng.standard_normal(4), requires_grad=True)
    v = ag.tensor(rng.standard_normal(4))
    f = ((x @ A) @ x) * 0.5 + (x * x * x).sum()
    (g,) = ag.grad(f, x, create_graph=True)
    (hv,) = ag.grad((g * v).sum(), x)
    hessian = a + np.diag(6 * x.numpy())
    np.testing.assert_allclose(hv.numpy(), hessian @ v.numpy(), rtol=1e-5)


def test_gradient_penalty_trains():
    """WGAN-GP style: penalise (|d critic / d input| - 1)^2 and check it goes down."""
    rng = np.random.default_rng(0)
    w1 = ag.tensor(rng.standard_normal((2, 16)), requires_grad=True)
    w2 = ag.tensor(rng.standard_normal((16, 1)), requires_grad=True)
    x = ag.tensor(rng.standard_normal((32, 2)), requires_grad=True)

    def penalty():
        h = x @ w1
        out = ((h * h + 1.0).log() @ w2).sum()
        (gx,) = ag.grad(out, x, create_graph=True)
        norm = ((gx * gx).sum(1) + 1e-12) ** 0.5
        return ((norm - 1.0) ** 2).sum() * (1.0 / 32)

    first = penalty().item()
    for _ in range(100):
        p = penalty()
        w1.grad = w2.grad = None
        p.backward()
        assert w1.grad is not None and np.abs(w1.grad.numpy()).sum() > 0
        with ag.no_grad():
            w1.data -= 0.005 * w1.grad.numpy()
            w2.data -= 0.005 * w2.grad.numpy()
    assert penalty().item() < 0.5 * first


def test_memory_stays_flat_over_1000_steps():
    rng = np.random.default_rng(0)
    w = ag.tensor((0.1 * rng.standard_normal((32, 32))).astype(np.float32), requires_grad=True)
    x = ag.tensor(rng.standard_normal((16, 32)).astype(np.float32))

    def step():
        loss = ((x @ w).exp() * 0.01).sum()
        loss.backward()
        with ag.no_grad():
            w.data -= 1e-4 * w.grad.numpy()
        w.grad = None

    for _ in range(50):
        step()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 1000 steps"


def test_graph_is_freed_without_reference_cycles():
    gc.disable()
    try:
        x = ag.ones(10, requires_grad=True)
        h = x * 2.0
        ref = weakref.ref(h)
        loss = (h * h).sum()
        del h
        loss.backward()
        del loss
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_python_scalars_and_arrays_on_either_side():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = 2 * x + x * 3 - 1 + 1 - x / 2 + 4 / x + np.array([1.0, 1.0]) * x + x**2 + 2**x
    assert y.dtype == np.float32
    y.sum().backward()
    xs = np.array([1.0, 2.0])
    expected = 2 + 3 - 0.5 - 4 / xs**2 + 1 + 2 * xs + np.log(2) * 2**xs
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)


def test_matmul_variants_match_numpy_and_gradcheck():
    rng = np.random.default_rng(0)
    shapes = [
        ((3,), (3,)),
        ((3,), (3, 2)),
        ((2, 3), (3,)),
        ((2, 3), (3, 4)),
        ((5, 2, 3), (3, 4)),
        ((2, 3), (5, 3, 4)),
        ((1, 2, 3), (4, 3, 2)),
    ]
    for sa, sb in shapes:
        a = ag.tensor(rng.standard_normal(sa), requires_grad=True)
        b = ag.tensor(rng.standard_normal(sb), requires_grad=True)
        np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy())
        assert ag.gradcheck(lambda p, q: p @ q, [a, b])
        assert ag.gradgradcheck(lambda p, q: p @ q, [a, b])


def test_matmul_shape_error_names_op_and_shapes():
    with pytest.raises(ShapeError, match=r"MatMul.*\(2, 3\).*\(4, 5\)"):
        ag.ones(2, 3) @ ag.ones(4, 5)


def test_ragged_list_is_a_clear_error():
    with pytest.raises(ShapeError, match="tensor"):
        ag.tensor([[1.0, 2.0], [3.0]])


def test_in_place_change_of_a_saved_input_is_refused_at_backward():
    x = ag.tensor([1.0, 2.0])
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    x.add_(1.0)
    with pytest.raises(GraphError, match="modified in place"):
        y.backward()


def test_in_place_change_of_an_unsaved_input_is_harmless():
    x = ag.tensor([1.0, 2.0])
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    y = (w + x).sum()  # Add saves nothing
    x.add_(1.0)
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0])


def test_optimizer_step_before_backward_is_refused():
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * w).sum()
    opt = ag.optim.SGD([w], lr=0.1)
    w.grad = ag.ones(2)
    opt.step()
    with pytest.raises(GraphError, match="modified in place"):
        loss.backward()


def test_in_place_on_a_tensor_that_requires_grad_is_refused_while_recording():
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w.add_(1.0)
    with ag.no_grad():
        w.add_(1.0)
    np.testing.assert_allclose(w.numpy(), [4.0, 5.0])


def test_folded_matmul_and_fused_linear_gradcheck_and_match_the_operators():
    rng = np.random.default_rng(0)
    a = ag.tensor(rng.standard_normal((3, 2, 4)).transpose(1, 0, 2), requires_grad=True)  # strided
    b = ag.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    bias = ag.tensor(rng.standard_normal(5), requires_grad=True)
    np.testing.assert_allclose((a @ b).numpy(), np.matmul(a.numpy(), b.numpy()))
    assert ag.gradcheck(lambda p, q: p @ q, [a, b])
    assert ag.gradgradcheck(lambda p, q: p @ q, [a, b])
    w = ag.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    F = ag.nn.functional
    np.testing.assert_allclose(F.linear(a, w, bias).numpy(), a.numpy() @ w.numpy().T + bias.numpy())
    assert ag.gradcheck(lambda x, ww, bb: F.linear(x, ww, bb), [a, w, bias])
    assert ag.gradgradcheck(lambda x, ww, bb: F.linear(x, ww, bb), [a, w, bias])
    assert ag.gradcheck(lambda x, ww: F.linear(x, ww), [a, w])
    with pytest.raises(ShapeError, match="linear"):
        F.linear(a, ag.ones(5, 3, dtype=np.float64))
