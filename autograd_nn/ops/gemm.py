"""Matrix products split over autograd_nn's thread pool (see `threads.py`).

BLAS runs single-threaded inside autograd_nn, so a product large enough to be worth it is cut into
blocks of the result (rows, or columns when there are few rows, or whole matrices of a batch), one
BLAS call per block, the blocks on the pool's threads. A block is the same product on a slice, so the
result matches one GEMM to rounding, and for a fixed thread count it is bit-for-bit the same every
time (the split depends only on the shapes and the thread count).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..threads import blocks, get_num_threads, parallel_for

# Below this many multiply-adds per thread the pool's hand-off costs more than the second core gains.
# The hand-off depends on the host: 20-50 us on one 2-core machine (where a 128x784x256 product, 26 M,
# gained 1.6x split in two), 80-130 us on another (where 8.4 M products ran 1.7x slower split and
# 26 M ones gained 1.05x). A fixed threshold keeps results bit-identical for a fixed thread count;
# 8 M per thread avoids the loss on slow hosts and still splits the products that gain on fast ones.
MIN_MACS_PER_THREAD = 1 << 23


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """np.matmul(a, b, out=out), split over the pool when the product is large enough."""
    threads = get_num_threads()
    if threads == 1 or a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b, out=out)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if m * k * n < MIN_MACS_PER_THREAD * 2 and a.ndim == 2 and b.ndim == 2:  # the common small case
        return np.matmul(a, b, out=out)
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = math.prod(lead)
    parts = min(threads, count * m * k * n // MIN_MACS_PER_THREAD)
    if parts < 2 or k != b.shape[-2]:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty(lead + (m, n), np.result_type(a.dtype, b.dtype))
    if count >= parts and a.shape[:-2] == b.shape[:-2]:  # whole matrices of the batch per block
        a3, b3, o3 = a.reshape(-1, m, k), b.reshape(-1, k, n), out.reshape(-1, m, n)
        spans = blocks(count, parts)

        def batch_block(i: int) -> None:
            s, e = spans[i]
            np.matmul(a3[s:e], b3[s:e], out=o3[s:e])

        parallel_for(len(spans), batch_block)
    elif m >= n:  # rows of the result
        spans = blocks(m, parts)

        def row_block(i: int) -> None:
            s, e = spans[i]
            np.matmul(a[..., s:e, :], b, out=out[..., s:e, :])

        parallel_for(len(spans), row_block)
    else:  # columns of the result
        spans = blocks(n, parts)

        def col_block(i: int) -> None:
            s, e = spans[i]
            np.matmul(a, b[..., s:e], out=out[..., s:e])

        parallel_for(len(spans), col_block)
    return out


def matmul_any(a: Any, b: Any) -> Any:
    """a @ b for arrays (split over the pool) or Tensors (a graph node, for create_graph)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return matmul(a, b)
    return a @ b
