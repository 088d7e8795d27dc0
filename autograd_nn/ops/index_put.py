"""`IndexPut`: a copy of a tensor with the elements at an index replaced by values.

It is the out-of-place form of assignment (`x[index] = v`, `index_put_`, `scatter_`, `index_fill_`,
`index_copy_`); the in-place forms run it and write the result back (see `autograd_nn.inplace`).
The gradient of the tensor is the output gradient with the replaced positions zeroed; the gradient
of the values is the output gradient read at the index (summed back to the values' shape by the
engine when they were broadcast).

The index is a sequence of NumPy index steps applied one after the other: all but the last are
basic indices (ints and slices, which give views), so PyTorch's rule that integers select before
advanced indices apply can be kept for assignment too. When an index names a position twice, the
last value written wins, as in NumPy (PyTorch leaves the choice undefined).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from . import dual
from .index import getitem_any, normalize_index


def _target(arr: Any, steps: tuple) -> Any:
    """The view of `arr` that the last step indexes into."""
    for step in steps[:-1]:
        arr = arr[step]
    return arr


class IndexPut(Function):
    """a with a[steps] = v (steps: see the module docstring); v broadcasts to the indexed shape."""

    def forward(self, a, v, steps, advanced):
        self.steps, self.advanced = steps, advanced
        out = a.copy()
        _target(out, steps)[steps[-1]] = v
        return out

    def backward(self, g):
        steps = self.steps
        ga = gv = None
        if self.needs_input_grad[0]:
            if dual.is_tensor(g):
                keep = np.ones(g.shape, dtype=bool)
                _target(keep, steps)[steps[-1]] = False
                ga = dual.where(keep, g, 0.0)
            else:
                ga = g.copy()
                _target(ga, steps)[steps[-1]] = 0
        if self.needs_input_grad[1]:
            gv = g
            for step in steps[:-1]:
                gv = getitem_any(gv, step, False)
            gv = getitem_any(gv, steps[-1], self.advanced)
        return ga, gv


def index_steps(index: Any, shape: tuple, op: str = "__setitem__") -> tuple[tuple, bool]:
    """A PyTorch index as IndexPut's steps: integers first when mixed with advanced indices."""
    idx, advanced = normalize_index(index, shape, op)
    ints = [isinstance(it, int) for it in idx]
    if advanced and any(ints):
        first = tuple(
            it if isinstance(it, int) or it is Ellipsis else slice(None) for it in idx if it is not None
        )
        rest = tuple(it for it, is_int in zip(idx, ints) if not is_int)
        return (first, rest), advanced
    return (idx,), advanced
