"""Devices, as PyTorch names them. autograd_nn computes on the CPU only.

`device("cpu")`, the string `"cpu"` (or `"cpu:0"`) and `None` all mean the CPU and are accepted wherever
PyTorch takes a `device=` argument, so code written for PyTorch runs unchanged. As in PyTorch, a device
object for an accelerator can be *described* (`device("cuda")`, compared, printed): code such as
`device("cuda" if cuda.is_available() else "cpu")` builds one on the way. Putting anything on it
(`.to("cuda")`, `zeros(3, device="cuda")`, `.cuda()`) is an error that says this library runs on the
CPU, rather than a silent fallback.
"""

from __future__ import annotations

from typing import Any

from .errors import DeviceError

# PyTorch's device types; all but the CPU are accelerators this library does not have.
_ACCELERATORS = (
    "cuda",
    "mps",
    "xpu",
    "xla",
    "hip",
    "meta",
    "vulkan",
    "ipu",
    "hpu",
    "mtia",
    "privateuseone",
    "lazy",
    "ve",
    "ort",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "fpga",
    "maia",
)


class device:
    """A device: `device("cpu")`, `device("cpu", 0)`, `device("cpu:0")` (or an accelerator's name,
    which can be described but not used)."""

    __slots__ = ("index", "type")
    type: str
    index: int | None

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, int) and not isinstance(type, bool):  # device(0) means an accelerator
            raise unavailable(f"device({type})", "device ordinal")
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string or a device, got {type.__class__.__name__}")
        name, _, idx = type.partition(":")
        if idx:
            if index is not None:
                raise ValueError(f"device: index given twice in device({type!r}, {index})")
            if not idx.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(idx)
        if name != "cpu" and name not in _ACCELERATORS:
            raise RuntimeError(
                f"device: unknown device type {name!r} in {type!r} (autograd_nn runs on "
                "'cpu'; PyTorch's accelerator names are recognised but not available)"
            )
        if index is not None and index < 0:
            raise RuntimeError(f"device: device index must not be negative, got {index}")
        self.type = name
        self.index = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and (other.type, other.index) == (self.type, self.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __enter__(self) -> device:
        """`with device("cpu"):` (PyTorch's default-device context) is accepted; others refused."""
        as_device(self)
        return self

    def __exit__(self, *exc: object) -> None:
        return None


CPU = device("cpu")


def unavailable(name: str, what: str = "device") -> DeviceError:
    """The error for asking to use an accelerator (a RuntimeError, and an AssertionError as CUDA
    calls raise on a CPU-only PyTorch build)."""
    return DeviceError(
        f"{what} {name!r}: autograd_nn runs on the CPU only, so this device is not available "
        "(use 'cpu'; autograd_nn.cuda.is_available() is False, as on a CPU-only PyTorch build)"
    )


def as_device(value: Any) -> device:
    """A device to put tensors on: `None`, 'cpu', 'cpu:N' or `device('cpu')`, as the CPU device.
    An accelerator (a name, a device, or an int ordinal, which PyTorch reads as a CUDA device) raises
    a RuntimeError that says this library runs on the CPU."""
    if value is None:
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        raise unavailable(f"cuda:{value}", "device ordinal")
    d = value if isinstance(value, device) else device(value)
    if d.type != "cpu":
        raise unavailable(str(d))
    return CPU


_default_device = [CPU]


def set_default_device(value: Any) -> None:
    """PyTorch's `set_default_device`: only the CPU (or None) is accepted."""
    _default_device[0] = as_device(value)


def get_default_device() -> device:
    return _default_device[0]
