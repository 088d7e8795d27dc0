"""autograd_nn.set_num_threads / get_num_threads, the pool behind them (threads.py), and the ops that
split their work over it: the results are the same at every thread count (to rounding) and bit for
bit the same from run to run at a fixed one."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn.functional as F
from autograd_nn import threads as th
from autograd_nn.ops import gemm

RNG = np.random.default_rng(3)


@pytest.fixture
def set_threads():
    before = ag.get_num_threads()
    yield ag.set_num_threads
    ag.set_num_threads(before)


def test_set_and_get(set_threads):
    set_threads(3)
    assert ag.get_num_threads() == 3
    set_threads(1)
    assert ag.get_num_threads() == 1
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads"):
            ag.set_num_threads(bad)


@pytest.mark.parametrize("var", ["OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS"])
def test_environment_sets_the_default_and_blas_gets_one_thread(var):
    env = {k: v for k, v in os.environ.items() if k not in th.ENV_VARS}
    env[var] = "3"
    code = (
        "import autograd_nn, threadpoolctl; print(autograd_nn.get_num_threads(), "
        "sorted({p['num_threads'] for p in threadpoolctl.threadpool_info() "
        "if p['user_api'] == 'blas'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(None, 1) == ["3", "[1]\n"]


def test_parallel_for_runs_every_task_once_and_reraises(set_threads):
    set_threads(2)
    seen, lock = [], threading.Lock()

    def task(i):
        with lock:
            seen.append(i)

    th.parallel_for(50, task)
    assert sorted(seen) == list(range(50))

    def fails(i):
        if i == 7:
            raise KeyError("task 7")

    with pytest.raises(KeyError, match="task 7"):
        th.parallel_for(20, fails)
    inner = []
    th.parallel_for(3, lambda i: th.parallel_for(2, lambda j: inner.append((i, j))))  # nested: inline
    assert sorted(inner) == [(i, j) for i in range(3) for j in range(2)]


def test_blocks_cover_the_range():
    assert th.blocks(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert th.blocks(2, 5) == [(0, 1), (1, 2)]
    assert th.blocks(0, 4) == [(0, 0)]


def _conv_step(x, w, b):
    xt = ag.tensor(x, requires_grad=True)
    wt, bt = ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)
    y = F.conv2d(xt, wt, bt, padding=1)
    (y * y).sum().backward()
    return [y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]


def test_conv_over_the_pool_is_deterministic(set_threads):
    x = RNG.standard_normal((12, 16, 20, 20)).astype(np.float32)  # several blocks of images
    w = RNG.standard_normal((8, 16, 3, 3)).astype(np.float32)
    b = RNG.standard_normal(8).astype(np.float32)
    set_threads(1)
    one = _conv_step(x, w, b)
    set_threads(2)
    first, second = _conv_step(x, w, b), _conv_step(x, w, b)
    for a, p, q in zip(one, first, second):
        np.testing.assert_array_equal(p, q)
        np.testing.assert_allclose(a, p, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "shapes",
    [((300, 200), (200, 150)), ((20, 300), (300, 900)), ((6, 70, 80), (6, 80, 90)), ((6, 70, 80), (80, 90))],
)
def test_split_matmul_matches_numpy(set_threads, shapes):
    a, b = (RNG.standard_normal(s).astype(np.float32) for s in shapes)
    set_threads(2)
    old = gemm.MIN_MACS_PER_THREAD
    gemm.MIN_MACS_PER_THREAD = 1  # split even these small products
    try:
        out, again = gemm.matmul(a, b), gemm.matmul(a, b)
    finally:
        gemm.MIN_MACS_PER_THREAD = old
    np.testing.assert_array_equal(out, again)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-5, atol=1e-4)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_a_pool_of_its_own(set_threads):
    set_threads(2)
    th.parallel_for(4, lambda i: None)  # the parent's pool exists
    pid = os.fork()
    if pid == 0:  # child: its pool must work (the parent's threads are gone)
        seen = []
        th.parallel_for(8, seen.append)
        os._exit(0 if sorted(seen) == list(range(8)) and th._pool is not None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
