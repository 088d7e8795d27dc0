"""`autograd_nn.backends`: the switches `torch.backends` has on a CPU-only PyTorch build.

`backends.cudnn` and `backends.mps` say they are not available; their flags (`cudnn.benchmark`,
`cudnn.deterministic`, ...) can be set, as ported scripts do at the top, and change nothing.
"""

from . import cuda, cudnn, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
