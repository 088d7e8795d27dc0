"""`autograd_nn.nn.functional`, PyTorch's spelling of `autograd_nn.functional` (import it as F).

Not a second module: importing it gives the `autograd_nn.functional` module object itself
(`autograd_nn.nn.functional is autograd_nn.functional`), as `os.path` is `posixpath`. Type checkers
see the same names through the star import below.
"""

import sys
from typing import TYPE_CHECKING

from .. import functional

if TYPE_CHECKING:
    from ..functional import *  # noqa: F403
else:
    sys.modules[__name__] = functional
