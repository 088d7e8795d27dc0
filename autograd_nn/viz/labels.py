"""Text and colours of graph-picture nodes: tensor values or summary stats, HTML-like labels.

Labels are Graphviz HTML-like labels (``<...>``), so every piece of user text is escaped here.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

SMALL = 6  # tensors with at most this many elements show their values; larger ones show stats

FILL = {
    "param": "#9ecae1",  # parameters: blue
    "input": "#c7e9c0",  # leaves that require grad but are not named parameters: green
    "constant": "#f0f0f0",  # leaves that do not require grad: grey
    "tensor": "#ffffff",  # intermediate activations: white
    "output": "#fdd49e",  # the roots drawn from: orange
    "op": "#efedf5",  # ops: pale lavender
    "freed": "#ffffff",
    "module": "#dadaeb",  # a collapsed module
    "fold": "#bcbddc",  # repeated blocks folded into one box
    "more": "#ffffff",
}
CLUSTER_FILL = ("#f7fbff", "#fff7ec", "#f7fcf5", "#fcfbfd")  # by nesting depth, cycled
ALERT = "#cb181d"  # border of tensors holding NaN or Inf


def shape_text(array: np.ndarray) -> str:
    shape = "scalar" if array.ndim == 0 else "(" + ", ".join(map(str, array.shape)) + ")"
    return f"{shape} {array.dtype}"


def values_text(array: np.ndarray) -> str:
    """All the values of a small array, micrograd style."""
    if array.ndim == 0:
        return _number(array.item())
    text = np.array2string(array, precision=4, separator=", ", suppress_small=True, max_line_width=60)
    return " ".join(text.split())


def stats_rows(label: str, array: np.ndarray) -> list[tuple[str, str]]:
    """Summary rows of a large array: mean and std, min and max, NaN/Inf counts when any."""
    if array.size == 0:
        return [(label, "empty")]
    values = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(values)
    rows = []
    good = values[finite] if not finite.all() else values
    if good.size:
        rows.append((label, f"mean {_number(good.mean())}  std {_number(good.std())}"))
        rows.append(("", f"min {_number(good.min())}  max {_number(good.max())}"))
    bad = values.size - good.size
    if bad:
        nan = int(np.isnan(values).sum())
        rows.append((label if not good.size else "", f"{nan} NaN, {bad - nan} Inf"))
    return rows


def has_nonfinite(array: Any) -> bool:
    return isinstance(array, np.ndarray) and array.dtype.kind == "f" and not np.isfinite(array).all()


def tensor_rows(tensor: Any, show_values: bool) -> list[tuple[str, str]]:
    """The label rows of a tensor node below its title: shape and dtype, then data and grad."""
    data = tensor._data
    rows = [("", shape_text(data))]
    if not show_values:
        return rows
    grad = None if tensor.grad is None else tensor.grad._data
    if data.size <= SMALL:
        rows.append(("data", values_text(data)))
        if grad is not None:
            rows.append(("grad", values_text(grad)))
        elif tensor.requires_grad and tensor._ctx is None:  # a leaf that backward did not reach
            rows.append(("grad", "None"))
        return rows
    rows += stats_rows("data", data)
    if grad is not None:
        rows += stats_rows("grad", grad)
    return rows


def time_text(forward: float, backward: float) -> str:
    return f"fwd {_seconds(forward)}  bwd {_seconds(backward)}"


def heat(fraction: float) -> str:
    """A colour from pale yellow (0) to dark red (1): node fill in the profile heat map."""
    f = min(max(fraction, 0.0), 1.0)
    low, high = (255, 247, 188), (215, 48, 31)
    rgb = [round(a + (b - a) * f) for a, b in zip(low, high)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def table_label(title: str, rows: list[tuple[str, str]], fill: str, alert: bool = False) -> str:
    """An HTML-like label: a table with a bold title row and key/value rows."""
    border = f' COLOR="{ALERT}"' if alert else ""
    cells = []
    if title:
        cells.append(f'<TR><TD COLSPAN="2"><B>{_esc(title)}</B></TD></TR>')
    for key, value in rows:
        if key:
            cells.append(f'<TR><TD ALIGN="LEFT">{_esc(key)}</TD><TD ALIGN="LEFT">{_esc(value)}</TD></TR>')
        else:
            cells.append(f'<TR><TD COLSPAN="2">{_esc(value)}</TD></TR>')
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
        f'BGCOLOR="{fill}"{border}>{"".join(cells)}</TABLE>>'
    )


def text_label(title: str, lines: list[str]) -> str:
    """An HTML-like label: a bold title and smaller lines below it."""
    body = "".join(f'<BR/><FONT POINT-SIZE="9">{_esc(line)}</FONT>' for line in lines)
    return f"<<B>{_esc(title)}</B>{body}>"


def plain_label(lines: list[str]) -> str:
    """An HTML-like label of left-aligned lines (graph notes)."""
    return "<" + "".join(f'{_esc(line)}<BR ALIGN="LEFT"/>' for line in lines) + ">"


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _number(x: float) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    return f"{x:.4g}" if abs(x) >= 1e4 or (x != 0 and abs(x) < 1e-3) else f"{x:.4f}"


def _seconds(s: float) -> str:
    return f"{s * 1e3:.3f} ms" if s >= 1e-4 else f"{s * 1e6:.1f} us"
