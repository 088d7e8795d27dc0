"""Residual blocks: x + fn(x), and ResNet blocks that match torchvision's layout and numbers.

torchvision is not a dependency, so its BasicBlock and Bottleneck are restated here in PyTorch, line
for line, as the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.errors import ShapeError
from tests.helpers import RNG
from tests.test_nn_layers import check_module_parity


def torch_blocks(torch):
    """torchvision.models.resnet's BasicBlock and Bottleneck, restated."""
    tnn = torch.nn

    def conv3x3(i, o, stride=1, groups=1, dilation=1):
        return tnn.Conv2d(i, o, 3, stride, dilation, groups=groups, bias=False, dilation=dilation)

    def conv1x1(i, o, stride=1):
        return tnn.Conv2d(i, o, 1, stride, bias=False)

    class BasicBlock(tnn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1, self.bn1 = conv3x3(inplanes, planes, stride), tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2, self.bn2 = conv3x3(planes, planes), tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class Bottleneck(tnn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
            super().__init__()
            width = int(planes * (base_width / 64.0)) * groups
            self.conv1, self.bn1 = conv1x1(inplanes, width), tnn.BatchNorm2d(width)
            self.conv2 = conv3x3(width, width, stride, groups, dilation)
            self.bn2 = tnn.BatchNorm2d(width)
            self.conv3, self.bn3 = conv1x1(width, planes * 4), tnn.BatchNorm2d(planes * 4)
            self.relu = tnn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            return self.relu(self.bn3(self.conv3(out)) + identity)

    def downsample(i, o, stride):
        return tnn.Sequential(conv1x1(i, o, stride), tnn.BatchNorm2d(o))

    return BasicBlock, Bottleneck, downsample


CASES = [
    ("BasicBlock", (4, 4), {}, None),
    ("BasicBlock", (4, 6, 2), {}, (4, 6, 2)),
    ("Bottleneck", (16, 4), {}, None),
    ("Bottleneck", (8, 4, 2), {"groups": 2, "base_width": 32}, (8, 16, 2)),
    ("Bottleneck", (16, 4), {"dilation": 2}, None),
]


@pytest.mark.parametrize("name,args,kwargs,down", CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("to_torch", [True, False])
def test_resnet_blocks_match_torchvision(torch, name, args, kwargs, down, to_torch):
    basic, bottleneck, tdown = torch_blocks(torch)
    ours_down = nn.make_downsample(*down) if down else None
    ours = getattr(nn, name)(*args, downsample=ours_down, **kwargs)
    theirs = (basic if name == "BasicBlock" else bottleneck)(
        *args, downsample=tdown(*down) if down else None, **kwargs
    )
    x = RNG.standard_normal((2, args[0], 6, 6))
    check_module_parity(ours, theirs, x, torch, np.float64, to_torch, steps=2)
    ours.eval()
    theirs.eval()
    check_module_parity(ours, theirs, x, torch, np.float64, to_torch=False)


def test_resnet_block_state_dict_keys():
    block = nn.BasicBlock(4, 8, 2, downsample=nn.make_downsample(4, 8, 2))
    keys = list(block.state_dict())
    assert keys[:2] == ["conv1.weight", "bn1.weight"]
    assert "downsample.0.weight" in keys and "downsample.1.running_var" in keys
    assert nn.make_downsample(8, 8, 1) is None
    assert isinstance(nn.make_downsample(8, 16), nn.Sequential)
    gn = nn.make_downsample(8, 16, 2, norm_layer=lambda c: nn.GroupNorm(4, c))
    assert isinstance(gn[1], nn.GroupNorm)


def test_resnet_block_gradcheck():
    block = nn.BasicBlock(2, 2).double()
    x = ag.tensor(RNG.standard_normal((2, 2, 3, 3)), requires_grad=True)
    assert ag.gradcheck(lambda t: block(t), [x], max_elements=36)


def test_resnet_block_errors():
    with pytest.raises(ValueError, match="groups=1"):
        nn.BasicBlock(4, 4, groups=2)
    with pytest.raises(ValueError, match="dilation"):
        nn.BasicBlock(4, 4, dilation=2)
    with pytest.raises(ShapeError, match="Conv2d"):
        nn.BasicBlock(4, 4)(ag.randn(1, 3, 5, 5))
    with pytest.raises(ShapeError):  # stride 2 without a downsample: the shapes cannot add
        nn.BasicBlock(4, 4, stride=2)(ag.randn(1, 4, 6, 6))


def test_residual_adds_the_input():
    branch = nn.Linear(3, 3)
    block = nn.Residual(branch)
    x = ag.randn(2, 3, requires_grad=True)
    np.testing.assert_allclose(block(x).numpy(), x.numpy() + branch(x).numpy(), rtol=1e-6)
    block(x).sum().backward()
    np.testing.assert_allclose(
        x.grad.numpy(), 1 + branch.weight.numpy().sum(0, keepdims=True).repeat(2, 0), rtol=1e-5
    )
    assert list(block.state_dict()) == ["fn.weight", "fn.bias"]
    with pytest.raises(ShapeError, match="Residual"):
        nn.Residual(nn.Linear(3, 4))(x)
    deep = nn.Sequential(*[nn.Residual(nn.Sequential(nn.LayerNorm(8), nn.Linear(8, 8))) for _ in range(20)])
    assert deep(ag.randn(4, 8)).shape == (4, 8)
