"""`Optimizer`: parameter groups, per-parameter state, zero_grad, and a savable state_dict.

Layout (the same as PyTorch's):

- `param_groups`: a list of dicts, each with `'params'` (a list of Tensors) and that group's options
  (`lr`, `weight_decay`, ...); options a group does not give come from `defaults`.
- `state`: a dict from parameter (the Tensor object itself; Tensors hash by identity) to a dict of
  that parameter's buffers (`'momentum_buffer'`, `'exp_avg'`, ...) and its `'step'` count.
- `state_dict()` replaces every parameter by its *index* in the order the groups list them:
  `{'state': {0: {...}, 3: {...}}, 'param_groups': [{'lr': ..., 'params': [0, 1, 2]}, ...]}`.
  Indices, not `id()`s, so a fresh optimizer over a fresh model can load it (and `serialization.save`
  can write it to disk).

Subclasses implement `_update(group, param, grad, state)`: one parameter, plain ndarrays, in place.
The base `step()` runs it under `no_grad()` for every parameter whose `.grad` is not None. Updates
use in-place NumPy ufuncs (`out=`) and scratch buffers kept by the optimizer (`_scratch`), so a step
allocates nothing after the first, and the state stays in the parameter's dtype.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .._tensor import Tensor, as_tensor
from ..errors import ShapeError
from ..grad_mode import enable_grad, no_grad


class _RequiredParameter:
    """Marks a default that every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of optimizers: holds parameter groups and per-parameter state.

    Args:
        params: an iterable of Tensors, of `(name, Tensor)` pairs (`module.named_parameters()`), or of
            dicts each defining a parameter group (`{'params': [...], 'lr': 0.1}`).
        defaults: option values used by groups that do not set them.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._scratch_buffers: dict[tuple[str, int], np.ndarray] = {}
        self._scratch_views: dict[tuple, np.ndarray] = {}
        self._opt_called = False  # lets a scheduler warn when it steps before the optimizer
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                f"or dicts, but got {type(params).__name__}"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs; use a list"
            )
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                f"or dicts, but got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- groups ---------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a new layer to fine-tune)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs; use a list"
            )
        elif params is None:
            raise ValueError("param_group has no 'params' entry")
        params = list(params)
        names = None
        if params and isinstance(params[0], tuple):
            names = [item[0] for item in params]
            params = [item[1] for item in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but param {i} of the group is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (param {i} of the group, shape "
                    f"{p.shape}): detach it or make it a Parameter"
                )
            if p.dtype.kind != "f":
                raise TypeError(f"can only optimize floating-point Tensors, param {i} is {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        if any(("param_names" in g) != (names is not None) for g in self.param_groups):
            raise ValueError("all optimizer param groups must have parameter names, or none of them")
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"parameter group didn't specify a value of required option {key}")
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._init_group_state(group)

    def _init_group_state(self, group: dict[str, Any]) -> None:
        """Create state eagerly for a new group (most optimizers create it lazily in `_update`)."""

    # ---- gradients and steps --------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: to None (the default: frees memory, skips the add), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                g = p.grad
                if g.requires_grad or not g._data.flags.writeable:
                    p.grad = Tensor._make(np.zeros_like(g._data), False)
                else:
                    with g._inplace("zero_grad", check=False) as grad:
                        grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()`'s loss when one is given.

        The closure (which should zero the grads, compute the loss and call backward) runs with grad
        mode on; the update itself records no graph.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True
        op = f"{type(self).__name__}.step"  # named once per step, not per parameter
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    grad = g._data
                    if grad.shape != p._data.shape:
                        raise ShapeError(
                            f"{op}: gradient of shape {grad.shape} for a parameter of shape {p._data.shape}"
                        )
                    with p._inplace(op) as param:  # refuses read-only
                        state = self.state.get(p)
                        if state is None:
                            state = self.state[p] = {}
                        self._update(group, param, grad, state)
        return loss

    def _update(
        self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, state: dict[str, Any]
    ) -> None:  # pragma: no cover - abstract
        """Update one parameter array in place from its gradient array and state."""
        raise NotImplementedError(f"{type(self).__name__}._update")

    def _scratch(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable work array shaped and typed like `like` (contents undefined).

        One flat buffer per (dtype, slot), grown to the largest parameter, so steps allocate nothing.
        Different slots never overlap; the same slot is overwritten by the next call.
        """
        key = (like.dtype.str, slot, like.shape)
        view = self._scratch_views.get(key)
        if view is None:
            flat_key = (like.dtype.str, slot)
            buf = self._scratch_buffers.get(flat_key)
            if buf is None or buf.size < like.size:
                buf = self._scratch_buffers[flat_key] = np.empty(like.size, dtype=like.dtype)
                self._scratch_views.clear()  # views of the old buffer would no longer share memory
            view = self._scratch_views[key] = buf[: like.size].reshape(like.shape)
        return view

    # ---- state_dict -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot `{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}`.

        Buffers are copied (as Tensors), so later steps do not change a saved snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: _snapshot(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state and options saved by `state_dict()` (of an optimizer over the same shapes).

        Everything is checked before anything changes. Buffers are copied and cast to their
        parameter's dtype; the parameters themselves stay this optimizer's.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({i}) that doesn't "
                    f"match the size of optimizer's group: {len(saved['params'])} "
                    f"parameters saved, {len(mine['params'])} here"
                )
            by_index.update(zip((int(k) for k in saved["params"]), mine["params"]))
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(
                    f"loaded state dict has state for parameter {key}, which no parameter group lists"
                )
            new_state[p] = {k: self._cast_state(v, p, key, k) for k, v in values.items()}
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k not in ("params", "param_names")}
            group["params"] = mine["params"]
            if "param_names" in mine:
                group["param_names"] = mine["param_names"]
            new_groups.append(group)
        self.state = new_state
        self.param_groups = new_groups

    def _cast_state(self, value: Any, param: Tensor, index: Any, name: str) -> Any:
        """A saved state entry made ready to use: arrays copied in the parameter's dtype, steps as int."""
        if hasattr(value, "detach") and hasattr(value, "numpy"):  # a Tensor (ours or a torch one)
            value = np.asarray(value.detach().numpy())
        if name == "step":
            return int(np.asarray(value).item()) if isinstance(value, np.ndarray) else int(value)
        if isinstance(value, (np.ndarray, np.generic)):
            arr = np.array(value, dtype=param.dtype, copy=True)
            if arr.shape != param.shape:
                raise ShapeError(
                    f"loaded optimizer state '{name}' of parameter {index} has shape "
                    f"{arr.shape}, the parameter has shape {param.shape}"
                )
            return arr
        return copy.deepcopy(value)

    # ---- misc -----------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_scratch_buffers", "_scratch_views")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._scratch_buffers, self._scratch_views = {}, {}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names")]
        return "\n".join(lines + [")"])


def _snapshot(value: Any) -> Any:
    """A state entry as state_dict() hands it out: arrays copied into Tensors (also inside lists,
    as L-BFGS keeps its history), everything else as is or deep-copied."""
    if isinstance(value, np.ndarray):
        return as_tensor(np.array(value, copy=True))
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    return value if isinstance(value, np.generic) else copy.deepcopy(value)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """`start.lerp_(end, weight)` in place with PyTorch's two-branch formula (same rounding)."""
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(end, tmp, out=start)


def _effective_grad(
    opt: Optimizer, param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool
) -> np.ndarray:
    """`-grad` when maximizing, plus `weight_decay * param` (L2), in a scratch buffer when needed.

    The result may be `grad` itself and must then not be written to.
    """
    if not weight_decay and not maximize:
        return grad
    d = opt._scratch(param, 0)
    if weight_decay:
        np.multiply(param, weight_decay, out=d)
        if maximize:
            np.subtract(d, grad, out=d)
        else:
            np.add(grad, d, out=d)
    else:
        np.negative(grad, out=d)
    return d


def _check_lr(lr: Any) -> None:
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, Tensor)):
        raise TypeError(f"Invalid learning rate: {lr!r} (expected a number, got {type(lr).__name__})")
    _check(bool(lr >= 0.0), "learning rate", lr)


def _check(condition: object, what: str, value: Any) -> None:  # a 0-d tensor for a tensor lr
    if not condition:
        raise ValueError(f"Invalid {what}: {value}")
