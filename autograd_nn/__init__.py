"""autograd_nn: a reverse-mode autodiff engine with a neural-network library, on NumPy and Numba."""
from . import dtypes
from .autograd import backward, grad
from .dtypes import (bool_, double, float16, float32, float64, get_default_dtype, half, int8, int16,
                     int32, int64, long, set_default_dtype, uint8)
from .errors import AutogradError, DTypeError, GraphError, OpIndexError, ShapeError
from .factories import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
                        ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor,
                        zeros, zeros_like)
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .random import manual_seed
from .tensor import Tensor

__version__ = "0.1.0"
from .tensor_math import *  # noqa: F401,F403  (exp, where, maximum, ...)
from .tensor_reduce import *  # noqa: F401,F403  (sum, mean, logsumexp, sort, ...)
from .tensor_shape import *  # noqa: F401,F403  (cat, stack, einsum, ...)
from . import functional  # noqa: E402
from .errors import CheckpointError
from .serialization import load, save
from . import data, nn, optim  # noqa: E402
from . import explain, profiler, scopes, viz  # noqa: E402
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled  # noqa: E402
from .profiler import profile  # noqa: E402
from .viz import draw_graph, to_dot  # noqa: E402
from .summary import LayerInfo, ModelSummary, summary  # noqa: E402
