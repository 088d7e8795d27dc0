"""Exception types. Each is also a standard Python exception, so `except ValueError` still works."""


class AutogradError(Exception):
    """Base class of every error this library raises on purpose."""


class ShapeError(AutogradError, ValueError):
    """Shapes that do not fit the operation (broadcasting, matmul, reshape, ...)."""


class DTypeError(AutogradError, TypeError):
    """A dtype the operation cannot take (e.g. requires_grad on an integer tensor)."""


class OpIndexError(AutogradError, IndexError):
    """An index or axis out of range."""


class GraphError(AutogradError, RuntimeError):
    """Misuse of the graph: backward through a freed graph, non-scalar root without a gradient, ..."""


class CheckpointError(AutogradError, ValueError):
    """A checkpoint file that is corrupt, unsafe or does not match the model."""


class DistributedError(AutogradError, RuntimeError):
    """Multi-process training misused or out of step: no process group, ranks that disagree."""


def describe(arrays) -> str:
    """'shapes (2, 3) float32, (3,) float64' for error messages."""
    parts = []
    for a in arrays:
        shape = getattr(a, "shape", None)
        dtype = getattr(a, "dtype", type(a).__name__)
        parts.append(f"{tuple(shape) if shape is not None else '()'} {dtype}")
    return ", ".join(parts)
