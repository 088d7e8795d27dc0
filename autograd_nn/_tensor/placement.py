"""Where a tensor lives and what type it has, under PyTorch's names: `device`, `to(...)`, `cpu()`,
`cuda()`, `type()`, `float()`/`double()`/..., `new_zeros`/`new_ones`/`new_full`/`new_empty`/
`new_tensor`, and the flags ported code tests (`is_cuda`, `is_floating_point()`, ...).

Every tensor is on the CPU: moving to it returns the tensor itself (as PyTorch does when nothing
changes), and moving anywhere else raises a DeviceError that says this library runs on the CPU. A dtype
change is a recorded op (the gradient flows back, cast to the original dtype).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import dtypes
from ..devices import CPU, as_device, device, unavailable
from ..errors import DTypeError
from ..function import TensorBase
from ..ops import elementwise as ew
from ..shapes import shape_arg
from .convert import as_array


def _is_dtype_like(value: Any) -> bool:
    return isinstance(value, (np.dtype, type, dtypes.UnsupportedDType)) or (
        isinstance(value, str) and not _is_device_string(value)
    )


def _is_device_string(value: str) -> bool:
    try:
        device(value)
    except (RuntimeError, ValueError):
        return False
    return True


class PlacementMixin(TensorBase):
    __slots__ = ()

    # ---- device -----------------------------------------------------------------------------------
    @property
    def device(self) -> device:
        return CPU

    is_cpu = True
    is_cuda = is_xpu = is_mps = is_meta = is_quantized = is_mkldnn = is_nested = False
    is_sparse = False
    layout = "strided"

    def get_device(self) -> int:
        """-1, PyTorch's answer for a tensor on the CPU."""
        return -1

    def cpu(self, memory_format: Any = None) -> Any:
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Any:
        raise unavailable("cuda" if device is None else str(device))

    def pin_memory(self, device: Any = None) -> Any:
        return self

    def is_pinned(self, device: Any = None) -> bool:
        return False

    def share_memory_(self) -> Any:
        return self

    def is_shared(self) -> bool:
        return False

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0])

    # ---- dtype ------------------------------------------------------------------------------------
    def astype(self, dtype: Any) -> Any:
        """This tensor in another dtype (itself if already that dtype); recorded for floats."""
        dtype = dtypes.as_dtype(dtype, "astype")
        if dtype == self._data.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            return self._make(self._data.astype(dtype), False)
        return ew.Cast.apply(self, dtype=dtype)

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """PyTorch's three forms: `to(dtype)`, `to(device=None, dtype=None)` and `to(other)` (other's
        dtype), each with `non_blocking` and `copy` (a new tensor even when nothing changes)."""
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        copy = bool(kwargs.pop("copy", False))
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
        rest = list(args)
        if rest and isinstance(rest[0], TensorBase):
            dtype = rest.pop(0).dtype
        elif rest and (
            isinstance(rest[0], device)
            or rest[0] is None
            or (
                isinstance(rest[0], (str, int))
                and not isinstance(rest[0], bool)
                and not _is_dtype_like(rest[0])
            )
        ):
            dev = rest.pop(0)
            if rest and _is_dtype_like(rest[0]):
                dtype = rest.pop(0)
        elif rest and _is_dtype_like(rest[0]):
            dtype = rest.pop(0)
        if rest and isinstance(rest[0], bool):  # to(dtype, non_blocking, copy) positionally
            copy = bool(rest[1]) if len(rest) > 1 else copy
            rest = []
        if rest:
            raise TypeError(f"to(): could not read arguments {args!r} as a device, dtype or tensor")
        as_device(dev)
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if copy and out is self else out

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """With no argument, PyTorch's type name ('torch.FloatTensor'); else `to(dtype)`, where
        dtype may also be a type name ('torch.DoubleTensor')."""
        if dtype is None:
            name = dtypes.TENSOR_TYPE_NAMES.get(self._data.dtype)
            if name is None:
                raise DTypeError(f"type(): no PyTorch type name for dtype {self._data.dtype}")
            return f"torch.{name}"
        if isinstance(dtype, str) and "cuda" in dtype:
            as_device("cuda")
        return self.astype(dtype)

    def type_as(self, other: Any) -> Any:
        return self.astype(other.dtype)

    def float(self, memory_format: Any = None) -> Any:
        return self.astype(np.float32)

    def double(self, memory_format: Any = None) -> Any:
        return self.astype(np.float64)

    def half(self, memory_format: Any = None) -> Any:
        return self.astype(np.float16)

    def bfloat16(self, memory_format: Any = None) -> Any:
        return self.astype(dtypes.bfloat16)

    def long(self, memory_format: Any = None) -> Any:
        return self.astype(np.int64)

    def int(self, memory_format: Any = None) -> Any:
        return self.astype(np.int32)

    def short(self, memory_format: Any = None) -> Any:
        return self.astype(np.int16)

    def char(self, memory_format: Any = None) -> Any:
        return self.astype(np.int8)

    def byte(self, memory_format: Any = None) -> Any:
        return self.astype(np.uint8)

    def bool(self, memory_format: Any = None) -> Any:
        return self.astype(np.bool_)

    def is_floating_point(self) -> builtins.bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> builtins.bool:
        return False

    def is_signed(self) -> builtins.bool:
        return self._data.dtype.kind in "if"

    def element_size(self) -> builtins.int:
        return self._data.itemsize

    @property
    def itemsize(self) -> builtins.int:
        return self._data.itemsize

    @property
    def nbytes(self) -> builtins.int:
        return self._data.nbytes

    # ---- new tensors like this one (this dtype unless told otherwise) ------------------------------
    def _new(self, data: np.ndarray, dtype: Any, dev: Any, requires_grad: builtins.bool) -> Any:
        as_device(dev)
        if dtype is not None:
            data = data.astype(dtypes.as_dtype(dtype), copy=False)
        out = self._make(data, False)
        return out.requires_grad_(True) if requires_grad else out

    def new_zeros(
        self,
        *size: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
        layout: Any = None,
        pin_memory: builtins.bool = False,
    ) -> Any:
        return self._new(np.zeros(shape_arg("new_zeros", size), self.dtype), dtype, device, requires_grad)

    def new_ones(
        self,
        *size: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
        layout: Any = None,
        pin_memory: builtins.bool = False,
    ) -> Any:
        return self._new(np.ones(shape_arg("new_ones", size), self.dtype), dtype, device, requires_grad)

    def new_empty(
        self,
        *size: Any,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
        layout: Any = None,
        pin_memory: builtins.bool = False,
    ) -> Any:
        """Zeros (PyTorch leaves the values undefined; zeros keep runs reproducible)."""
        return self._new(np.zeros(shape_arg("new_empty", size), self.dtype), dtype, device, requires_grad)

    def new_full(
        self,
        size: Any,
        fill_value: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
        layout: Any = None,
        pin_memory: builtins.bool = False,
    ) -> Any:
        value = fill_value.item() if isinstance(fill_value, TensorBase) else fill_value
        return self._new(
            np.full(shape_arg("new_full", (size,)), value, self.dtype), dtype, device, requires_grad
        )

    def new_tensor(
        self,
        data: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: builtins.bool = False,
        layout: Any = None,
        pin_memory: builtins.bool = False,
    ) -> Any:
        """A copy of `data` with this tensor's dtype unless `dtype` is given (torch's new_tensor)."""
        arr = np.array(as_array(data), dtype=self.dtype if dtype is None else dtypes.as_dtype(dtype))
        return self._new(arr, None, device, requires_grad)

    # ---- formatting -------------------------------------------------------------------------------
    def __format__(self, spec: str) -> str:
        """A one-element tensor formats as its number (`f"{loss:.4f}"`); others as their repr."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(
                f"unsupported format string {spec!r} passed to Tensor.__format__ (only "
                "0-d tensors take a format spec; use .item() or .tolist())"
            )
        return repr(self)
