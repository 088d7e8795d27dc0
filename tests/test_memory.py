"""Memory stays flat over many training steps, and graphs are freed by reference counting alone.

The training loops run with the cyclic garbage collector *disabled*: a graph that only a reference
cycle could free would then pile up step after step, so "flat with gc off" proves that dropping the
last reference to a loss frees its whole graph at once (as in PyTorch). Memory is measured two ways:
tracemalloc (Python and NumPy allocations, exact) and the process's resident set size (VmRSS in
/proc/self/status, what the OS sees; noisy, so its bound is loose).

CI runs AUTOGRAD_NN_MEMORY_STEPS training steps per loop (default 2,000, about 6 ms each on a
loaded 2-core machine); set it to 10000 for the full check. Numba runs single-threaded here (the
kernels are serial anyway), and memory, not speed, is what this file measures.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
import weakref
from contextlib import contextmanager

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
import autograd_nn.nn as nn

STEPS = int(os.environ.get("AUTOGRAD_NN_MEMORY_STEPS", "2000"))
WARMUP = 100
TRACED_LIMIT = 256 * 1024  # bytes that tracemalloc may see grow over all the steps
RSS_LIMIT = 24 * 1024 * 1024  # resident-set growth allowed (allocator caches, page rounding)


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/status (0 where there is no /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextmanager
def gc_disabled():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def numba_single_thread():
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


@pytest.fixture(autouse=True)
def _single_threaded_numba():
    with numba_single_thread():
        yield


def small_cnn() -> nn.Module:
    """Conv2d -> ReLU -> Flatten -> Linear on 1x8x8 images (F.conv2d would do if Conv2d were absent)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


class _Trainer:
    """SGD with momentum on the small CNN; every step builds a graph and drops it."""

    def __init__(self, retain_graph: bool) -> None:
        ag.manual_seed(0)
        self.model = small_cnn()
        self.opt = ag.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        rng = np.random.default_rng(0)
        self.x = ag.tensor(rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
        self.y = ag.tensor([0, 1, 2, 1])
        self.retain_graph = retain_graph
        self.steps = 0

    def run(self, steps: int, record: list | None = None, every: int = 1) -> None:
        """`steps` steps; appends (step, traced bytes, RSS bytes) to `record` every `every` steps."""
        for _ in range(steps):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(self.x), self.y)
            loss.backward(retain_graph=self.retain_graph)
            self.opt.step()
            del loss  # with retain_graph the saved arrays live until here, and no longer
            self.steps += 1
            if record is not None and self.steps % every == 0:
                traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
                record.append((self.steps, traced, rss_bytes()))


@pytest.mark.slow
@pytest.mark.parametrize("retain_graph", [False, True], ids=["freed", "retained_then_dropped"])
def test_training_memory_is_flat(retain_graph):
    """RSS over STEPS steps, and tracemalloc over the last TRACED of them, stay flat (gc disabled).

    tracemalloc makes each step about 3.5x slower, so it watches a window at the end of the run
    (after the allocator and the optimizer state have settled); RSS watches the whole run.
    """
    traced_steps = min(500, STEPS // 2)
    trainer = _Trainer(retain_graph)
    with gc_disabled():
        trainer.run(WARMUP)  # compile kernels, fill allocator caches, momentum buffers
        rss0 = rss_bytes()
        rss_record: list = []
        trainer.run(STEPS - traced_steps, rss_record, every=max(1, STEPS // 10))
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            record: list = []
            trainer.run(traced_steps, record, every=max(1, traced_steps // 10))
        finally:
            tracemalloc.stop()
    rss_end = rss_bytes()
    grown = record[-1][1] - base
    half = record[len(record) // 2 - 1][1] - base
    report = (
        f"traced growth by step: {[(s, t - base) for s, t, _ in record]}; RSS growth by step: "
        f"{[(s, r - rss0) for s, _, r in rss_record + record]}"
    )
    assert grown < TRACED_LIMIT, f"traced memory grew {grown} bytes in {traced_steps} steps; {report}"
    assert grown - half < TRACED_LIMIT // 4, f"traced memory keeps climbing; {report}"
    if rss0:
        assert rss_end - rss0 < RSS_LIMIT, f"RSS grew {rss_end - rss0} bytes; {report}"


def _refs_after(make_graph) -> list:
    """Weak references to every tensor and Function of the graph `make_graph()` returns."""
    root = make_graph()
    refs, stack, seen = [], [root], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        refs.append(weakref.ref(t))
        ctx = t._ctx
        if ctx is not None:
            refs.append(weakref.ref(ctx))
            stack.extend(p for p in (ctx.parents or ()) if p._ctx is not None)
    return refs, root


def _assert_all_dead(refs: list) -> None:
    alive = [r() for r in refs if r() is not None]
    if alive:
        holders = [type(h).__name__ for h in gc.get_referrers(alive[0])]
        raise AssertionError(
            f"{len(alive)} graph objects survive without gc, e.g. "
            f"{type(alive[0]).__name__}, held by {holders}"
        )


def test_retained_graph_is_freed_when_dropped():
    """backward(retain_graph=True) keeps the graph while the loss lives, and not after."""
    with gc_disabled():
        model = small_cnn()
        x = ag.randn(2, 1, 8, 8)

        def graph():
            loss = F.cross_entropy(model(x), ag.tensor([0, 2]))
            loss.backward(retain_graph=True)
            return loss

        refs, loss = _refs_after(graph)
        assert len(refs) >= 8  # conv, relu, pool, flatten, linear, cross-entropy ... nodes
        loss.backward()  # still usable: the graph was retained
        del loss
        _assert_all_dead(refs)


def test_create_graph_gradients_are_freed_when_dropped():
    """Double backward (`grad(create_graph=True)`, a gradient penalty) leaves nothing behind."""
    with gc_disabled():
        w = ag.randn(4, 4, requires_grad=True)
        x = ag.randn(3, 4, requires_grad=True)

        def graph():
            out = (x @ w).tanh().sum()
            (gx,) = ag.grad(out, x, create_graph=True)
            return (gx * gx).sum()

        refs, penalty = _refs_after(graph)
        penalty.backward()
        del penalty
        _assert_all_dead(refs)
        assert w.grad is not None


LAYERS = {
    "conv2d": lambda: (nn.Conv2d(2, 3, 3, padding=1), ag.randn(2, 2, 5, 5)),
    "conv_transpose2d": lambda: (nn.ConvTranspose2d(2, 3, 3), ag.randn(2, 2, 4, 4)),
    "maxpool_batchnorm": lambda: (nn.Sequential(nn.BatchNorm2d(2), nn.MaxPool2d(2)), ag.randn(2, 2, 4, 4)),
    "layernorm_dropout": lambda: (nn.Sequential(nn.LayerNorm(6), nn.Dropout(0.5)), ag.randn(3, 6)),
    "lstm": lambda: (nn.LSTM(4, 5, num_layers=2), ag.randn(6, 2, 4)),
    "gru": lambda: (nn.GRU(4, 5, batch_first=True), ag.randn(2, 6, 4)),
    "rnn": lambda: (nn.RNN(4, 5), ag.randn(6, 2, 4)),
    "attention": lambda: (nn.MultiheadAttention(8, 2), ag.randn(5, 2, 8)),
    "transformer_layer": lambda: (nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), ag.randn(5, 2, 8)),
}


def _first(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_graph_is_freed_without_gc(name):
    """Each layer's forward/backward graph dies with its output: no cycle through module or op state."""
    layer, x = LAYERS[name]()
    layer.train()
    with gc_disabled():

        def graph():
            if name == "attention":
                out = layer(x, x, x)
            else:
                out = layer(x)
            loss = (_first(out) ** 2).mean()
            loss.backward(retain_graph=True)
            return loss

        refs, loss = _refs_after(graph)
        del loss
        _assert_all_dead(refs)


def test_saved_arrays_are_released_by_backward():
    """Without retain_graph the intermediate arrays are freed by backward itself, loss still alive."""
    with gc_disabled():
        model = small_cnn()
        x = ag.randn(2, 1, 8, 8)
        hidden = model[1](model[0](x))  # conv -> relu
        ref = weakref.ref(hidden.numpy())
        loss = F.cross_entropy(model[3](model[2](hidden)), ag.tensor([0, 1]))
        del hidden
        loss.backward()
        assert ref() is None, "the ReLU output array outlives backward"
        assert loss.grad_fn.parents is None
