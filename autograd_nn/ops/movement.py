"""Movement ops: they rearrange elements without arithmetic.

Each primitive's backward is written with other movement ops (through the small `dual`-style helpers
at the bottom), so the same rule runs on arrays for first-order gradients and on Tensors under
`create_graph=True`. The argument handling that PyTorch's methods need (-1 in shapes, squeeze of a
tuple of dims, ...) lives in the plain functions after the primitives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..function import Function, TensorBase
from ..shapes import normalize_axes, normalize_axis
from . import dual


class Reshape(Function):
    is_view = True  # when NumPy can reshape without a copy (`Function.is_view`)

    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Permute(Function):
    is_view = True

    def forward(self, a, axes):
        self.inverse = tuple(np.argsort(axes).tolist())
        return np.transpose(a, axes)

    def backward(self, g):
        return g.transpose(self.inverse) if not dual.is_tensor(g) else g.permute(*self.inverse)


class Expand(Function):
    """Broadcast to a larger shape (a read-only view); the engine sums the gradient back."""

    is_view = True

    def forward(self, a, shape):
        return np.broadcast_to(a, shape)

    def backward(self, g):
        return g


class Flip(Function):
    """Reverse the order of elements along `axes`; its own inverse."""

    def forward(self, a, axes):
        self.axes = axes
        return np.flip(a, axes).copy()  # a copy, as in PyTorch (an in-place change must not reach a)

    def backward(self, g):
        return flip_any(g, self.axes)


class Roll(Function):
    """Shift elements cyclically; the gradient rolls back by the opposite shifts."""

    def forward(self, a, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return np.roll(a, shifts, axes)

    def backward(self, g):
        return roll_any(g, tuple(-s for s in self.shifts), self.axes)


class Tile(Function):
    """PyTorch's `repeat`: `reps` has one entry per dim (the caller adds leading dims first)."""

    def forward(self, a, reps):
        self.in_shape, self.reps = a.shape, reps
        return np.tile(a, reps)

    def backward(self, g):
        split = []
        for r, n in zip(self.reps, self.in_shape):
            split += [r, n]
        summed = g.reshape(tuple(split)).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))
        return summed.reshape(self.in_shape)


class Clone(Function):
    """A copy that stays in the graph (gradient passes through unchanged)."""

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


def flip_any(x: Any, axes: tuple) -> Any:
    return Flip.apply(x, axes=axes) if dual.is_tensor(x) else np.flip(x, axes)


def roll_any(x: Any, shifts: tuple, axes: tuple) -> Any:
    if dual.is_tensor(x):
        return Roll.apply(x, shifts=shifts, axes=axes)
    return np.roll(x, shifts, axes)


# ---- argument handling for the Tensor methods ----------------------------------------------------
def infer_shape(op: str, shape: Sequence[int], numel: int, in_shape: tuple) -> tuple:
    """Resolve one -1 in `shape` so that it holds `numel` elements; a clear error otherwise."""
    shape = tuple(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise ShapeError(f"{op}: only one dimension can be -1, got shape {shape}")
    if any(s < -1 for s in shape):
        raise ShapeError(f"{op}: invalid size in shape {shape}")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if unknown:
        if known == 0 or numel % known:
            raise ShapeError(
                f"{op}: shape {shape} is invalid for an input of shape {in_shape} ({numel} elements)"
            )
        shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
    elif known != numel:
        raise ShapeError(
            f"{op}: shape {shape} is invalid for an input of shape {in_shape} ({numel} elements)"
        )
    return shape


def reshape(x: Any, shape: Sequence[int], op: str = "reshape") -> Any:
    shape = infer_shape(op, shape, x._data.size, x.shape)
    return x if shape == x.shape else Reshape.apply(x, shape=shape)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    if x.ndim == 0:
        return reshape(x, (1,), "flatten")
    s = normalize_axis(start_dim, x.ndim, "flatten")
    e = normalize_axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise ShapeError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor of shape {x.shape}"
        )
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1 :], "flatten")


def unflatten(x: Any, dim: int, sizes: Sequence[int]) -> Any:
    d = normalize_axis(dim, x.ndim, "unflatten")
    sizes = infer_shape("unflatten", tuple(int(s) for s in sizes), x.shape[d], (x.shape[d],))
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :], "unflatten")


def squeeze(x: Any, dim: Any = None) -> Any:
    """Drop size-1 dims (all of them, or those in `dim`; a named dim of another size is kept)."""
    axes = normalize_axes(dim, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(range(x.ndim))
    keep = tuple(n for i, n in enumerate(x.shape) if i not in axes or n != 1)
    return reshape(x, keep, "squeeze")


def unsqueeze(x: Any, dim: int) -> Any:
    d = normalize_axis(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def permute(x: Any, dims: Sequence[int]) -> Any:
    dims = tuple(normalize_axis(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ShapeError(
            f"permute: {dims} is not a permutation of the {x.ndim} dims of a tensor of shape {x.shape}"
        )
    return x if dims == tuple(range(x.ndim)) else Permute.apply(x, axes=dims)


def swap(x: Any, dim0: int, dim1: int, op: str = "transpose") -> Any:
    a, b = normalize_axis(dim0, x.ndim, op), normalize_axis(dim1, x.ndim, op)
    if a == b or x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, axes=tuple(axes))


def movedim(x: Any, source: Any, destination: Any) -> Any:
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {src} and destination {dst} differ in length")
    src = tuple(normalize_axis(d, x.ndim, "movedim") for d in src)
    dst = tuple(normalize_axis(d, x.ndim, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    return permute(x, [o if o is not None else next(rest) for o in order])


def expand(x: Any, shape: Sequence[int], op: str = "expand") -> Any:
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"{op}: the target shape {shape} has fewer dims than the input {x.shape}")
    out = []
    for i, s in enumerate(shape):
        if i < lead:
            if s < 0:
                raise ShapeError(f"{op}: -1 is not allowed for the new leading dim {i} of {shape}")
            out.append(s)
            continue
        n = x.shape[i - lead]
        if s == -1:
            s = n
        if n != s and n != 1:
            raise ShapeError(
                f"{op}: cannot expand shape {x.shape} to {shape} (dim {i}: size {n} is neither 1 nor {s})"
            )
        out.append(s)
    target = tuple(out)
    return x if target == x.shape else Expand.apply(x, shape=target)


def repeat(x: Any, reps: Sequence[int]) -> Any:
    """PyTorch's `repeat`: tile `x` `reps[i]` times along dim i (reps may add leading dims)."""
    reps = tuple(reps)
    if len(reps) < x.ndim:
        raise ShapeError(
            f"repeat: {len(reps)} repeats given for a tensor with {x.ndim} dims "
            f"(shape {x.shape}); give at least one per dim"
        )
    if any(r < 0 for r in reps):
        raise ShapeError(f"repeat: negative repeat count in {reps}")
    x = reshape(x, (1,) * (len(reps) - x.ndim) + x.shape, "repeat")
    return x if all(r == 1 for r in reps) else Tile.apply(x, reps=reps)


def tile(x: Any, dims: Sequence[int]) -> Any:
    """Like `repeat`, but fewer entries than dims are padded with leading 1s (torch.tile)."""
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def flip(x: Any, dims: Any) -> Any:
    axes = normalize_axes(dims, x.ndim, "flip")
    if not axes:
        return x
    return Flip.apply(x, axes=axes)


def _int_tuple(op: str, name: str, value: Any) -> tuple[int, ...]:
    """An int, a sequence of ints or an integer tensor (0-d or 1-d) as a tuple of ints."""
    arr = np.asarray(value._data if isinstance(value, TensorBase) else value)
    if arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise ShapeError(f"{op}: {name} must be an int or a sequence of ints, got {value!r}")
    return tuple(int(v) for v in arr.reshape(-1))


def roll(x: Any, shifts: Any, dims: Any = None) -> Any:
    """Shift elements cyclically; several (shift, dim) pairs roll one after another (a dim given
    twice adds its shifts); without dims the flattened tensor rolls and keeps its shape."""
    shifts = _int_tuple("roll", "shifts", shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(
                f"roll: {len(shifts)} shifts given without dims (shifts and dimensions must align)"
            )
        flat = reshape(x, (-1,), "roll")
        return reshape(Roll.apply(flat, shifts=shifts, axes=(0,)), x.shape, "roll")
    dims = _int_tuple("roll", "dims", dims)
    if len(dims) != len(shifts):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} differ in length")
    dims = tuple(normalize_axis(d, x.ndim, "roll") for d in dims)
    return Roll.apply(x, shifts=shifts, axes=dims)


def unfold(x: Any, dimension: int, size: int, step: int) -> Any:
    """Slices x[..., i * step : i * step + size, ...] along `dimension` as a new last dim."""
    from .index import GetItem

    base = x if x.ndim else reshape(x, (1,), "unfold")
    d = normalize_axis(dimension, base.ndim, "unfold")
    n = base.shape[d]
    if step <= 0:
        raise ShapeError(f"unfold: step is {step} but must be > 0")
    if not 0 <= size <= n:
        raise ShapeError(
            f"unfold: maximum size for tensor at dimension {d} is {n} but size is "
            f"{size} (tensor shape {x.shape})"
        )
    count = (n - size) // step + 1
    index = np.arange(count)[:, None] * step + np.arange(size)  # (count, size)
    moved = movedim(base, d, -1)  # (..., n)
    windows = GetItem.apply(moved, index=(Ellipsis, index), advanced=True)  # (..., count, size)
    out = movedim(windows, -2, d)
    return reshape(out, (size,), "unfold") if x.ndim == 0 else out
