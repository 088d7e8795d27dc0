"""Exception types.

Each is also the builtin exception PyTorch raises in the same situation, so code ported from PyTorch
catches it (`except RuntimeError` around a shape or dtype mistake, `except IndexError` around an index
out of range), and each keeps the builtin it subclassed before, so code written for this library keeps
working (`except ValueError` for shapes, `except TypeError` for dtypes):

| error           | PyTorch raises | also (this library's earlier base) |
|-----------------|----------------|------------------------------------|
| ShapeError      | RuntimeError   | ValueError                         |
| DTypeError      | RuntimeError   | TypeError                          |
| OpIndexError    | IndexError     |                                    |
| GraphError      | RuntimeError   |                                    |
| CheckpointError | RuntimeError   | ValueError                         |
| DeviceError     | RuntimeError   | AssertionError (CUDA on a CPU-only PyTorch build) |
"""

from __future__ import annotations

from collections.abc import Iterable


class AutogradError(Exception):
    """Base class of every error this library raises on purpose."""


class ShapeError(AutogradError, ValueError, RuntimeError):
    """Shapes that do not fit the operation (broadcasting, matmul, reshape, a layer's input, ...).

    A ValueError, and a RuntimeError as PyTorch raises for the same mistakes ("mat1 and mat2
    shapes cannot be multiplied"), so code written for either catches it."""


class DTypeError(AutogradError, TypeError, RuntimeError):
    """A dtype the operation cannot take (requires_grad on an integer tensor, a float64 input to
    a float32 layer, ...).

    A TypeError, and a RuntimeError as PyTorch raises for the same mistakes ("mat1 and mat2 must
    have the same dtype"), so code written for either catches it."""


class OpIndexError(AutogradError, IndexError):
    """An index or axis out of range."""


class GraphError(AutogradError, RuntimeError):
    """Misuse of the graph: backward through a freed graph, non-scalar root without a gradient, ..."""


class CheckpointError(AutogradError, RuntimeError, ValueError):
    """A checkpoint file that is corrupt, unsafe or does not match the model."""


class DistributedError(AutogradError, RuntimeError):
    """Multi-process training misused or out of step: no process group, ranks that disagree."""


class DeviceError(AutogradError, RuntimeError, AssertionError):
    """A device this library does not have (it computes on the CPU only)."""


def describe(arrays: Iterable[object]) -> str:
    """'shapes (2, 3) float32, (3,) float64' for error messages."""
    parts = []
    for a in arrays:
        shape = getattr(a, "shape", None)
        dtype = getattr(a, "dtype", type(a).__name__)
        parts.append(f"{tuple(shape) if shape is not None else '()'} {dtype}")
    return ", ".join(parts)
