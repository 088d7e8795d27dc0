"""ONNX export: `autograd_nn.onnx.export(model, args, f, ...)`, with torch.onnx.export's signature.

The `onnx` package is an optional extra (`pip install 'autograd-nn[onnx]'`): importing this package
does not import it; `export` does, and says how to install it when it is missing. See export.py for
how a model becomes a graph, and recurrent.py for why RNN/LSTM/GRU are ONNX's own operators.
`to_dot(proto)` draws an exported graph's structure with Graphviz, next to `autograd_nn.to_dot`.
"""

from .builder import ExportError
from .draw import to_dot
from .export import export

__all__ = ["export", "to_dot"]
