"""In-place operations (`x.add_(y)`, `x[i] = v`, `F.relu(x, inplace=True)`) with PyTorch's semantics.

An in-place op writes its result into the tensor's own memory, so every alias of that memory (the
same Python object kept under another name, `x.data`, views, NumPy arrays from `x.numpy()`) sees the
new values, and the tensor's version is bumped, so a backward that saved the old values refuses to
run instead of computing a wrong gradient.

When the change must be recorded (grad mode on, and the tensor or an operand requires grad), the
tensor's history is rebased, as PyTorch's `rebase_history` does:

1. a *shell* takes over the tensor's old identity in the graph: the same memory and version, the
   op that made it (`_ctx`), its `requires_grad`;
2. the op runs out of place on the shell (`compute(shell)`), recorded as usual; if that op saved the
   shell's values for its backward (`mul_` by a tensor that requires grad, `lerp_`), it runs on a
   recorded copy instead, so those values survive the write;
3. the result is written into the tensor's memory, and the tensor becomes that op's output
   (`_ctx`, `requires_grad`), the op's saved output now meaning the tensor itself.

Ops recorded before the change keep the tensor object as their input; the engine sends their
gradient to the shell (`Function.rebased_from`), which is the tensor as they saw it.

Two cases are refused with a clear error rather than handled: a leaf that requires grad (as in
PyTorch: its `.grad` would no longer be the gradient of anything), and a view of another tensor
(`x[0].add_(1)`, `x.view(-1).relu_()`), which PyTorch records on the view's base; here the base
would keep a history that no longer matches its values. `clone()` first, or write through the base
(`x[0] += 1`, which is `x.__setitem__`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import DTypeError, GraphError, ShapeError
from .function import Instrument, TensorBase, check_writable, last_rebase, reads_memory, share_version, tick
from .grad_mode import _state


def writes_recorded(t: Any, operands: tuple = ()) -> bool:
    """True when an in-place change of `t` by `operands` must be recorded in the graph."""
    if not _state.enabled:
        return False
    return t.requires_grad or any(isinstance(o, TensorBase) and o.requires_grad for o in operands)


def write_values(t: Any, values: np.ndarray, op: str) -> None:
    """Copy `values` into `t`'s memory, with PyTorch's rules: same shape, no float -> int cast.
    The caller has checked the write (`check_writable`, and the graph rules of `apply_inplace`)."""
    if values.shape != t._data.shape:
        raise ShapeError(
            f"{op}: the result has shape {values.shape}, but an in-place op cannot change "
            f"the shape of the tensor it writes to ({t._data.shape})"
        )
    if values.dtype != t._data.dtype and not np.can_cast(values.dtype, t._data.dtype, "same_kind"):
        raise DTypeError(
            f"{op}: result type {values.dtype} can't be cast to the desired output type {t._data.dtype}"
        )
    if np.may_share_memory(values, t._data):
        values = values.copy()
    with t._inplace(op, check=False) as target:
        np.copyto(target, values, casting="unsafe")


def apply_inplace(t: Any, op: str, compute: Callable[[Any], Any], operands: tuple = ()) -> Any:
    """Replace `t`'s values by `compute(t)` in place; `operands` are the other tensors it reads.

    `compute` takes a tensor with `t`'s values and returns the new values as a Tensor, built from
    ordinary (recorded) ops, so the gradient of an in-place op is the gradient of its out-of-place form.
    """
    check_writable(t, op)
    if not writes_recorded(t, operands):
        previous = _state.enabled
        _state.enabled = False
        try:
            result = compute(t)
        finally:
            _state.enabled = previous
        write_values(t, result._data, op)
        _tell_instrument(t, result)
        return t
    shell = _shell(t, op)
    result = compute(shell)
    ctx = result._ctx
    if ctx is not None and reads_memory(ctx, t._data):
        result = compute(shell.clone())  # the op needs the old values: read them from a copy
        ctx = result._ctx
    write_values(t, result._data, op)
    _tell_instrument(t, result)
    if ctx is None:  # nothing the new values depend on requires grad (e.g. fill_ of a constant)
        t._ctx, t.requires_grad = None, False
        return t
    _become_output(t, result, ctx, shell)
    return t


def _tell_instrument(t: Any, result: Any) -> None:
    instrument: Instrument | None = _state.instrument
    if instrument is not None:
        instrument.inplace(t, result)


def apply_inplace_view(t: Any, op: str, compute: Callable[[Any], Any]) -> Any:
    """Shape-changing in-place ops (`unsqueeze_`, `t_`, `squeeze_`): `t` becomes the view
    `compute(t)` of the same memory; the values and the version do not change."""
    if not writes_recorded(t):
        previous = _state.enabled
        _state.enabled = False
        try:
            t._data = compute(t)._data
        finally:
            _state.enabled = previous
        return t
    shell = _shell(t, op)
    result = compute(shell)
    t._data = result._data
    if result._ctx is not None:
        _become_output(t, result, result._ctx, shell)
    return t


def _shell(t: Any, op: str) -> Any:
    """A tensor that takes over `t`'s place in the graph (see the module docstring)."""
    if t.requires_grad and t._ctx is None:
        raise GraphError(
            f"{op}: a leaf tensor that requires grad (shape {t.shape}) is being used in an in-place "
            "operation. Change parameters under `with autograd_nn.no_grad():` (or through "
            "`.data`), or use the out-of-place form."
        )
    if t._base is not None:
        raise GraphError(
            f"{op}: in-place change of a view (shape {t.shape}) in a recorded graph. autograd_nn does "
            "not rebase the history of a view's base tensor, which would then no longer match its "
            "values; clone() the view first, or assign through the base (`x[index] = value`)."
        )
    shell = t._make(t._data, t.requires_grad)
    shell._ctx = t._ctx
    share_version(t, shell)
    return shell


def _become_output(t: Any, result: Any, ctx: Any, shell: Any) -> None:
    """Make `t` the output of `ctx` (which produced `result`), after `t` took `result`'s values."""
    if ctx.saved:
        ctx.saved = tuple(t._data if s is result._data else s for s in ctx.saved)
    ctx.created = last_rebase[0] = tick()  # newer than the version bump: t is as ctx saved it
    ctx.rebased_from = shell
    t._ctx = ctx
    t.requires_grad = True


def as_consumed(p: Any, created: int) -> Any:
    """The tensor `p` as an op created at tick `created` read it: `p` itself, or, if `p` was changed
    in place since, the shell that holds its history from then (see the module docstring)."""
    ctx = p._ctx
    while ctx is not None and ctx.created > created:
        shell = ctx.__dict__.get("rebased_from")
        if shell is None:
            break
        p, ctx = shell, shell._ctx
    return p


def consumed_parents(ctx: Any) -> tuple:
    """`ctx`'s inputs as they were when it ran (differs only after in-place ops on them)."""
    if last_rebase[0] <= ctx.created:
        return ctx.parents
    return tuple(as_consumed(p, ctx.created) for p in ctx.parents)
