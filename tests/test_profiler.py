"""The op profiler: exact counts, bytes, tables, self times that add up to the step's wall time."""

from __future__ import annotations

import time

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.grad_mode import _state
from autograd_nn.profiler import ENGINE_ROW, OpStats, profile


def small_program():
    a = ag.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    w = ag.tensor(np.full((4, 5), 0.1, np.float32), requires_grad=True)
    h = (a @ w).exp()  # MatMul, Exp
    loss = (h * h).sum() + (h @ w.T).sum()  # Mul, Sum, Permute, MatMul, Sum, Add
    loss.backward()
    return loss


def test_counts_and_bytes_are_exact():
    with profile() as prof:
        small_program()
    stats = {s.name: s for s in prof.key_averages()}
    counts = {name: (s.count, s.backward_count) for name, s in stats.items()}
    assert counts == {
        "MatMul": (2, 2),
        "Exp": (1, 1),
        "Mul": (1, 1),
        "Sum": (2, 2),
        "Permute": (1, 1),
        "Add": (1, 1),
        ENGINE_ROW: (0, 1),
    }
    assert stats["MatMul"].bytes == 3 * 5 * 4 + 3 * 4 * 4
    assert stats["Exp"].bytes == 3 * 5 * 4 and stats["Add"].bytes == 4
    assert all(s.forward_time > 0 and s.backward_time > 0 for n, s in stats.items() if n != ENGINE_ROW)
    assert _state.instrument is None


def test_table_sorting_and_row_limit():
    with profile() as prof:
        small_program()
    rows = prof.key_averages("total")
    assert [r.total_time for r in rows] == sorted((r.total_time for r in rows), reverse=True)
    assert [r.name for r in prof.key_averages("name")] == sorted(r.name for r in rows)
    assert max(r.count for r in rows) == 2
    table = prof.table(sort_by="total", row_limit=2)
    lines = table.splitlines()
    assert lines[1].split()[:3] == ["Name", "Calls", "Forward"]
    assert lines[3].split()[0] == rows[0].name and lines[4].split()[0] == rows[1].name
    assert "(5 more op types not shown)" in table
    assert str(prof) == prof.table()
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="speed")


def test_node_times_for_heat_maps():
    x = ag.tensor(np.ones((8, 8), np.float32), requires_grad=True)
    with profile() as prof:
        y = x @ x
        loss = y.sum()
        loss.backward(retain_graph=True)
    fwd, bwd = prof.node_time(y.grad_fn)
    assert fwd > 0 and bwd > 0
    assert prof.node_time(None) is None and prof.node_time(x.exp().grad_fn) is None


def heavy_step(ws, x):
    h = x
    for w in ws:
        h = (h @ w) * 0.05
    loss = (h @ ws[0]).sum()
    loss.backward()


def test_op_times_add_up_to_the_wall_time_of_the_step():
    rng = np.random.default_rng(0)
    ws = [ag.tensor(rng.standard_normal((256, 256)).astype(np.float32), requires_grad=True) for _ in range(4)]
    x = ag.tensor(rng.standard_normal((256, 256)).astype(np.float32))
    heavy_step(ws, x)  # warm up BLAS
    with profile() as prof:
        start = time.perf_counter()
        heavy_step(ws, x)
        wall = time.perf_counter() - start
    assert prof.total_time <= wall
    assert abs(prof.total_time - wall) <= 0.1 * wall, prof.table()


def test_nested_ops_are_not_counted_twice():
    """Backward with create_graph runs ops inside backward rules: self times exclude them."""
    rng = np.random.default_rng(0)
    w = ag.tensor(rng.standard_normal((128, 128)).astype(np.float32), requires_grad=True)
    with profile() as prof:
        start = time.perf_counter()
        loss = ((w @ w) * (w @ w)).sum()
        (g,) = ag.grad(loss, w, create_graph=True)
        wall = time.perf_counter() - start
    assert prof.total_time <= wall
    assert {s.name: s.count for s in prof.key_averages()}["MatMul"] > 2  # inside backward too


def test_profile_cannot_be_entered_twice_and_restores_on_error():
    prof = profile()
    with pytest.raises(ZeroDivisionError), prof:
        with pytest.raises(RuntimeError, match="already active"):
            prof.__enter__()
        1 / 0  # noqa: B018  (raises inside the profiled block)
    assert _state.instrument is None


def test_opstats_average():
    s = OpStats("X", count=4, forward_time=0.3, backward_time=0.1)
    assert s.total_time == pytest.approx(0.4) and s.avg_time == pytest.approx(0.1)
