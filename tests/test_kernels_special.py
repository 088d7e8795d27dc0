"""kernels/special.py against the C library's erf, with and without the JIT."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from autograd_nn.kernels import special


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_kernel_matches_math_erf(dtype):
    x = np.concatenate([np.linspace(-6, 6, 1001), [0.0, -0.0, 1e-30, 30.0, -30.0]]).astype(dtype)
    expected = np.array([math.erf(float(v)) for v in x])
    out = special.erf(x.reshape(-1, 2)[:, ::-1])  # non-contiguous input
    assert out.dtype == dtype and out.shape == (x.size // 2, 2)
    np.testing.assert_allclose(
        out[:, ::-1].reshape(-1),
        expected,
        rtol=1e-6 if dtype == np.float32 else 1e-15,
        atol=1e-7 if dtype == np.float32 else 0,
    )


def test_erf_kernel_rejects_integers():
    with pytest.raises(TypeError, match="float32/float64"):
        special.erf(np.arange(3))


def test_erf_kernel_without_jit():
    code = (
        "import math, numpy as np; from autograd_nn.kernels import special; "
        "x = np.linspace(-3, 3, 7); assert np.allclose(special.erf(x), [math.erf(v) for v in x])"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
