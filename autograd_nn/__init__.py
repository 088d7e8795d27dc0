"""autograd_nn: a reverse-mode autodiff engine with a neural-network library, on NumPy and Numba."""

from . import (
    amp,
    backends,
    cuda,
    data,
    distributions,
    dtypes,
    explain,
    functional,
    linalg,
    nn,
    optim,
    profiler,
    scopes,
    sparse,
    utils,
    viz,
)
from ._tensor import *  # noqa: F403  (Tensor, factories, exp, sum, cat, einsum, ...)
from ._tensor import return_types
from .amp import autocast
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .autograd import backward, grad
from .devices import device, get_default_device, set_default_device
from .dtypes import (
    bfloat16,
    bool_,
    byte,
    can_cast,
    cdouble,
    cfloat,
    char,
    complex64,
    complex128,
    double,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from .errors import (
    AutogradError,
    CheckpointError,
    DeviceError,
    DTypeError,
    GraphError,
    OpIndexError,
    ShapeError,
)
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .profiler import profile
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .runtime_flags import (
    are_deterministic_algorithms_enabled,
    compile,
    get_float32_matmul_precision,
    get_num_interop_threads,
    inference_mode,
    is_inference_mode_enabled,
    set_float32_matmul_precision,
    set_num_interop_threads,
    use_deterministic_algorithms,
)
from .serialization import load, save
from .threads import get_num_threads, set_num_threads
from .version import __version__ as __version__
from .viz import draw_graph, to_dot
from .viz.summary import LayerInfo, ModelSummary, summary

# PyTorch's dtype names that shadow Python builtins inside this namespace only (`autograd_nn.float`):
# defined last, so nothing in this file uses the builtins after them.
float = float32
int = int32
bool = bool_
strided = "strided"  # the only tensor layout (`layout=autograd_nn.strided`)

get_num_threads()  # reads OMP_NUM_THREADS & co. and gives NumPy's BLAS one thread (see threads.py)
