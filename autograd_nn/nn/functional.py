"""`autograd_nn.nn.functional`, PyTorch's spelling of `autograd_nn.functional` (import it as F)."""
from ..functional import *  # noqa: F401,F403
