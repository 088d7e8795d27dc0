"""A profiler for ops: forward and backward wall time, call counts and bytes, per op type and per node.

>>> with profile() as prof:
...     loss = model(x).sum()
...     loss.backward(retain_graph=True)
>>> print(prof.table(sort_by="total", row_limit=10))
>>> draw_graph(loss, profile=prof)          # op nodes coloured by their time (a heat map)

`profile` is an instrument (`function.Instrument`): it is installed only inside the `with` block, so
code outside pays nothing beyond the one attribute check in `Function.apply`. Times are *self* times:
an op that runs other ops (a backward rule under ``create_graph=True``) is not charged for them, so
the column totals add up to the time spent in ops. Time the engine spends between ops (summing
broadcast gradients, accumulating into ``.grad``) and Python code outside ops is not counted.
It profiles the thread it was entered in. It nests with `detect_anomaly()` and `record_scopes()`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .function import Function
from .scopes import StackedInstrument

__all__ = ["OpStats", "profile"]

_SORT_KEYS: dict[str, Callable[[OpStats], Any]] = {
    "total": lambda s: -s.total_time,
    "forward": lambda s: -s.forward_time,
    "backward": lambda s: -s.backward_time,
    "calls": lambda s: -s.count,
    "bytes": lambda s: -s.bytes,
    "avg": lambda s: -s.avg_time,
    "name": lambda s: s.name,
}


@dataclass
class OpStats:
    """Totals for one op type (times in seconds)."""

    name: str
    count: int = 0  # forward calls
    forward_time: float = 0.0
    backward_count: int = 0
    backward_time: float = 0.0
    bytes: int = 0  # total bytes of the outputs the forward calls made

    @property
    def total_time(self) -> float:
        return self.forward_time + self.backward_time

    @property
    def avg_time(self) -> float:
        """Mean time per forward call, its backward included."""
        return self.total_time / self.count if self.count else self.total_time


ENGINE_ROW = "(autograd_engine)"  # the backward pass's time outside any op's rule


class profile(StackedInstrument):
    """Context manager that records each op's forward and backward time, calls and output bytes."""

    def __init__(self) -> None:
        self._stats: dict[str, OpStats] = {}
        self._nodes: weakref.WeakKeyDictionary[Function, list[float]] = weakref.WeakKeyDictionary()
        self._child = [0.0]  # time of ops nested in the one running now, per nesting level

    def __enter__(self) -> profile:
        super().__enter__()
        return self

    # ---- recording --------------------------------------------------------------------------
    def _timed(self, call: Callable[[], Any]) -> tuple[Any, float]:
        """Run `call`, returning its result and its self time (nested ops' time taken out)."""
        self._child.append(0.0)
        start = time.perf_counter()
        try:
            result = call()
        finally:
            elapsed = time.perf_counter() - start
            nested = self._child.pop()
            self._child[-1] += elapsed
        return result, elapsed - nested

    def on_apply(self, cls: type, inputs: tuple, params: dict, run: Callable) -> Any:
        out, spent = self._timed(lambda: run(cls, inputs, params))
        stats = self._stats.get(cls.__name__)
        if stats is None:
            stats = self._stats[cls.__name__] = OpStats(cls.__name__)
        stats.count += 1
        stats.forward_time += spent
        data = getattr(out, "_data", None)
        stats.bytes += getattr(data, "nbytes", 0)
        ctx = getattr(out, "_ctx", None)
        if ctx is not None:
            self._nodes[ctx] = [spent, 0.0]
        return out

    def on_backward(self, ctx: Function, g: Any, run: Callable) -> Any:
        grads, spent = self._timed(lambda: run(g))
        name = ctx.name
        stats = self._stats.get(name)
        if stats is None:
            stats = self._stats[name] = OpStats(name)
        stats.backward_count += 1
        stats.backward_time += spent
        node = self._nodes.get(ctx)
        if node is None:
            self._nodes[ctx] = [0.0, spent]
        else:
            node[1] += spent
        return grads

    def on_backward_pass(self, run: Callable) -> Any:
        """The engine's own work in a backward pass (ordering, hooks, `.grad`), as one row."""
        result, spent = self._timed(run)
        stats = self._stats.get(ENGINE_ROW)
        if stats is None:
            stats = self._stats[ENGINE_ROW] = OpStats(ENGINE_ROW)
        stats.backward_count += 1
        stats.backward_time += spent
        return result

    # ---- results ----------------------------------------------------------------------------
    def key_averages(self, sort_by: str = "total") -> list[OpStats]:
        """One `OpStats` per op type, sorted by `sort_by` (see `table`)."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"profile: sort_by must be one of {sorted(_SORT_KEYS)}, got {sort_by!r}")
        return sorted(self._stats.values(), key=_SORT_KEYS[sort_by])

    @property
    def total_time(self) -> float:
        """Seconds spent in op forwards and backwards, all ops together."""
        return sum(s.total_time for s in self._stats.values())

    def node_time(self, ctx: Any) -> tuple[float, float] | None:
        """(forward, backward) seconds of one graph node (a tensor's ``grad_fn``), if it was seen."""
        try:
            times = self._nodes.get(ctx)
        except TypeError:
            return None
        return None if times is None else (times[0], times[1])

    def table(self, sort_by: str = "total", row_limit: int | None = 20) -> str:
        """A text table of op types sorted by `sort_by`: total, forward, backward, calls, bytes,
        avg or name. Shows at most `row_limit` rows (all when None)."""
        rows = self.key_averages(sort_by)
        shown = rows if row_limit is None else rows[:row_limit]
        total = self.total_time or 1.0
        header = ("Name", "Calls", "Forward", "Bwd calls", "Backward", "Total", "%", "Avg", "Bytes")
        lines = [
            (
                s.name,
                str(s.count),
                _ms(s.forward_time),
                str(s.backward_count),
                _ms(s.backward_time),
                _ms(s.total_time),
                f"{100.0 * s.total_time / total:.1f}",
                _ms(s.avg_time),
                _bytes(s.bytes),
            )
            for s in shown
        ]
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

        def fmt(row: tuple[str, ...]) -> str:
            cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
            return "  ".join(cells)

        rule = "-" * len(fmt(header))
        out = [rule, fmt(header), rule, *map(fmt, lines), rule]
        more = f" ({len(rows) - len(shown)} more op types not shown)" if len(shown) < len(rows) else ""
        out.append(f"Self time in ops: {_ms(self.total_time)}{more}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def _ms(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} us"


def _bytes(n: float) -> str:
    units = ("B", "KiB", "MiB", "GiB")
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{int(n)} B" if i == 0 else f"{n:.1f} {units[i]}"
