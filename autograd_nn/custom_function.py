"""PyTorch's way of writing a custom differentiable operation: `autograd.Function` with static
`forward(ctx, *args)` and `backward(ctx, *grads)` working on Tensors, called through `.apply`.

Ported code uses it for gradient reversal, straight-through estimators and hand-written derivatives:

    class GradReverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, alpha):
            ctx.alpha = alpha
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.neg() * ctx.alpha, None

`apply` runs `forward` with grad mode off, then links each output into the graph with a node whose
rule calls the user's `backward` (with Tensors: first-order gradients arrive as constants, and
under `create_graph=True` the user's backward is itself recorded). An output that is one of the
inputs is returned as a new tensor sharing its memory, so the input's own history stays intact.
With several outputs, each gets a node that calls `backward` with zeros for the others; the sum of
those calls is the one call PyTorch makes, as a backward is linear in the output gradients.

(The library's own primitives subclass `function.Function`, which works on arrays; this class is
for code written against PyTorch.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import GraphError
from .function import Function as _Primitive
from .function import TensorBase, share_version, tick
from .grad_mode import _state


class FunctionCtx:
    """The `ctx` handed to `forward` and `backward`: saves tensors and carries anything else."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        """Accepted: in-place changes inside forward are the user's responsibility here."""

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self.non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class _UserNode(_Primitive):
    """The graph node of one output of a user Function (see the module docstring)."""

    user_fn: type[Function]
    user_ctx: FunctionCtx
    outputs: list[TensorBase]  # the Tensor outputs of the call
    index: int  # this node's output among them
    arg_positions: tuple[int, ...]  # where the Tensor arguments sit among the arguments

    def backward(self, g: Any) -> Any:
        fn, ctx, outputs, index = self.user_fn, self.user_ctx, self.outputs, self.index
        assert self.parents is not None  # the engine never runs a released node
        like = self.parents[0]
        grads = []
        for i, out in enumerate(outputs):
            if i == index:
                grads.append(g if isinstance(g, TensorBase) else like._make(np.asarray(g), False))
            elif ctx.materialize_grads:
                grads.append(like._make(np.zeros(out.shape, out.dtype), False))
            else:
                grads.append(None)
        result = fn.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        picked = []
        for position in self.arg_positions:
            value = result[position] if position < len(result) else None
            if value is None or isinstance(g, TensorBase):
                picked.append(value)
            else:
                picked.append(value._data if isinstance(value, TensorBase) else np.asarray(value))
        return tuple(picked)

    @property
    def name(self) -> str:
        return f"{self.user_fn.__name__}Backward"


class Function:
    """Base class of custom operations written PyTorch's way (see the module docstring)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("autograd.Function subclasses define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("autograd.Function subclasses define a static backward(ctx, ...)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        tensor_args = [(i, a) for i, a in enumerate(args) if isinstance(a, TensorBase)]
        needs = tuple(isinstance(a, TensorBase) and a.requires_grad for a in args)
        track = _state.enabled and any(needs)
        ctx = FunctionCtx(needs if track else (False,) * len(args))
        previous = _state.enabled
        _state.enabled = False
        try:
            result = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.enabled = previous
        single = not isinstance(result, tuple)
        outputs = [result] if single else list(result)
        inputs = {id(a) for _, a in tensor_args}
        for i, out in enumerate(outputs):
            if isinstance(out, TensorBase) and id(out) in inputs:  # forward returned an input
                alias = out._make(out._data, False)
                share_version(out, alias)
                outputs[i] = alias
        if track:
            if not tensor_args:
                raise GraphError(f"{cls.__name__}.apply: no Tensor arguments to differentiate")
            skip: set[int] = getattr(ctx, "non_differentiable", set())
            tensors = [o for o in outputs if isinstance(o, TensorBase)]
            for _index, out in enumerate(outputs):
                if not isinstance(out, TensorBase) or id(out) in skip or out.dtype.kind != "f":
                    continue
                node = _UserNode.__new__(_UserNode)
                node.parents = tuple(a for _, a in tensor_args)
                node.needs_input_grad = tuple(a.requires_grad for _, a in tensor_args)
                node.arg_positions = tuple(i for i, _ in tensor_args)
                node.user_fn, node.user_ctx = cls, ctx
                node.index = next(k for k, t in enumerate(tensors) if t is out)
                node.outputs = tensors
                node.created = tick()
                out._ctx, out.requires_grad = node, True
        return outputs[0] if single else tuple(outputs)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:
    """PyTorch's legacy `Variable(tensor)`: since PyTorch 0.4 the tensor itself."""
    if not isinstance(data, TensorBase):
        raise TypeError(f"Variable: expected a Tensor, got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data
