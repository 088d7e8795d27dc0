"""F.* activations with PyTorch's names and signatures.

Most are the Tensor methods of `_tensor/pointwise.py` (primitives in `ops/activation.py`, stable at any input
magnitude, with PyTorch's subgradients at kinks); the rest are short compositions of Tensor ops.

`inplace=True` has PyTorch's meaning: the input's memory is overwritten with the result and the
input itself is returned, its version bumped (so a backward that saved the old values refuses to
run) and, inside a graph, its history rebased onto the activation (see `autograd_nn.inplace`). The
`*_` functions (`relu_`, `leaky_relu_`, `elu_`, `hardtanh_`, `threshold_`, ...) are the same with
`inplace=True`.
"""

from __future__ import annotations

from typing import Any

from .._tensor import as_tensor as _tensor
from .._tensor import where
from ..errors import ShapeError
from ..inplace import apply_inplace
from ..ops.activation import Threshold
from ..shapes import normalize_axis
from .arguments import tensor_args

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "sigmoid",
    "tanh",
    "logsigmoid",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "softsign",
    "threshold",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "prelu",
    "glu",
    "relu_",
    "leaky_relu_",
    "elu_",
    "selu_",
    "celu_",
    "hardtanh_",
    "threshold_",
    "gumbel_softmax",
]


def _activate(op: str, input: Any, inplace: bool, method: str, *args: Any) -> Any:
    """`input.<method>(*args)`, or with `inplace` the same written into `input` (returned)."""
    x = _tensor(input)
    if not inplace:
        return getattr(x, method)(*args)
    return apply_inplace(x, op, lambda s: getattr(s, method)(*args))


@tensor_args("input")
def relu(input: Any, inplace: bool = False) -> Any:
    """max(x, 0); relu'(0) = 0."""
    return _activate("relu", input, inplace, "relu")


@tensor_args("input")
def relu6(input: Any, inplace: bool = False) -> Any:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6); the gradient is 0 at 0 and at 6."""
    return _activate("relu6", input, inplace, "hardtanh", 0.0, 6.0)


@tensor_args("input")
def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """x for x > 0, negative_slope * x otherwise (the gradient at 0 is negative_slope)."""
    return _activate("leaky_relu", input, inplace, "leaky_relu", negative_slope)


@tensor_args("input")
def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """x for x > 0, alpha * (exp(x) - 1) otherwise; the gradient at 0 is alpha."""
    return _activate("elu", input, inplace, "elu", alpha)


@tensor_args("input")
def selu(input: Any, inplace: bool = False) -> Any:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    return _activate("selu", input, inplace, "selu")


@tensor_args("input")
def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (continuously differentiable ELU)."""
    return _activate("celu", input, inplace, "celu", alpha)


@tensor_args("input")
def relu_(input: Any) -> Any:
    """`relu(input, inplace=True)`."""
    return relu(input, inplace=True)


@tensor_args("input")
def leaky_relu_(input: Any, negative_slope: float = 0.01) -> Any:
    return leaky_relu(input, negative_slope, inplace=True)


@tensor_args("input")
def elu_(input: Any, alpha: float = 1.0) -> Any:
    return elu(input, alpha, inplace=True)


@tensor_args("input")
def selu_(input: Any) -> Any:
    return selu(input, inplace=True)


@tensor_args("input")
def celu_(input: Any, alpha: float = 1.0) -> Any:
    return celu(input, alpha, inplace=True)


@tensor_args("input")
def hardtanh_(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
    return hardtanh(input, min_val, max_val, inplace=True)


@tensor_args("input")
def threshold_(input: Any, threshold: float, value: float) -> Any:
    return _threshold(input, threshold, value, inplace=True)


@tensor_args("input")
def gelu(input: Any, approximate: str = "none") -> Any:
    """x * Phi(x), Phi the standard normal CDF (exact, with erf), or approximate='tanh'."""
    return _tensor(input).gelu(approximate)


@tensor_args("input")
def silu(input: Any, inplace: bool = False) -> Any:
    """x * sigmoid(x) (swish)."""
    return _activate("silu", input, inplace, "silu")


@tensor_args("input")
def mish(input: Any, inplace: bool = False) -> Any:
    """x * tanh(softplus(x))."""
    return _activate("mish", input, inplace, "mish")


@tensor_args("input")
def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + exp(beta * x)) / beta, switching to x where beta * x > threshold."""
    return _tensor(input).softplus(beta, threshold)


@tensor_args("input")
def sigmoid(input: Any) -> Any:
    return _tensor(input).sigmoid()


@tensor_args("input")
def tanh(input: Any) -> Any:
    return _tensor(input).tanh()


@tensor_args("input")
def logsigmoid(input: Any) -> Any:
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""
    return _tensor(input).logsigmoid()


@tensor_args("input")
def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Any:
    """clamp(x, min_val, max_val); unlike clamp, the gradient is 0 at the bounds (as PyTorch)."""
    return _activate("hardtanh", input, inplace, "hardtanh", min_val, max_val)


@tensor_args("input")
def hardsigmoid(input: Any, inplace: bool = False) -> Any:
    """relu6(x + 3) / 6."""
    return _activate("hardsigmoid", input, inplace, "hardsigmoid")


@tensor_args("input")
def hardswish(input: Any, inplace: bool = False) -> Any:
    """x * relu6(x + 3) / 6."""
    return _activate("hardswish", input, inplace, "hardswish")


@tensor_args("input")
def softsign(input: Any) -> Any:
    """x / (1 + |x|)."""
    x = _tensor(input)
    return x / (x.abs() + 1.0)


@tensor_args("input")
def threshold(input: Any, threshold: float, value: float, inplace: bool = False) -> Any:
    """x where x > threshold, else value."""
    x, params = _tensor(input), {"threshold": float(threshold), "value": float(value)}
    if inplace:
        return apply_inplace(x, "threshold", lambda s: Threshold.apply(s, **params))
    return Threshold.apply(x, **params)


_threshold = threshold  # for threshold_, whose argument named `threshold` hides the function


@tensor_args("input")
def tanhshrink(input: Any) -> Any:
    """x - tanh(x)."""
    x = _tensor(input)
    return x - x.tanh()


@tensor_args("input")
def softshrink(input: Any, lambd: float = 0.5) -> Any:
    """x - lambd above lambd, x + lambd below -lambd, 0 in between (gradient 0 at +-lambd)."""
    x = _tensor(input)
    return where(x > lambd, x - lambd, where(x < -lambd, x + lambd, 0.0))


@tensor_args("input")
def hardshrink(input: Any, lambd: float = 0.5) -> Any:
    """x where |x| > lambd, else 0."""
    x = _tensor(input)
    return where(x.abs() > lambd, x, 0.0)


@tensor_args("input", "weight", same_dtype=True)
def prelu(input: Any, weight: Any) -> Any:
    """x for x > 0, weight * x otherwise; weight has 1 element or one per channel (dim 1)."""
    x, w = _tensor(input), _tensor(weight)
    n = w.numel()
    if n != 1:
        if x.ndim < 2 or x.shape[1] != n:
            raise ShapeError(
                f"prelu: weight of {n} elements does not match input of shape {x.shape} "
                "(expected 1 element or one per channel, dim 1)"
            )
        w = w.reshape(n, *([1] * (x.ndim - 2)))
    else:
        w = w.reshape(())
    return where(x > 0, x, w * x)


@tensor_args("input")
def glu(input: Any, dim: int = -1) -> Any:
    """a * sigmoid(b), where a and b are the two halves of input along `dim`."""
    x = _tensor(input)
    if x.ndim == 0 or x.shape[normalize_axis(dim, x.ndim, "glu")] % 2:
        raise ShapeError(f"glu: dim {dim} of input shape {x.shape} must have an even size")
    a, b = x.chunk(2, dim)
    return a * b.sigmoid()


@tensor_args("logits")
def gumbel_softmax(
    logits: Any, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Any:
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1) drawn as -log(Exponential(1)), PyTorch's
    recipe; with `hard`, the one-hot of the argmax in the forward and the soft gradient backward."""
    x = _tensor(logits)
    gumbels = -(x.detach() * 0.0).exponential_().log()  # fresh values of x's shape and dtype
    y_soft = ((x + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = (x.detach() * 0.0).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
