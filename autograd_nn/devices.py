"""Devices, as PyTorch names them. autograd_nn computes on the CPU only.

`device("cpu")`, the string `"cpu"` (or `"cpu:0"`) and `None` all mean the CPU and are accepted wherever
PyTorch takes a `device=` argument, so code written for PyTorch runs unchanged. Asking for an
accelerator (`"cuda"`, `"mps"`, ...) is an error that says so, rather than a silent fallback.
"""

from __future__ import annotations

from typing import Any

_ACCELERATORS = ("cuda", "mps", "xpu", "xla", "hip", "meta", "vulkan", "ipu", "hpu", "mtia", "privateuseone")


class device:  # noqa: N801  (PyTorch's spelling)
    """A device: `device("cpu")`, `device("cpu", 0)` or `device("cpu:0")`."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string or a device, got {type.__class__.__name__}")
        name, _, idx = type.partition(":")
        if idx:
            if index is not None:
                raise ValueError(f"device: index given twice in device({type!r}, {index})")
            if not idx.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(idx)
        if name in _ACCELERATORS:
            raise RuntimeError(
                f"device: autograd_nn runs on the CPU only, so device {type!r} is not available "
                "(use 'cpu'; autograd_nn.cuda.is_available() is False)"
            )
        if name != "cpu":
            raise RuntimeError(f"device: unknown device type {name!r} (autograd_nn has only 'cpu')")
        self.type = "cpu"
        self.index = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def as_device(value: Any) -> device:
    """`None`, a string or a device as a device; an accelerator raises a clear RuntimeError."""
    if value is None:
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        raise RuntimeError(f"device: device ordinal {value} names an accelerator; autograd_nn runs on the CPU only")
    return value if isinstance(value, device) else device(value)
