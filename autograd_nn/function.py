"""`Function`: the base of every differentiable primitive.

A primitive is a class with `forward` and `backward` side by side. `forward` gets plain ndarrays and
returns one ndarray; `backward` gets the gradient of the output and returns one gradient per input
(or None). The engine reduces each gradient to its input's shape, so ops never undo broadcasting.

Values the backward rule needs are stored with `self.save(...)` and read back as `self.saved`. For a
first-order backward these are the arrays themselves. For `create_graph=True` the engine hands the rule
the *Tensors* those arrays belong to (an input or the output), and the gradient as a Tensor, so the same
rule, written with operators and methods that arrays and Tensors share (see `ops/dual.py`), builds a
differentiable graph. Extra state that is not an input or the output (indices, masks) is saved as plain
attributes; a float intermediate saved with `save` makes the op first-order only.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DTypeError, OpIndexError, ShapeError, describe
from .grad_mode import _state


class TensorBase:
    """The state of a tensor that the engine and the ops read and write; `Tensor` adds the methods.

    Ops sit below `Tensor` in the layering, so they never import it: they build results through
    `_make` on a tensor they were given, which `Tensor` defines to return a plain `Tensor`.
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_ctx",
        "_data",
        "_hooks",
        "_post_hooks",
        "_retains_grad",
        "_version",
        "grad",
        "name",
        "requires_grad",
    )
    _data: np.ndarray
    grad: Any  # a Tensor or None
    requires_grad: bool
    _ctx: Function | None
    _retains_grad: bool
    _version: int
    _hooks: list[Any] | None
    _post_hooks: dict[int, Any] | None  # post-accumulate-grad hooks of a leaf, by handle id
    name: str | None
    _base: TensorBase | None  # the tensor whose memory (and version counter) this one shares

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool) -> Any:
        """A new plain Tensor around `data` (no checks, no copy): the hot path of every op."""
        raise TypeError(f"{cls.__name__} does not define _make; subclass Tensor instead")

    if TYPE_CHECKING:
        # What the engine, the ops and the Tensor mixins call on a tensor: `Tensor` or one of its
        # mixins defines each (so mypy checks those definitions against these signatures).
        def _operand(self, other: Any) -> tuple[TensorBase, TensorBase]: ...
        def astype(self, dtype: Any) -> TensorBase: ...
        def reshape(self, *shape: Any) -> TensorBase: ...
        def clone(self) -> TensorBase: ...
        def narrow(self, dim: int, start: int, length: int) -> TensorBase: ...
        def scatter_add(self, dim: int, index: Any, src: Any) -> TensorBase: ...
        def clamp(self, min: Any = None, max: Any = None) -> TensorBase: ...
        def log(self) -> TensorBase: ...
        def item(self) -> Any: ...
        def numel(self) -> int: ...
        def requires_grad_(self, requires_grad: bool = True) -> TensorBase: ...
        def __add__(self, other: Any) -> TensorBase: ...
        def __radd__(self, other: Any) -> TensorBase: ...
        def __sub__(self, other: Any) -> TensorBase: ...
        def __rsub__(self, other: Any) -> TensorBase: ...
        def __mul__(self, other: Any) -> TensorBase: ...
        def __rmul__(self, other: Any) -> TensorBase: ...
        def __truediv__(self, other: Any) -> TensorBase: ...
        def __rtruediv__(self, other: Any) -> TensorBase: ...
        def __neg__(self) -> TensorBase: ...
        def __pow__(self, other: Any) -> TensorBase: ...
        def __rpow__(self, other: Any) -> TensorBase: ...

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def _inplace(self, op: str, *, check: bool = True) -> InplaceWrite:
        """The one door for changing a tensor's values in place, outside the graph or not.

        Every write into a tensor's array, and every swap of the array for another one, goes
        through it, so the version counter cannot be forgotten::

            with p._inplace("SGD.step") as array:  # the tensor's array, to write into
                array -= lr * grad
            with t._inplace("Tensor.data", check=False):
                t._data = new_array  # or take another array as the values

        On a clean exit the version is stamped (on the tensor that owns the memory: the `_base`
        of a view or detached alias, so every alias sees the change; see `bump_version`). If the
        block raises, nothing is stamped. With `check` (the default) the change is refused up
        front for a read-only array and for a tensor that requires grad while the graph is being
        recorded (change parameters under `no_grad()`). `check=False` is for callers that made
        their own checks or cannot refuse: an in-place op being recorded in the graph
        (`inplace.apply_inplace`), an array swap (`p.data = x`), a collective whose memory MPI
        already filled.
        """
        if check:
            if self.requires_grad and _state.enabled:
                raise RuntimeError(
                    f"{op}: in-place change of a tensor that requires grad while recording the graph; "
                    "wrap it in no_grad() (parameter updates) or use the out-of-place form"
                )
            check_writable(self, op)
        return InplaceWrite(self)


class InplaceWrite:
    """The context `TensorBase._inplace` returns: gives the array, stamps the version on success."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: TensorBase) -> None:
        self.tensor = tensor

    def __enter__(self) -> np.ndarray:
        return self.tensor._data

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, traceback: Any) -> None:
        if kind is None:
            bump_version(self.tensor)


def check_writable(t: TensorBase, op: str) -> None:
    """Refuse to write into a read-only array (a read-only NumPy array wrapped without a copy, or
    an expanded view)."""
    if not t._data.flags.writeable:
        raise ValueError(
            f"{op}: the tensor of shape {t.shape} is read-only (it wraps a read-only "
            "NumPy array or is an expanded view); copy it with .clone() first"
        )


# One clock orders everything: each recorded op takes the next tick as its `created` time (so
# creation order is a topological order, which the backward pass walks), and each in-place change of
# a tensor stamps the tensor's version with the next tick. If a value an op saved was stamped later
# than the op was created, backward would read a changed value: the engine refuses.
#
# Tensors that share memory share one version, as in PyTorch: a view (`x[0]`, `x.view(...)`,
# `x.t()`) and `x.detach()` keep a reference to the tensor that owns the memory (`_base`), and the
# version lives on that owner. `x.data` does not share it (PyTorch's documented escape hatch).
_clock = itertools.count(1)
last_inplace = [0]  # the tick of the latest in-place change anywhere (a cheap "nothing changed")
last_rebase = [0]  # the tick of the latest in-place op recorded in a graph (see `rebase`)


def tick() -> int:
    """The next tick of the clock."""
    return next(_clock)


def version_owner(t: Any) -> Any:
    """The tensor that holds `t`'s version counter: its base for views and detached aliases."""
    base = t._base
    return t if base is None else base


def version_of(t: Any) -> int:
    """The tick of the latest in-place change of `t`'s memory (0 if never changed)."""
    base = t._base
    return t._version if base is None else base._version


def share_version(owner: Any, alias: Any) -> None:
    """Make `alias` (a view or detached alias of `owner`'s memory) share `owner`'s version."""
    alias._base = version_owner(owner)


def bump_version(t: Any) -> None:
    """Record that `t._data` was modified in place: the implementation of `TensorBase._inplace`,
    which is what the rest of the library calls."""
    version_owner(t)._version = last_inplace[0] = next(_clock)


def reads_memory(fn: Function, array: np.ndarray) -> bool:
    """Whether the backward of `fn` may read `array`'s memory: through a value it saved (`save`) or
    an array it kept as a plain attribute (fused ops keep views of their input), the array itself or
    a view of it."""
    for value in (*fn.saved, *fn.__dict__.values()):
        if isinstance(value, np.ndarray) and (value is array or np.may_share_memory(value, array)):
            return True
    return False


class Instrument:
    """Observes ops while installed (profiler, anomaly mode, module scopes for graph pictures).

    Installed per thread with `grad_mode._state.instrument`; when none is installed the hot path pays
    one attribute check. Subclasses override what they need and call the `run` they are given.
    """

    def apply(self, cls: type, inputs: tuple, params: dict, run: Any) -> Any:
        return run(cls, inputs, params)

    def backward(self, ctx: Function, g: Any, run: Any) -> Any:
        return run(g)

    def backward_pass(self, run: Any) -> Any:
        """Wraps a whole backward pass (whose node rules each go through `backward`)."""
        return run()

    def inplace(self, target: Any, result: Any) -> None:
        """An in-place op wrote the values of `result` (the output of the op just applied) into
        `target`, which stands for them from now on (see `inplace.apply_inplace`)."""


class Function:
    """Base class of primitives. Subclasses define `forward(*arrays, **params)` and `backward(g)`."""

    parents: tuple | None
    needs_input_grad: tuple
    saved: tuple = ()
    differentiable_backward = True  # False: only first-order gradients (raises under create_graph)
    is_view = False  # True: the output may share the first input's memory (reshape, permute, x[i])

    def save(self, *values: Any) -> None:
        self.saved = values

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, g: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.backward")

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run forward on the inputs' arrays; link the graph when grad mode is on and an input needs it."""
        instrument: Instrument | None = _state.instrument
        if instrument is not None:
            return instrument.apply(cls, inputs, params, _run)
        return _run(cls, inputs, params)

    def release(self) -> None:
        """Drop everything backward needed; a second backward through this node then fails clearly."""
        created = self.__dict__.get("created", 0)
        rebased_from = self.__dict__.get("rebased_from")
        self.__dict__.clear()
        self.parents = None
        self.created = created  # still ordered, so a second backward reaches it and fails clearly
        if rebased_from is not None:  # older consumers of the modified tensor still route through it
            self.rebased_from = rebased_from


def _run(cls: type[Function], inputs: tuple, params: dict) -> Any:
    """The plain forward of `Function.apply`."""
    fn = cls.__new__(cls)
    needs = tuple([t.requires_grad for t in inputs])
    track = _state.enabled and True in needs
    fn.needs_input_grad = needs if track else (False,) * len(needs)
    arrays = [t._data for t in inputs]
    try:
        data = fn.forward(*arrays, **params)
    except (ValueError, TypeError, IndexError, ZeroDivisionError) as err:
        raise _clear_error(cls.__name__, arrays, params, err) from None
    if type(data) is not np.ndarray:  # NumPy gives scalars for 0-d results: keep saved identity
        scalar, data = data, np.asarray(data)
        if fn.saved:
            fn.saved = tuple(data if s is scalar else s for s in fn.saved)
    out = inputs[0]._make(data, track)
    if cls.is_view and np.may_share_memory(data, arrays[0]):
        share_version(inputs[0], out)
    if track:
        fn.parents = inputs
        fn.created = next(_clock)
        out._ctx = fn
    return out


def _clear_error(op: str, arrays: list, params: dict, err: Exception) -> Exception:
    """Turn a NumPy error from inside an op into one that names the op, shapes and dtypes."""
    if isinstance(err, (ShapeError, DTypeError, OpIndexError)):
        return err
    where = f"{op}: {err} (inputs: {describe(arrays)}"
    where += f"; {', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else ")"
    if isinstance(err, ZeroDivisionError):
        return ZeroDivisionError(where)
    if isinstance(err, IndexError):
        return OpIndexError(where)
    if isinstance(err, TypeError):
        return DTypeError(where)
    return ShapeError(where)
