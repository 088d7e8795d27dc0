"""Convolution layers: Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d.

Weights have PyTorch's layout ((out, in / groups, *k) for convolutions, (in, out / groups, *k) for
transposed ones) and PyTorch's default init: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)), with the bias drawn from the same bound. The maths is in `F.conv*`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import functional as F
from .._tensor import Tensor, empty
from ..devices import as_device
from ..errors import ShapeError
from ..functional.arguments import require_tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(name: str, value: Any, n: int) -> tuple[int, ...]:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(vals) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in vals)


class _ConvNd(Module):
    """Shared construction, init and checks for the convolution layers. Its constructor is the one
    of Conv1d/2d/3d (PyTorch's arguments and defaults); the transposed ones add output_padding."""

    _dims = 0
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        output_padding: Any = 0,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        super().__init__()
        n, name = self._dims, type(self).__name__
        if output_padding != 0 and not self._transposed:
            raise TypeError(f"{name}.__init__() got an unexpected keyword argument 'output_padding'")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must both be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple("kernel_size", kernel_size, n)
        if min(self.kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size!r}")
        self.stride = _ntuple("stride", stride, n)
        self.dilation = _ntuple("dilation", dilation, n)
        self.output_padding = _ntuple("output_padding", output_padding, n)
        self.padding_mode = padding_mode
        self.padding: str | tuple[int, ...]  # 'same', 'valid' or one int per spatial dim
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(
                    f"{name}: padding must be an int, a tuple, 'valid' or 'same' "
                    f"(strings only for convolutions), got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions (stride={self.stride})"
                )
            self.padding = padding
        else:
            self.padding = _ntuple("padding", padding, n)
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(shape, dtype=dtype))
        self.bias = Parameter(empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = init.default_bound(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x: Tensor) -> None:
        n, name = self._dims, type(self).__name__
        require_tensor(name, "input", x, 1)
        if x.ndim not in (n + 1, n + 2):
            raise ShapeError(
                f"{name}({self.in_channels}, {self.out_channels}): expected a "
                f"{n + 2}-D (N, C, ...) or {n + 1}-D unbatched input, got shape "
                f"{x.shape}"
            )
        channels = x.shape[-n - 1]
        if channels != self.in_channels:
            raise ShapeError(
                f"{name}({self.in_channels}, {self.out_channels}): expected "
                f"{self.in_channels} input channels, got input of shape {x.shape}"
            )

    def _pad_input(self, x: Tensor) -> tuple[Tensor, Any]:
        """Pad with a non-zero padding mode up front (then convolve unpadded), as PyTorch does."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if self.padding == "valid":
            return x, 0
        if self.padding == "same":
            widths: list[int] = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                widths += [total // 2, total - total // 2]
        else:
            assert isinstance(self.padding, tuple)  # the strings are handled above
            widths = [p for p in reversed(self.padding) for _ in range(2)]
        return F.pad(x, widths, mode=self.padding_mode), 0  # (N, C, *padded)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0,) * self._dims, "valid"):
            s += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={self.padding}"
            )
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out)."""

    _dims = 1

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        x, padding = self._pad_input(x)
        return F.conv1d(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )  # (N, C_out, L_out)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    padding may be an int, a pair, 'valid' or 'same'; groups=in_channels gives a depthwise conv.
    """

    _dims = 2

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        x, padding = self._pad_input(x)
        return F.conv2d(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )  # (N, C_out, H_out, W_out)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        as_device(device)  # the CPU; an accelerator raises a DeviceError
        if padding_mode != "zeros":
            raise ValueError(
                f"{type(self).__name__}: only padding_mode='zeros' is supported "
                f"(as in PyTorch), got {padding_mode!r}"
            )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding=output_padding,
        )

    def _output_padding(self, x: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """The output_padding that gives `output_size` (PyTorch's rule), else the configured one."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        size = tuple(output_size)[-n:]
        pads = []
        for i in range(n):
            base = (
                (x.shape[-n + i] - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            extra = size[i] - base
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ShapeError(
                    f"{type(self).__name__}: requested output size {tuple(size)} is "
                    f"not reachable from input shape {x.shape}"
                )
            pads.append(extra)
        return tuple(pads)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (N, C_in, L) -> (N, C_out, L_out): learned upsampling."""

    _dims = 1

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        self._check_input(x)
        return F.conv_transpose1d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )  # (N, C_out, L_out)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    _dims = 2

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        self._check_input(x)
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )  # (N, C_out, H_out, W_out)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out) (volumes, video).

    padding may be an int, a triple, 'valid' or 'same'; padding_mode as for Conv2d.
    """

    _dims = 3

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        x, padding = self._pad_input(x)
        return F.conv3d(
            x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )  # (N, C_out, D_out, H_out, W_out)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""

    _dims = 3

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        self._check_input(x)
        return F.conv_transpose3d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(x, output_size),
            self.groups,
            self.dilation,
        )  # (N, C_out, D_out, H_out, W_out)
