"""Tensor: an ndarray, whether it needs a gradient, and the op that made it.

The state lives in `function.TensorBase` (what the engine and the ops touch). This file holds the core
(construction, values out, graph, dtype, arithmetic operators, in-place updates); the named methods
live in mixins, one file per family: `pointwise.py` (maths and activations), `binary.py` (copysign,
logaddexp, isclose, ...), `reductions.py` (reductions, softmax, sorting) and `shaping.py` (reshaping,
joining and indexing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..autograd import PostAccumulateGradHookHandle
from ..autograd import backward as _backward
from ..devices import as_device
from ..errors import DTypeError, ShapeError
from ..function import TensorBase, share_version
from ..ops import elementwise as ew
from ..ops.linalg import MatMul
from ..shapes import shape_arg
from .binary import BinaryMixin
from .compat import CompatMixin
from .convert import as_array
from .counting import CountingMixin
from .inplace import InplaceMixin
from .linalg import LinalgMixin
from .placement import PlacementMixin
from .pointwise import MathMixin
from .reductions import ReduceMixin
from .sampling import SamplingMixin
from .shaping import ShapeMixin

_NUMBERS = frozenset({int, float})


class Tensor(
    MathMixin,
    BinaryMixin,
    ReduceMixin,
    ShapeMixin,
    InplaceMixin,
    PlacementMixin,
    LinalgMixin,
    SamplingMixin,
    CountingMixin,
    CompatMixin,
    TensorBase,
):
    """An n-dimensional array that records the operations applied to it, for reverse-mode autodiff.

    `Tensor(...)` is PyTorch's legacy constructor: `Tensor(2, 3)` is a (2, 3) tensor of zeros (PyTorch
    leaves the values undefined), `Tensor([1, 2])` copies the data into the default float dtype,
    `Tensor(ndarray)` shares the array's memory when it already has the default float dtype (as
    PyTorch does for a float32 array) and converts otherwise, and `Tensor(tensor)` is an alias of the
    tensor. `dtype=` (this library's addition) keeps data of that dtype as is: `Tensor(a, a.dtype)`
    wraps any array without a copy. Prefer `autograd_nn.tensor(...)` (copies, infers the dtype),
    `as_tensor` / `from_numpy` (share memory, keep the dtype).
    """

    __slots__ = ()
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator
    __array_priority__ = 1000

    def __init__(
        self, *args: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
    ) -> None:
        as_device(device)
        self._data = _legacy_array(args, dtype)
        self.grad = None
        self._ctx = None
        self._retains_grad = False
        self._version = 0
        self._hooks = None
        self._post_hooks = None
        self.name = None
        self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool) -> Tensor:
        """A plain Tensor around an array the library just made (no checks, no copy): the hot path
        of every op. Always a `Tensor`, also when called on a subclass (ops on a Parameter give a
        Tensor, as in PyTorch)."""
        t = Tensor.__new__(Tensor)
        t._data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._retains_grad = False
        t._version = 0
        t._hooks = None
        t._post_hooks = None
        t.name = None
        t._base = None
        return t

    # ---- basic properties -------------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The Function that produced this tensor (None for leaves)."""
        return self._ctx

    def size(self, dim: int | None = None) -> Any:
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__  # == is elementwise, so identity hashing

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self._data.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={self._data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    # ---- values out -------------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """This tensor's values as a new Tensor outside the graph, sharing memory (PyTorch's `.data`).

        In-place changes through it (`p.data.add_(g, alpha=-lr)`) change this tensor without being
        recorded and, as in PyTorch, without bumping this tensor's version (`detach()` is the alias
        that keeps the check). Assigning (`p.data = other`) makes this tensor use other's memory.
        """
        return Tensor._make(self._data, False)

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, TensorBase) else value
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Tensor.data: assigned value must be a Tensor, got {type(value).__name__}")
        with self._inplace("Tensor.data", check=False):
            self._data = arr

    def numpy(self, force: bool = False) -> np.ndarray:
        """The underlying array (shared memory; `force=True` gives a copy, as PyTorch's does when it
        must move or detach). Detach first if you mean to modify it."""
        if force:
            return self._data.copy()
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """NumPy functions accept Tensors (`np.asarray(t)`), as they accept PyTorch's CPU tensors."""
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise ValueError(f"item(): the tensor has {self._data.size} elements, not 1")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    # ---- graph ------------------------------------------------------------------------------
    def backward(
        self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`."""
        _backward(self, gradient, retain_graph, create_graph)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad_: only floating-point tensors can require gradients, got {self.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise ValueError("requires_grad_(False) on a non-leaf tensor: use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut off from the graph; it shares this tensor's version counter, so an
        in-place change through it still makes a backward that saved the values refuse to run."""
        out = Tensor._make(self._data, False)
        share_version(self, out)
        return out

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def register_hook(self, hook: Any) -> Any:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise ValueError("register_hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return hook

    def register_post_accumulate_grad_hook(self, hook: Any) -> PostAccumulateGradHookHandle:
        """Call `hook(tensor)` once this leaf's `.grad` holds its complete gradient of a backward pass.

        The backward pass runs it as soon as every op that used this leaf has sent its gradient, not
        at the end of the pass, so work started in the hook (DistributedDataParallel's gradient
        all-reduce) overlaps the rest of the backward. Returns a handle whose `remove()` unregisters it.
        """
        if not self.requires_grad or self._ctx is not None:
            raise ValueError(
                "register_post_accumulate_grad_hook: only leaf tensors that require grad "
                "accumulate a .grad; this one is "
                + ("not a leaf" if self._ctx is not None else "not requiring grad")
            )
        if self._post_hooks is None:
            self._post_hooks = {}
        return PostAccumulateGradHookHandle(self._post_hooks, hook)

    # ---- operators --------------------------------------------------------------------------
    def _operand(self, other: Any) -> tuple[Tensor, Tensor]:
        """Make `other` a Tensor and bring both to the result dtype (PyTorch's promotion rules)."""
        da = self._data.dtype
        if isinstance(other, Tensor):
            db = other._data.dtype
            if da is db or da == db:
                return self, other
            if (da.kind == "f") == (db.kind == "f"):
                return self, other  # NumPy's promotion agrees with PyTorch's here
            out = dtypes.promote(da, db)
            return self.astype(out), other.astype(out)
        if isinstance(other, (int, float, bool, np.generic)):
            value = other.item() if isinstance(other, np.generic) else other
            out = dtypes.scalar_result(da, value)
            return self.astype(out), Tensor._make(np.asarray(value, dtype=out), False)
        arr = as_array(other, op="binary op")
        out = da if da.kind == "f" else dtypes.promote(da, arr.dtype)
        return self.astype(out), Tensor._make(arr.astype(out, copy=False), False)

    def _scalar_ok(self, other: Any) -> bool:
        """True when `other` is a Python number that keeps this (floating) tensor's dtype."""
        return type(other) in _NUMBERS and self._data.dtype.kind == "f"

    def __add__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.AddScalar.apply(self, c=other)
        return ew.Add.apply(*self._operand(other))

    def __radd__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.AddScalar.apply(self, c=other)
        a, b = self._operand(other)
        return ew.Add.apply(b, a)

    def __sub__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.AddScalar.apply(self, c=-other)
        return ew.Sub.apply(*self._operand(other))

    def __rsub__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.RSubScalar.apply(self, c=other)
        a, b = self._operand(other)
        return ew.Sub.apply(b, a)

    def __mul__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.MulScalar.apply(self, c=other)
        return ew.Mul.apply(*self._operand(other))

    def __rmul__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.MulScalar.apply(self, c=other)
        a, b = self._operand(other)
        return ew.Mul.apply(b, a)

    def __truediv__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.DivScalar.apply(self, c=other)
        a, b = self._operand(other)
        if a._data.dtype.kind != "f":  # true division of ints gives floats, as in PyTorch
            a, b = a.astype(dtypes.get_default_dtype()), b.astype(dtypes.get_default_dtype())
        return ew.Div.apply(a, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        if self._scalar_ok(other):
            return ew.RDivScalar.apply(self, c=other)
        a, b = self._operand(other)
        if a._data.dtype.kind != "f":
            a, b = a.astype(dtypes.get_default_dtype()), b.astype(dtypes.get_default_dtype())
        return ew.Div.apply(b, a)

    def __neg__(self) -> Tensor:
        return ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            if self._data.dtype.kind != "f" and isinstance(other, int) and other < 0:
                raise DTypeError(
                    f"pow: Integers to negative integer powers are not allowed "
                    f"({self._data.dtype} tensor ** {other})"
                )
            if self._data.dtype.kind != "f" and isinstance(other, float):
                return self.astype(dtypes.get_default_dtype()) ** other
            return ew.PowScalar.apply(self, exponent=other)
        return ew.Pow.apply(*self._operand(other))

    def __rpow__(self, other: Any) -> Tensor:
        if (
            isinstance(other, (int, float))
            and not isinstance(other, bool)
            and other > 0
            and (isinstance(other, float) or self._data.dtype.kind == "f")
        ):
            base = self if self._data.dtype.kind == "f" else self.astype(dtypes.get_default_dtype())
            return ew.RPowScalar.apply(base, base=other)
        a, b = self._operand(other)
        return ew.Pow.apply(b, a)

    def __matmul__(self, other: Any) -> Tensor:
        return MatMul.apply(*self._operand(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        a, b = self._operand(other)
        return MatMul.apply(b, a)

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    # comparisons give bool tensors, outside the graph
    def _compare(self, other: Any, ufunc: Any) -> Tensor:
        b = other._data if isinstance(other, Tensor) else other
        try:
            return Tensor._make(np.asarray(ufunc(self._data, b)), False)
        except ValueError as err:
            raise ShapeError(f"{ufunc.__name__}: {err} (shapes {self.shape} and {np.shape(b)})") from None

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__


def _legacy_array(args: tuple, dtype: Any) -> np.ndarray:
    """The array of PyTorch's legacy `Tensor(...)` constructor (see the class docstring)."""
    dtype = None if dtype is None else dtypes.as_dtype(dtype, "Tensor")
    if not args:
        return np.zeros((0,), dtype or dtypes.get_default_dtype())
    if len(args) > 1 or (isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool)):
        shape = shape_arg("Tensor", args)
        if any(n < 0 for n in shape):
            raise ValueError(f"Tensor: negative size in {shape}")
        return np.zeros(shape, dtype or dtypes.get_default_dtype())
    data = args[0]
    if dtype is None and isinstance(data, TensorBase):
        return data._data
    return as_array(data, dtypes.get_default_dtype() if dtype is None else dtype, op="Tensor")
