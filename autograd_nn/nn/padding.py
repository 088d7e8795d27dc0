"""Padding layers: ReflectionPad, ReplicationPad, CircularPad, ZeroPad and ConstantPad in 1-D, 2-D and
3-D, each a thin module over `F.pad` with PyTorch's names, arguments, input ranks and repr.

`padding` is an int (the same on every side) or a tuple of 2 * dims widths, (left, right) for the last
dim first, then (top, bottom), then (front, back). Negative widths crop, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .._tensor import Tensor
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from .module import Module

__all__ = [
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
]


def _widths(name: str, padding: Any, dims: int) -> tuple[int, ...]:
    if isinstance(padding, (tuple, list)):
        widths = tuple(padding)
        if len(widths) != 2 * dims:
            raise ValueError(f"{name}: padding must be an int or a tuple of {2 * dims} ints, got {padding!r}")
    else:
        widths = (padding,) * (2 * dims)
    if not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
        raise TypeError(f"{name}: padding must be an int or a tuple of {2 * dims} ints, got {padding!r}")
    return widths


class _PadNd(Module):
    """Pads the last `_dims` dims of a batched or unbatched input with `F.pad(mode=_mode)`."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = _widths(type(self).__name__, padding, self._dims)
        self.value = float(value)

    def forward(self, x: Tensor) -> Tensor:
        require_tensor(type(self).__name__, "input", x, 1)
        ranks = (self._dims + 1, self._dims + 2)
        if self._mode != "constant" and x.ndim not in ranks:
            raise ShapeError(
                f"{type(self).__name__}: expected a {ranks[0]}-D (unbatched) or "
                f"{ranks[1]}-D (batched) input, got shape {x.shape}"
            )
        if x.ndim < self._dims:
            raise ShapeError(
                f"{type(self).__name__}: padding {self.padding} needs an input with at "
                f"least {self._dims} dims, got shape {x.shape}"
            )
        if self._mode == "constant":
            return F.pad(x, self.padding, mode="constant", value=self.value)
        return F.pad(x, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    """Mirror the last dim of (N, C, W) or (C, W) at its edges (the edge is not repeated)."""

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the last two dims of (N, C, H, W) or (C, H, W) at their edges."""

    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last three dims of (N, C, D, H, W) or (C, D, H, W) at their edges."""

    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge values of the last dim of (N, C, W) or (C, W)."""

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edge values of the last two dims of (N, C, H, W) or (C, H, W)."""

    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge values of the last three dims of (N, C, D, H, W) or (C, D, H, W)."""

    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap the last dim of (N, C, W) or (C, W) around (periodic boundary)."""

    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap the last two dims of (N, C, H, W) or (C, H, W) around."""

    _dims, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Wrap the last three dims of (N, C, D, H, W) or (C, D, H, W) around."""

    _dims, _mode = 3, "circular"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""

    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros."""

    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros."""

    _dims = 3


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`."""

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with `value`."""

    _dims = 3
