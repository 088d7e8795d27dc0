"""`autograd_nn.functional` (also `autograd_nn.nn.functional`, usually imported as F).

Composite functions built from Tensor ops (and fused ops where a benchmark showed they pay), with
PyTorch's names and signatures. One file per family.
"""

from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .conv import *  # noqa: F403
from .conv3d import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .indexing import *  # noqa: F403
from .interpolate import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .norm import *  # noqa: F403
from .pooling import *  # noqa: F403
from .pooling3d import *  # noqa: F403
from .rearrange import *  # noqa: F403
from .softmax import *  # noqa: F403
