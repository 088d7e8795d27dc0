"""autograd_nn: a reverse-mode autodiff engine with a neural-network library, on NumPy and Numba."""
from . import dtypes
from .autograd import backward, grad
from .dtypes import (bfloat16, bool_, byte, can_cast, cdouble, cfloat, char, complex64, complex128, double,
                     finfo, float16, float32, float64, get_default_dtype, half, iinfo, int8, int16, int32,
                     int64, long, promote_types, set_default_dtype, short, uint8)
from .errors import AutogradError, DeviceError, DTypeError, GraphError, OpIndexError, ShapeError
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .devices import device, get_default_device, set_default_device
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .threads import get_num_threads, set_num_threads

from .version import __version__ as __version__
from ._tensor import *  # noqa: F401,F403  (Tensor, factories, exp, sum, cat, einsum, ...)
from ._tensor import return_types
from . import functional  # noqa: E402
from .errors import CheckpointError
from .serialization import load, save
from . import data, nn, optim  # noqa: E402
from . import explain, profiler, scopes, viz  # noqa: E402
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled  # noqa: E402
from .profiler import profile  # noqa: E402
from .viz import draw_graph, to_dot  # noqa: E402
from .viz.summary import LayerInfo, ModelSummary, summary  # noqa: E402
from . import amp, backends, cuda, distributions, linalg, sparse, utils  # noqa: E402  (PyTorch's modules, as on a CPU-only build)
from .amp import autocast  # noqa: E402
from .runtime_flags import (are_deterministic_algorithms_enabled, compile,  # noqa: E402
                            get_float32_matmul_precision, get_num_interop_threads,
                            inference_mode, is_inference_mode_enabled,
                            set_float32_matmul_precision, set_num_interop_threads,
                            use_deterministic_algorithms)

# PyTorch's dtype names that shadow Python builtins inside this namespace only (`autograd_nn.float`):
# defined last, so nothing in this file uses the builtins after them.
float = float32  # noqa: A001
int = int32  # noqa: A001
bool = bool_  # noqa: A001
strided = "strided"  # the only tensor layout (`layout=autograd_nn.strided`)

get_num_threads()  # reads OMP_NUM_THREADS & co. and gives NumPy's BLAS one thread (see threads.py)
