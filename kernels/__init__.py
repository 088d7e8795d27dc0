"""Numba kernels: plain array code, `@njit(cache=True)`, installed as `autograd_nn.kernels`.

Numba does the data reshuffles and the loops that have no BLAS equivalent; BLAS (through NumPy) does
the multiply-adds. This package never imports `autograd_nn`; only `autograd_nn/ops/` imports it.
Each public function validates its inputs before the jitted loop runs, so a loop never reads out of
bounds.

- `conv`: im2col / col2im (2-D with stride, padding, dilation; 1-D as H = 1).
- `pool`: max pooling with argmax, average pooling, their backward passes, window helpers.
- `scatter`: scatter-add of rows (embedding and advanced-index gradients).
- `rnn_layer`: one time step of an LSTM/GRU/RNN layer, forward and backward, into given buffers.
"""

from .conv import col2im, conv_output_size, im2col
from .pool import (
    adaptive_windows,
    avg_pool,
    avg_pool_backward,
    max_pool,
    pool_output_size,
    pool_windows,
    scatter_planes,
)
from .scatter import scatter_add_rows

__all__ = [
    "adaptive_windows",
    "avg_pool",
    "avg_pool_backward",
    "col2im",
    "conv_output_size",
    "im2col",
    "max_pool",
    "pool_output_size",
    "pool_windows",
    "scatter_add_rows",
    "scatter_planes",
]
