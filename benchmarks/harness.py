"""Timing, statistics, the results table, JSON output and the optional ratio plot.

A `Workload` holds up to three callables that do the same work (`ours`, `torch`, `numpy`), built
with identical weights and data. `measure` warms each one up, checks that their first outputs
agree, then times them *interleaved*: every repeat runs each implementation once, in a rotating
order, so a burst of load from another process on the shared cores hits all of them alike. Rows
report the median and the interquartile range over repeats, and the ratio of medians
ours / baseline (or baseline / ours for throughput rows such as GEMM, where higher is better).

This module imports only the standard library at top level (matplotlib is imported lazily), so
importing it does not load NumPy before the CLI has set thread counts.
"""
from __future__ import annotations

import gc
import json
import math
import statistics
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

IMPLS = ("ours", "torch", "numpy")
QUICK_VERDICT = "quick: no verdict"  # what quick mode's table shows instead of a ratio


@dataclass(frozen=True)
class Target:
    """A goal for a row's metric: `op` is "<=" (lower is better) or ">=" (higher is better)."""

    op: str
    value: float

    def met(self, metric: float | None) -> bool | None:
        if metric is None or math.isnan(metric):
            return None
        return metric <= self.value if self.op == "<=" else metric >= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass
class Workload:
    """Callables doing the same work in each implementation (None where there is no such baseline).

    `baseline` names the implementation the ratio is taken against. With `higher_is_better` the
    ratio is baseline time / ours time (a throughput ratio, e.g. GFLOP/s ours over NumPy's).
    `flops` (per call) adds GFLOP/s to the note, `ops` (per call) microseconds per op. `check` is run once after the agreement check and
    may return a sentence for the note (e.g. "no RecursionError at depth 10000").
    """

    key: str
    name: str
    impls: dict[str, Callable[[], Any] | None]
    target: Target | None = None
    baseline: str = "torch"
    higher_is_better: bool = False
    flops: float | None = None
    ops: int | None = None
    check: Callable[[], str] | None = None
    note: str = ""


@dataclass
class Stats:
    """Seconds per call over the timed repeats."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> "Stats":
        if len(samples) >= 2:
            q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
        else:
            q1 = q3 = samples[0]
        return cls(statistics.median(samples), q1, q3, min(samples), max(samples), len(samples))


@dataclass
class Row:
    """One line of the table: timings per implementation, the metric and whether it meets its target.

    `metric` is the ratio for benchmark rows and a value in `unit` (seconds) for cold-start rows.
    """

    key: str
    name: str
    unit: str = "ratio"
    metric: float | None = None
    metric_spread: tuple[float, float] | None = None  # min-max of the per-repeat paired ratios
    target: str | None = None
    met: bool | None = None
    times: dict[str, Stats] = field(default_factory=dict)
    agree: bool | None = None
    note: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _summary(value: Any) -> float | None:
    """A float fingerprint of a callable's output (sum of |values|) for the agreement check."""
    import numpy as np

    if value is None:
        return None
    if type(value).__module__.startswith("torch"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "data") and not isinstance(value, (np.ndarray, np.generic)):
        value = value.numpy()  # autograd_nn.Tensor
    return float(np.abs(np.asarray(value, dtype=np.float64)).sum())


def _calibrate(seconds: float, min_time: float) -> int:
    """Calls per sample so that one sample lasts at least `min_time` seconds."""
    if min_time <= 0 or seconds <= 0:
        return 1
    return max(1, min(1000, math.ceil(min_time / seconds)))


def _time(fn: Callable[[], Any], number: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def measure(work: Workload, repeats: int, warmup: int, min_time: float) -> Row:
    """Warm up, check agreement, then time every implementation interleaved; never raises."""
    row = Row(work.key, work.name, target=str(work.target) if work.target else None,
              note=work.note)
    impls = {k: fn for k, fn in work.impls.items() if fn is not None}
    try:
        first, last = {}, {}
        for name, fn in impls.items():
            start = time.perf_counter()
            first[name] = _summary(fn())
            for _ in range(max(0, warmup - 1)):
                start = time.perf_counter()
                fn()
            last[name] = time.perf_counter() - start
        row.agree = _agree(first, work.baseline)
        if work.check is not None:
            row.note = "; ".join(s for s in (row.note, work.check()) if s)
        numbers = {k: _calibrate(last[k], min_time) for k in impls}
        samples: dict[str, list[float]] = {k: [] for k in impls}
        order = list(impls)
        for r in range(repeats):
            for name in order[r % len(order):] + order[:r % len(order)]:
                samples[name].append(_time(impls[name], numbers[name]))
        row.times = {k: Stats.of(v) for k, v in samples.items()}
        _fill_metric(row, work, samples)
    except Exception as err:  # a failing workload is a row with an error, not a crash
        where = traceback.extract_tb(err.__traceback__)[-1]
        row.error = f"{type(err).__name__}: {err} (at {where.filename}:{where.lineno})"
    return row


def _agree(first: dict[str, float | None], baseline: str, rtol: float = 2e-3) -> bool | None:
    ours, ref = first.get("ours"), first.get(baseline)
    if ours is None or ref is None:
        return None
    return abs(ours - ref) <= rtol * max(abs(ref), 1e-12)


def _fill_metric(row: Row, work: Workload, samples: dict[str, list[float]]) -> None:
    if "ours" not in samples or work.baseline not in samples:
        row.note = "; ".join(s for s in (row.note, f"no {work.baseline} baseline") if s)
        return
    ours, base = samples["ours"], samples[work.baseline]
    paired = [(b / o) if work.higher_is_better else (o / b) for o, b in zip(ours, base)]
    om, bm = statistics.median(ours), statistics.median(base)
    row.metric = bm / om if work.higher_is_better else om / bm
    row.metric_spread = (min(paired), max(paired))
    row.unit = f"ours/{work.baseline}" if not work.higher_is_better else f"{work.baseline}/ours time"
    row.met = work.target.met(row.metric) if work.target else None
    if work.flops:
        rates = ", ".join(f"{k} {work.flops / statistics.median(v) / 1e9:.1f}"
                          for k, v in samples.items())
        row.note = "; ".join(s for s in (row.note, f"GFLOP/s: {rates}") if s)
    if work.ops:
        rates = ", ".join(f"{k} {statistics.median(v) / work.ops * 1e6:.2f}"
                          for k, v in samples.items())
        row.note = "; ".join(s for s in (row.note, f"us/op: {rates}") if s)


# ---- output --------------------------------------------------------------------------------------
def fmt_seconds(s: float) -> str:
    """A duration with a unit that keeps 3 significant figures readable."""
    if s < 1e-3:
        return f"{s * 1e6:.1f}us"
    if s < 1.0:
        return f"{s * 1e3:.2f}ms"
    return f"{s:.2f}s"


def _cell(st: Stats | None) -> str:
    if st is None:
        return "-"
    return f"{fmt_seconds(st.median)} [{fmt_seconds(st.q1)}-{fmt_seconds(st.q3)}]"


def status(row: Row, quick: bool = False) -> str:
    """ERROR, met / NOT MET against the target, "info" (no target) or "ran" (quick mode: no verdict)."""
    if row.error:
        return "ERROR"
    if quick:
        return "ran"
    if row.met is None:
        return "info" if row.target is None else "n/a"
    return "met" if row.met else "NOT MET"


def _metric_cell(row: Row) -> str:
    if row.metric is None:
        return "-"
    if row.unit == "s":
        return f"{row.metric:.2f} s"
    spread = f" ({row.metric_spread[0]:.2f}-{row.metric_spread[1]:.2f})" if row.metric_spread else ""
    return f"{row.metric:.2f}{spread}"


def format_table(rows: list[Row], quick: bool = False) -> str:
    """Fixed-width text table; notes and errors follow under the table, keyed by row.

    In quick mode the sizes are tiny and each call runs once, cold, so a ratio would mean nothing:
    the ratio and target columns become one that says "quick: no verdict", and the status column
    only says "ran".
    """
    head = ("key", "workload", "autograd_nn median [IQR]", "torch", "numpy",
            *(("ratio vs target",) if quick else ("ratio (min-max)", "target")), "status")
    body = []
    for r in rows:
        verdict = ((QUICK_VERDICT if r.metric is not None else "-",) if quick
                   else (_metric_cell(r), r.target or "-"))
        body.append((r.key, r.name, _cell(r.times.get("ours")), _cell(r.times.get("torch")),
                     _cell(r.times.get("numpy")), *verdict, status(r, quick)))
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
    if quick:
        out += ["", "quick mode: tiny sizes, one cold call each: no ratio is shown and no target is "
                "judged (run without --quick for the comparison)"]
    notes = []
    for r in rows:
        extra = [] if r.agree is not False else ["OUTPUTS DISAGREE with the baseline"]
        text = "; ".join(s for s in [r.error or "", *extra, r.note.strip()] if s)
        if text:
            notes.append(f"  {r.key}: {text}")
    if notes:
        out += ["", "notes:"] + notes
    return "\n".join(out)


def write_json(path: str, rows: list[Row], meta: dict[str, Any]) -> None:
    """Rows and run metadata (threads, versions, mode) as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "rows": [asdict(r) for r in rows]}, f, indent=2)


def plot_ratios(path: str, rows: list[Row]) -> bool:
    """Horizontal bars of each row's ratio with its target marked; False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    shown = [r for r in rows if r.metric is not None and r.unit != "s"]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.2))
    ys = range(len(shown))
    colors = ["tab:green" if r.met else "tab:red" if r.met is False else "tab:gray" for r in shown]
    ax.barh(list(ys), [r.metric for r in shown], color=colors)
    for y, r in zip(ys, shown):
        if r.target:
            ax.plot([float(r.target.split()[1])] * 2, [y - 0.4, y + 0.4], color="black", lw=2)
    ax.set_yticks(list(ys), [f"{r.key} {r.name}" for r in shown], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="gray", ls=":", lw=1)
    ax.set_xlabel("ratio (see unit per row; black tick = target; green met, red not met)")
    ax.set_title("autograd_nn vs baseline")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
