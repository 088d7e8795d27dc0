"""Module: the base of every layer, with PyTorch's API for parameters, buffers, state and hooks.

Parameters, buffers and submodules are found by assignment (`self.w = Parameter(...)`) into ordered
dicts, so names are dotted, insertion-ordered and deduplicated, and a `state_dict` maps one-to-one onto
PyTorch's for the same architecture.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, cast

import numpy as np

from .. import dtypes, scopes
from .._tensor import Tensor, as_tensor
from ..devices import as_device, device, unavailable
from ..errors import CheckpointError
from ..grad_mode import no_grad
from .parameter import Buffer, Parameter


class RemovableHandle:
    """Returned by the hook registration methods; `remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class _WithKwargs:
    """A forward (pre-)hook registered with `with_kwargs=True`: it also receives the kwargs."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable) -> None:
        self.fn = fn


def _register(hooks: OrderedDict, hook: Callable | _WithKwargs, prepend: bool) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _hook_args_kwargs(fn: Callable, result: Any) -> tuple[tuple, dict]:
    """A with_kwargs pre-hook's return value, checked: it must be an (args, kwargs) pair."""
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise RuntimeError(
            f"forward pre-hook {fn!r} registered with with_kwargs=True must return "
            f"None or a tuple (new_args, new_kwargs), got {type(result).__name__}"
        )
    args = result[0] if isinstance(result[0], tuple) else (result[0],)
    return args, result[1]


class Module:
    """Base class of all layers. Subclasses define `forward` and assign parameters in `__init__`."""

    training: bool
    _transparent = False  # True for containers that are iterated, never called (_set_scope_name)

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_scope_name"] = ""

    # ---- registration by assignment ---------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call in {type(self).__name__}"
            )
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            d["_parameters"][name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            value._set_scope_name(name)
            d["_modules"][name] = value
        elif isinstance(value, Buffer):
            self.register_buffer(name, value, value.persistent)
        elif name in d["_buffers"] and (value is None or isinstance(value, Tensor)):
            d["_buffers"][name] = value
        elif name in d["_parameters"] and value is not None:
            raise TypeError(
                f"cannot assign {type(value).__name__} to parameter {name!r}: use nn.Parameter(...) or None"
            )
        elif name in d["_parameters"] or name in d["_modules"]:
            (d["_parameters"] if name in d["_parameters"] else d["_modules"])[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str | None = None) -> None:
        """Remove `name` from every store but `keep`, where a reassignment keeps its position."""
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                d[store].pop(name, None)
        d.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[store]:
                del self.__dict__[store][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        self.__dict__["_parameters"][name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is part of the state (saved in state_dict if persistent) but not trained."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = as_tensor(np.asarray(tensor))
        if tensor is not None and type(tensor) is not Tensor:
            tensor = Tensor._make(tensor._data, False)
        self._forget(name, keep="_buffers")
        self.__dict__["_buffers"][name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        if module is not None:
            prefix = self._scope_name if self._transparent and self._scope_name else ""
            module._set_scope_name(f"{prefix}.{name}" if prefix else name)
        self.__dict__["_modules"][name] = module

    register_module = add_module

    def _set_scope_name(self, name: str) -> None:
        """The name this module shows in graph pictures, relative to the module that calls it.

        Containers that are iterated, never called (ModuleList, ModuleDict), are `_transparent`: their
        name is folded into their children's, so a layer shows as 'layers.0', not '0'.
        """
        self.__dict__["_scope_name"] = name
        if self._transparent:
            for key, child in self._modules.items():
                if child is not None:
                    child._set_scope_name(f"{name}.{key}")

    # ---- traversal ---------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first, each once."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [
                (f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        # the `_parameters` store holds only Parameters (see `__setattr__`, `register_parameter`)
        return cast(
            Iterator[tuple[str, Parameter]],
            self._named_members("_parameters", prefix, recurse, remove_duplicate),
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} ({target})")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Parameter:
        mod_name, _, name = target.rpartition(".")
        module = self.get_submodule(mod_name)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r}")
        return module._parameters[name]

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every submodule (children first) and on self, as in PyTorch."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                with p.grad._inplace("zero_grad", check=False) as grad:
                    grad.fill(0)

    def _cast(self, dtype: Any, floating_only: bool = True) -> Module:
        """Convert parameters and buffers (floating ones only, unless told) to `dtype`, in place:
        each keeps its identity (optimizers and references stay valid), a gradient is cast too."""
        dtype = dtypes.as_dtype(dtype, "Module.to")
        for m in self.modules():
            for store in ("_parameters", "_buffers"):
                for t in m.__dict__[store].values():
                    if t is None or t.dtype == dtype or (floating_only and t.dtype.kind != "f"):
                        continue
                    with t._inplace("Module.to", check=False):
                        t._data = t._data.astype(dtype)
                    if t.grad is not None:
                        t.grad = t.grad.astype(dtype)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's forms: `to(device)`, `to(dtype)`, `to(device, dtype)`, `to(tensor)`, with
        `non_blocking`; floating parameters and buffers take the dtype, the device must be the CPU
        (anything else raises a DeviceError)."""
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"Module.to: unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, bool):
                continue  # non_blocking given positionally
            elif isinstance(arg, (device, int)) or (isinstance(arg, str) and _names_device(arg)):
                dev = arg
            elif arg is not None:
                dtype = arg
        as_device(dev)
        if dtype is not None:
            if dtypes.as_dtype(dtype, "Module.to").kind != "f":
                raise TypeError(f"Module.to only accepts floating point dtypes, but got {dtype}")
            self._cast(dtype)
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        raise unavailable("cuda" if device is None else str(device), "Module.cuda")

    def float(self) -> Module:
        return self._cast(np.float32)

    def double(self) -> Module:
        return self._cast(np.float64)

    def half(self) -> Module:
        return self._cast(np.float16)

    def bfloat16(self) -> Module:
        return self._cast(dtypes.bfloat16)

    def type(self, dst_type: Any) -> Module:
        """Cast every parameter and buffer (also integer ones, as PyTorch's `Module.type`)."""
        return self._cast(dst_type, floating_only=False)

    def share_memory(self) -> Module:
        return self

    def to_empty(self, *, device: Any = None, recurse: bool = True) -> Module:
        as_device(device)
        return self

    # ---- state ---------------------------------------------------------------------------------
    def state_dict(
        self, destination: OrderedDict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Name -> tensor for every parameter and persistent buffer, with PyTorch's key names."""
        out = OrderedDict() if destination is None else destination
        # Shared submodules appear under every name, as in PyTorch (no de-duplication here).
        for mod_name, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            base = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[base + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[base + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> tuple[list, list]:
        """Copy values in by name. Checks every key and shape first, so a bad file changes nothing.

        Returns (missing_keys, unexpected_keys); with strict=True either being non-empty is an error.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and (missing or unexpected):
            problems.append(f"missing keys {missing}, unexpected keys {unexpected}")
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            src = state_dict[k]
            arr = src._data if isinstance(src, Tensor) else np.asarray(src)
            if arr.shape != target.shape:
                problems.append(f"{k}: checkpoint shape {arr.shape} != model shape {target.shape}")
            values[k] = arr
        if problems:
            raise CheckpointError(f"load_state_dict into {type(self).__name__}: " + "; ".join(problems))
        with no_grad():
            for k, arr in values.items():
                target = own[k]
                if target._data.flags.writeable:  # into the same memory, as PyTorch's copy_
                    with target._inplace("load_state_dict") as data:
                        np.copyto(data, arr, casting="unsafe")
                else:
                    with target._inplace("load_state_dict", check=False):
                        target._data = np.array(arr, dtype=target.dtype)
        return missing, unexpected

    # ---- calling -------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or scopes.is_recording()):
            return self.forward(*args, **kwargs)  # the common case: nothing to run around forward
        for hook in tuple(self._forward_pre_hooks.values()):
            if isinstance(hook, _WithKwargs):
                result = hook.fn(self, args, kwargs)
                if result is not None:
                    args, kwargs = _hook_args_kwargs(hook.fn, result)
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        recording = scopes.is_recording()
        if recording:  # dotted name from the enclosing module's scope, e.g. 'encoder.layers.0'
            outer = scopes.current_scope()
            name = f"{outer[-1][0]}.{self._scope_name}" if outer and outer[-1][0] else self._scope_name
            scopes.push(name, type(self).__name__)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            if recording:
                scopes.pop()
        for hook in tuple(self._forward_hooks.values()):
            if isinstance(hook, _WithKwargs):
                result = hook.fn(self, args, kwargs, out)
            else:
                result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """`hook(module, args)` runs before forward; it may return replacement args.

        With `with_kwargs=True` it is called as `hook(module, args, kwargs)` and may return a
        replacement `(args, kwargs)` pair (PyTorch's convention). `prepend` runs it before the
        hooks already registered."""
        return _register(self._forward_pre_hooks, _WithKwargs(hook) if with_kwargs else hook, prepend)

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """`hook(module, args, output)` runs after forward; it may return a replacement output.

        With `with_kwargs=True` it is called as `hook(module, args, kwargs, output)`."""
        return _register(self._forward_hooks, _WithKwargs(hook) if with_kwargs else hook, prepend)

    # ---- display -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> list:
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers)
        )


def _names_device(text: str) -> bool:
    """Whether a string argument of `Module.to` names a device ('cpu', 'cuda:0') rather than a dtype."""
    try:
        device(text)
    except (RuntimeError, ValueError):
        return False
    return True
