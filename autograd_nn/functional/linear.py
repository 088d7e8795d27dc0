"""F.linear and F.bilinear."""

from __future__ import annotations

from .._tensor import Tensor
from ..ops.linalg import Linear
from .arguments import tensor_args

__all__ = ["bilinear", "linear"]


@tensor_args("input", "weight", "bias", same_dtype=True)
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight^T + bias, as one graph node (PyTorch's F.linear).

    input (..., in_features), weight (out_features, in_features), bias (out_features,), all of
    one dtype (a DTypeError otherwise, as PyTorch's "mat1 and mat2 must have the same dtype").
    Integer tensors go through the operators (the fused node is float-only).
    """
    if input.dtype.kind != "f":
        y = input @ weight.T
        return y + bias if bias is not None else y
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


@tensor_args("input1", "input2", "weight", "bias", same_dtype=True)
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = input1^T A_k input2 + b_k, weight A of shape (out, in1, in2)."""
    lead = input1.shape[:-1]
    out_features, in1, in2 = weight.shape
    a = input1.reshape(-1, 1, 1, in1)  # (B, 1, 1, in1)
    w = a @ weight  # (B, out, 1, in2)
    y = (w @ input2.reshape(-1, 1, in2, 1)).reshape(*lead, out_features)  # (..., out)
    return y + bias if bias is not None else y
