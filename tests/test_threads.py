"""Grad mode is per thread, and the engine is correct when many threads build and differentiate graphs.

Every task checks its own expectations (is recording on or off, did the output get a graph, is the
gradient right), so a mode that leaks between threads, or shared state in the backward pass, fails
the task that sees it. Tasks sleep(0) between steps to make the threads interleave.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import autograd_nn as ag

N_TASKS = 400
N_WORKERS = 8


def _grad_task(seed: int, w: ag.Tensor) -> None:
    """Recording on: f(x) = sum(tanh(x @ w) * x[:, :1]) and its gradient against the closed form."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((3, 4))
    x = ag.tensor(x0, requires_grad=True)
    assert ag.is_grad_enabled()
    h = (x @ w).tanh()
    time.sleep(0)
    assert h.requires_grad and h.grad_fn is not None
    out = (h * x[:, :1]).sum()
    time.sleep(0)
    gx, gw = ag.grad(out, [x, w])  # functional grad: no shared .grad is written
    t = np.tanh(x0 @ w.numpy())
    d = (1 - t * t) * x0[:, :1]
    expected_x = d @ w.numpy().T
    expected_x[:, 0] += t.sum(axis=1)
    np.testing.assert_allclose(gx.numpy(), expected_x, rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), x0.T @ d, rtol=1e-12)


def _no_grad_task(seed: int, w: ag.Tensor) -> None:
    """Recording off (context manager, with a nested enable_grad): no graph unless re-enabled."""
    x = ag.tensor(np.random.default_rng(seed).standard_normal((3, 4)), requires_grad=True)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = (x @ w).exp()
        time.sleep(0)
        assert not y.requires_grad and y.grad_fn is None
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            assert (x * 2.0).requires_grad
        time.sleep(0)
        assert not ag.is_grad_enabled()
        assert not (x + w.sum()).requires_grad
    assert ag.is_grad_enabled()


@ag.no_grad()
def _decorated(x: ag.Tensor) -> ag.Tensor:
    time.sleep(0)
    assert not ag.is_grad_enabled()
    return x * 3.0


def _decorator_task(seed: int, w: ag.Tensor) -> None:
    x = ag.tensor(np.ones(3), requires_grad=True)
    assert not _decorated(x).requires_grad
    assert ag.is_grad_enabled() and (x * 3.0).requires_grad


def _set_grad_enabled_task(seed: int, w: ag.Tensor) -> None:
    """set_grad_enabled as a plain call changes this thread only; restore it by hand."""
    ag.set_grad_enabled(False)
    try:
        time.sleep(0)
        assert not ag.is_grad_enabled()
        assert not (w * 2.0).requires_grad
    finally:
        ag.set_grad_enabled(True)
    assert (w * 2.0).requires_grad


def _exception_task(seed: int, w: ag.Tensor) -> None:
    """no_grad restores the mode when an exception escapes, in this thread."""
    try:
        with ag.no_grad():
            time.sleep(0)
            raise KeyError(seed)
    except KeyError:
        pass
    assert ag.is_grad_enabled()


TASKS = [_grad_task, _no_grad_task, _decorator_task, _set_grad_enabled_task, _exception_task]


def test_many_tasks_mixing_no_grad_and_grad():
    w = ag.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    rng = random.Random(0)
    plan = [rng.choice(TASKS) for _ in range(N_TASKS)]
    with ThreadPoolExecutor(N_WORKERS) as pool:
        futures = [pool.submit(task, k, w) for k, task in enumerate(plan)]
        for f in futures:
            f.result()  # re-raises a failed assertion from the worker
    assert ag.is_grad_enabled()
    assert w.grad is None  # functional grads only


def test_no_grad_in_main_thread_does_not_leak_into_workers():
    w = ag.tensor(np.ones((4, 5)), requires_grad=True)
    with ag.no_grad():
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda k: ((w * 2.0).requires_grad, ag.is_grad_enabled()), range(16)))
        assert not (w * 2.0).requires_grad
    assert results == [(True, True)] * 16


def test_concurrent_backward_into_shared_leaf_accumulates():
    """Threads each call backward into the same leaf (guarded by a lock, as PyTorch users must for
    .grad), while others build graphs unguarded: the total is exact."""
    w = ag.tensor(np.arange(4.0), requires_grad=True)
    lock = threading.Lock()

    def work(k: int) -> None:
        loss = (w * float(k)).sum()
        time.sleep(0)
        with lock:
            loss.backward()

    with ThreadPoolExecutor(N_WORKERS) as pool:
        list(pool.map(work, range(200)))
    np.testing.assert_allclose(w.grad.numpy(), np.full(4, sum(range(200))))


def test_independent_training_loops_in_threads_match_serial():
    """The same small regression trained in 4 threads at once equals the serial run, bit for bit."""

    def train(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        x = ag.tensor(rng.standard_normal((16, 3)))
        y = ag.tensor(rng.standard_normal((16, 1)))
        w = ag.tensor(np.zeros((3, 1)), requires_grad=True)
        for step in range(50):
            loss = ((x @ w - y) ** 2).mean()
            (g,) = ag.grad(loss, w)
            with ag.no_grad():
                w.data -= 0.1 * g.numpy()
            if step % 10 == 0:
                with ag.no_grad():
                    assert not (x @ w).requires_grad
        return w.numpy().copy()

    serial = [train(s) for s in range(4)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(train, range(4)))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
