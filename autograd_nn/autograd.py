"""The backward pass: each op's rule, newest op first (a heap on creation order; no recursion).

`sum_to` is the one place where broadcasting is undone: an op returns the gradient with the shape of
its output, and the engine sums it down to each input's shape.

Two hooks let work overlap the pass (DistributedDataParallel's gradient all-reduce): a leaf's
post-accumulate-grad hooks run as soon as its gradient is complete, and `queue_callback` runs a
function when the pass ends.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .custom_function import Function, FunctionCtx, Variable  # PyTorch's autograd.Function API
from .errors import GraphError, ShapeError
from .function import Instrument, TensorBase, last_inplace, last_rebase, reads_memory, version_of
from .grad_mode import _state, enable_grad, no_grad
from .inplace import consumed_parents


def sum_to(g: Any, shape: tuple) -> Any:
    """Sum a broadcast gradient (array or Tensor) back down to `shape`."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"sum_to: gradient of shape {g.shape} cannot be reduced to {shape}")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape[lead:] != shape:
        raise ShapeError(f"sum_to: gradient of shape {g.shape} does not broadcast to {shape}")
    return g.reshape(shape)


def _freed(ctx: Any) -> GraphError:
    return GraphError(
        f"backward through {ctx.name} a second time: its saved values were freed by the first "
        "backward. Pass retain_graph=True to the first backward to keep them."
    )


def _check_root(t: Any, g: Any, i: int) -> Any:
    if not isinstance(t, TensorBase):
        raise TypeError(f"backward: output {i} is a {type(t).__name__}, not a Tensor")
    if not t.requires_grad:
        raise GraphError(
            f"backward: output {i} (shape {t.shape}) does not require grad and has no graph; "
            "did you compute it under no_grad() or from tensors without requires_grad=True?"
        )
    if g is None:
        if t._data.size != 1:
            raise GraphError(
                f"backward: output {i} has shape {t.shape}; a gradient can be created implicitly "
                "only for a scalar output. Pass gradient= with the output's shape."
            )
        return np.ones_like(t._data)
    g = g._data if isinstance(g, TensorBase) else np.asarray(g, dtype=t.dtype)
    if g.shape != t.shape:
        raise ShapeError(f"backward: gradient of shape {g.shape} given for output of shape {t.shape}")
    return g.astype(t.dtype, copy=False)


class PostAccumulateGradHookHandle:
    """Returned by `Tensor.register_post_accumulate_grad_hook`; `remove()` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict, hook: Callable[[Any], None]) -> None:
        self.id = next(self._ids)
        self._hooks = hooks
        hooks[self.id] = hook
        _live_post_hooks[0] += 1

    def remove(self) -> None:
        if self._hooks.pop(self.id, None) is not None:
            _live_post_hooks[0] -= 1


# How many post-accumulate hooks are registered anywhere: while there are none, backward skips the
# pass that counts each hooked leaf's uses (so plain backward pays nothing for the feature).
_live_post_hooks = [0]


class _Callbacks(threading.local):
    def __init__(self) -> None:
        self.stack: list[list[Callable[[], None]]] = []  # one list per backward pass running


_callbacks = _Callbacks()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run `callback()` once the backward pass now running has written every `.grad`.

    For code that runs inside a backward pass (a hook) and must finish its work when the pass ends,
    like PyTorch's `Variable._execution_engine.queue_callback`. Callbacks run in the order queued; a
    pass that raises drops its callbacks.
    """
    if not _callbacks.stack:
        raise GraphError("queue_callback: no backward pass is running (call it from a hook)")
    _callbacks.stack[-1].append(callback)


def _count_hooked_leaf_uses(roots: Sequence[Any]) -> dict[int, int]:
    """For each leaf with post-accumulate hooks under `roots`: how many op inputs it fills.

    The backward pass counts these down as it runs each op, and finishes the leaf when its count
    reaches zero: from then on no gradient can reach it.
    """
    counts: dict[int, int] = {}
    seen: set[int] = set()
    stack = [r._ctx for r in roots if isinstance(r, TensorBase) and r._ctx is not None]
    while stack:
        ctx = stack.pop()
        if id(ctx) in seen or ctx.parents is None:
            continue
        seen.add(id(ctx))
        for p in ctx.parents:
            if not p.requires_grad:
                continue
            if p._ctx is not None:
                stack.append(p._ctx)
            elif p._post_hooks:
                counts[id(p)] = counts.get(id(p), 0) + 1
    return counts


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: Sequence[Any] | None = None,
) -> dict[int, Any] | None:
    """Backpropagate from `roots`.

    Without `capture`, gradients accumulate into `.grad` of leaves (and of tensors that called
    `retain_grad()`). With `capture`, the gradients of those tensors are returned (keyed by id) and no
    `.grad` is touched: that is `autograd_nn.grad`.
    """
    grads: dict[int, Any] = {}
    for i, (t, g) in enumerate(zip(roots, root_grads)):
        given = g
        g = _check_root(t, g, i)
        if create_graph:  # a given gradient Tensor stays in the graph (second-order terms flow)
            g = given.astype(t.dtype) if isinstance(given, TensorBase) else t._make(g, False)
        grads[id(t)] = grads[id(t)] + g if id(t) in grads else g
    wanted = None if capture is None else {id(t) for t in capture}
    captured: dict[int, Any] = {}
    owned: set[int] = set()
    # Walk the graph newest op first. An op's inputs were all created before it, so when a tensor
    # comes off this max-heap every op that consumed it has already sent its gradient: no separate
    # topological sort, no recursion. Leaves come last (key 1; the tie number keeps keys unique).
    heap: list = []
    seen: set[int] = set()
    tie = itertools.count()

    def push(t: Any) -> None:
        if id(t) not in seen:
            seen.add(id(t))
            ctx = t._ctx
            heapq.heappush(heap, (-ctx.created if ctx is not None else 1, next(tie), t))

    for r in roots:
        push(r)
    # Leaves with post-accumulate hooks are finished as soon as the last op using them has run.
    pending = _count_hooked_leaf_uses(roots) if wanted is None and _live_post_hooks[0] else None

    def finish(t: Any, g: Any) -> Any:
        """Run `t`'s hooks on its complete gradient `g`, then store it (.grad or captured)."""
        if t._hooks:
            for hook in t._hooks:
                replaced = hook(g if create_graph else t._make(g, False))
                if replaced is not None:
                    g = replaced if create_graph else replaced._data
        ctx = t._ctx
        if wanted is not None:
            if id(t) in wanted:
                captured[id(t)] = g
        elif ctx is None or t._retains_grad:
            _accumulate(t, g, create_graph, id(t) in owned and ctx is None)
            if ctx is None and t._post_hooks:
                for post_hook in list(t._post_hooks.values()):
                    post_hook(t)
        return g

    def walk() -> None:
        while heap:
            t = heapq.heappop(heap)[2]
            g = grads.pop(id(t), None)
            if g is None:
                continue
            g = finish(t, g)
            ctx = t._ctx
            if ctx is None:
                continue
            parents = ctx.parents
            if parents is None:
                raise _freed(ctx)
            parents = ctx.parents if last_rebase[0] <= ctx.created else consumed_parents(ctx)
            _propagate(ctx, parents, t, g, grads, owned, create_graph, not retain_graph)
            for p in parents:
                if p.requires_grad:
                    push(p)
            if pending:
                for p in parents:
                    left = pending.get(id(p))
                    if left is not None:
                        pending[id(p)] = left - 1
                        if left == 1 and id(p) in grads:  # the leaf's gradient is complete
                            finish(p, grads.pop(id(p)))
            if not retain_graph:
                ctx.release()

    previous_mode = _state.enabled
    _state.enabled = create_graph
    queued: list[Callable[[], None]] = []
    _callbacks.stack.append(queued)
    try:
        instrument: Instrument | None = _state.instrument
        if instrument is None:
            walk()
        else:
            instrument.backward_pass(walk)
    finally:
        _state.enabled = previous_mode
        _callbacks.stack.pop()
    for callback in queued:
        callback()
    return captured if wanted is not None else None


class IndexedGrad:
    """A gradient that is zero except at `index`: what reading `x[index]` sends back.

    The engine adds it into one dense buffer per input instead of materialising a full-size zero
    array per read, so reading a sequence step by step (`x[:, t]` for every t) costs O(size), not
    O(steps * size). `scatter(buffer, index, values)` does the adding for advanced indices, where
    repeated indices must accumulate.
    """

    __slots__ = ("advanced", "index", "scatter", "values")

    def __init__(self, index: tuple, values: np.ndarray, advanced: bool, scatter: Any) -> None:
        self.index, self.values, self.advanced, self.scatter = index, values, advanced, scatter

    def add_into(self, buffer: np.ndarray) -> None:
        if self.advanced:
            self.scatter(buffer, self.index, self.values)
        else:
            buffer[self.index] += self.values


def _propagate(
    ctx: Any,
    parents: tuple,
    out: Any,
    g: Any,
    grads: dict,
    owned: set,
    create_graph: bool,
    release: bool = True,
) -> None:
    """Run one op's backward rule and add each input's gradient into `grads`.

    `owned` holds the keys whose buffer nobody but the engine holds: those are added to in place
    and become `.grad` without a copy. Any other gradient may be shared (`Add` returns `g` twice,
    `Expand` returns `g` itself), so adding to it makes a new array first.
    """
    if last_inplace[0] > ctx.created:
        _check_versions(ctx, out)
    run = (lambda grad_out: _call_backward(ctx, parents, out, grad_out)) if create_graph else ctx.backward
    instrument: Instrument | None = _state.instrument
    if instrument is None:
        _add_input_grads(ctx, parents, g, run(g), grads, owned, create_graph, release)
        return

    def node(grad_out: Any) -> Any:  # what an instrument times: the rule and the bookkeeping
        in_grads = run(grad_out)
        _add_input_grads(ctx, parents, grad_out, in_grads, grads, owned, create_graph, release)
        return in_grads

    instrument.backward(ctx, g, node)


def _add_input_grads(
    ctx: Any,
    parents: tuple,
    g: Any,
    in_grads: Any,
    grads: dict,
    owned: set,
    create_graph: bool,
    release: bool,
) -> None:
    """Add each input's gradient (reduced to the input's shape) into `grads`."""
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    for p, need, pg in zip(parents, ctx.needs_input_grad, in_grads):
        if not need or pg is None:
            continue
        key = id(p)
        prev = grads.get(key)
        if type(pg) is IndexedGrad:
            if key not in owned:
                prev = np.zeros(p._data.shape, p._data.dtype) if prev is None else prev.copy()
                owned.add(key)
            assert prev is not None  # owned keys have a gradient array
            pg.add_into(prev)
            grads[key] = prev
            continue
        shape = p._data.shape
        if pg.shape != shape:
            try:
                pg = sum_to(pg, shape)
            except ShapeError as err:
                raise ShapeError(
                    f"{ctx.name}.backward returned a gradient that does not fit its input: {err}"
                ) from None
        if create_graph:
            if not isinstance(pg, TensorBase):
                pg = p._make(np.asarray(pg, dtype=p._data.dtype), False)
            grads[key] = pg if prev is None else prev + pg
            continue
        if pg.dtype != p._data.dtype:
            pg = np.asarray(pg, dtype=p._data.dtype)
        if prev is None:
            grads[key] = pg
            if release and _fresh(pg, g, in_grads, ctx.saved):
                owned.add(key)  # nobody else holds it: later adds (and .grad) may use it in place
        elif key in owned:
            np.add(prev, pg, out=prev)
        else:
            total = prev + pg
            if type(total) is np.ndarray:  # 0-d sums come back as NumPy scalars
                owned.add(key)
            grads[key] = total


def _fresh(pg: Any, g: Any, in_grads: tuple, saved: tuple) -> bool:
    """True when a backward returned an array it just made: its own memory, not the incoming
    gradient, not a saved value, and not returned for two inputs."""
    if type(pg) is not np.ndarray or not pg.flags.owndata or not pg.flags.writeable or pg is g:
        return False
    return sum(1 for o in in_grads if o is pg) == 1 and not any(s is pg for s in saved)


def _check_versions(ctx: Any, out: Any) -> None:
    """Refuse to run a backward that reads an input or output modified in place since forward."""
    for t in (*ctx.parents, out):
        if version_of(t) > ctx.created and reads_memory(ctx, t._data):
            raise GraphError(
                f"{ctx.name}: a tensor of shape {t.shape} that this op saved for backward was modified "
                "in place after it was used (an optimizer step, add_, x[...] = ...); its gradient "
                "would be wrong. Compute the loss again after the change, or clone() the tensor "
                "before modifying it."
            )


def _call_backward(ctx: Any, parents: tuple, out: Any, g: Any) -> Any:
    """Backward with Tensors in place of saved arrays, so the gradient is itself differentiable.

    A fused op whose backward works on arrays only (`differentiable_backward = False`) may define
    `composite(*inputs)`: the same forward written with Tensor ops. Its gradient is then taken through
    that composite, recomputed here, so higher-order gradients still flow.
    """
    if not ctx.differentiable_backward:
        composite = getattr(ctx, "composite", None)
        if composite is None:
            raise GraphError(
                f"create_graph=True: {ctx.name} has only a first-order backward and no composite form"
            )
        wrt = [p for p, need in zip(parents, ctx.needs_input_grad) if need]
        with enable_grad():
            recomputed = composite(*parents)
        grads = iter(grad(recomputed, wrt, grad_outputs=g, create_graph=True, allow_unused=True))
        return tuple(next(grads) if need else None for need in ctx.needs_input_grad)
    arrays = ctx.saved
    ctx.saved = tuple(_as_tensor(parents, ctx, out, a) for a in arrays)
    try:
        return ctx.backward(g)
    finally:
        ctx.saved = arrays


def _as_tensor(parents: tuple, ctx: Any, out: Any, value: Any) -> Any:
    if isinstance(value, np.generic) and value.dtype.kind == "f":
        raise GraphError(f"create_graph=True: {ctx.name} saved a NumPy scalar, not an array")
    if not isinstance(value, np.ndarray):
        return value
    if value is out._data:
        return out
    for p in parents:
        if value is p._data:
            return p
    if value.dtype.kind in "biu":  # masks and indices are constants of the derivative
        return out._make(value, False)
    raise GraphError(
        f"create_graph=True: {ctx.name} saved an intermediate array that is neither an input nor "
        "its output, so its backward cannot be differentiated"
    )


def _accumulate(t: Any, g: Any, create_graph: bool, owned: bool) -> None:
    """Add `g` into `t.grad` (a Tensor).

    The first gradient is copied unless the engine allocated it for this tensor alone (`owned`), so
    `.grad` never shares memory with another tensor's and later in-place adds are safe.
    """
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
        return
    if t.grad is None:
        own = owned and g.flags.writeable and g.flags.c_contiguous
        t.grad = t._make(g if own else np.array(g, dtype=t._data.dtype, copy=True), False)
    else:
        acc = t.grad._data
        if acc.flags.writeable and acc.shape == np.shape(g) and not t.grad.requires_grad:
            np.add(acc, g, out=acc)
        else:
            t.grad = t._make(acc + g, False)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate gradients of `tensors` into the leaves' `.grad` (like `torch.autograd.backward`)."""
    roots = [tensors] if isinstance(tensors, TensorBase) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, TensorBase):
        grad_tensors = [grad_tensors] * len(roots) if grad_tensors is None else [grad_tensors]
    retain = create_graph if retain_graph is None else retain_graph
    run_backward(roots, list(grad_tensors), retain, create_graph)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned (not accumulated into `.grad`).

    With `create_graph=True` the returned gradients are differentiable (Hessian-vector products,
    gradient penalties).
    """
    roots = [outputs] if isinstance(outputs, TensorBase) else list(outputs)
    single = isinstance(inputs, TensorBase)
    ins = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, TensorBase):
        grad_outputs = [grad_outputs] * len(roots) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(ins):
        if not isinstance(t, TensorBase) or not t.requires_grad:
            raise GraphError(f"grad: input {i} is not a tensor that requires grad")
    retain = create_graph if retain_graph is None else retain_graph
    captured = run_backward(roots, list(grad_outputs), retain, create_graph, capture=ins)
    assert captured is not None  # with capture=, run_backward returns the gradients
    result: list[TensorBase | None] = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise GraphError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        else:
            result.append(g if create_graph else t._make(np.asarray(g), False))
    return tuple(result)


def __getattr__(name: str) -> Any:
    """PyTorch's `torch.autograd.<name>` spellings of tools defined above the engine (loaded on use,
    as they import the tensor layer)."""
    if name in ("gradcheck", "gradgradcheck"):
        return getattr(importlib.import_module(__package__ + ".gradcheck"), name)
    if name in ("detect_anomaly", "set_detect_anomaly"):
        return importlib.import_module(__package__ + ".anomaly").detect_anomaly
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "backward",
    "grad",
    "queue_callback",
    "sum_to",
    "enable_grad",
    "no_grad",
    "Function",
    "FunctionCtx",
    "Variable",
]
