"""Residual blocks: the generic `Residual(fn)` (x + fn(x)) and torchvision's ResNet blocks.

`BasicBlock` and `Bottleneck` use torchvision's attribute names (conv1, bn1, conv2, bn2, conv3, bn3,
downsample, with downsample.0 the 1x1 conv and downsample.1 its norm), so their state dicts load
to and from torchvision's ResNets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ..errors import ShapeError
from .activation import ReLU
from .container import Sequential
from .conv import Conv2d
from .module import Module
from .normalization import BatchNorm2d

__all__ = ["Residual", "BasicBlock", "Bottleneck", "conv3x3", "conv1x1", "make_downsample"]

NormLayer = Callable[[int], Module]


class Residual(Module):
    """x + fn(x): the skip connection that lets very deep networks train (He et al., 2016)."""

    def __init__(self, fn: Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        y = self.fn(x, *args, **kwargs)
        if y.shape != x.shape:
            raise ShapeError(
                f"Residual({type(self.fn).__name__}): the branch maps {x.shape} to "
                f"{y.shape}; a residual branch must keep the shape"
            )
        return x + y


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> Conv2d:
    """3x3 convolution with padding (no bias: a norm layer follows)."""
    return Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Conv2d:
    """1x1 convolution (no bias)."""
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


def make_downsample(
    inplanes: int, outplanes: int, stride: int = 1, norm_layer: NormLayer | None = None
) -> Sequential | None:
    """The projection shortcut (1x1 conv + norm) when the block changes stride or width, else None."""
    if stride == 1 and inplanes == outplanes:
        return None
    norm_layer = BatchNorm2d if norm_layer is None else norm_layer
    return Sequential(conv1x1(inplanes, outplanes, stride), norm_layer(outplanes))


class BasicBlock(Module):
    """Two 3x3 convolutions with a skip connection (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: NormLayer | None = None,
    ) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise ValueError("BasicBlock does not support dilation > 1 (use Bottleneck)")
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)  # (N, planes, H/s, W/s)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H/s, W/s)
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(Module):
    """1x1 reduce, 3x3 (strided, grouped), 1x1 expand by 4, with a skip (ResNet-50 and up).

    The stride sits on the 3x3 convolution (torchvision's "ResNet v1.5").
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: NormLayer | None = None,
    ) -> None:
        super().__init__()
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)  # (N, 4 planes, H/s, W/s)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, width, H/s, W/s)
        out = self.bn3(self.conv3(out))  # (N, 4 planes, H/s, W/s)
        return self.relu(out + identity)
