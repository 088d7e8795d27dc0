"""`autograd_nn.cuda.amp`: PyTorch's older spelling of `autograd_nn.amp` (disabled: no GPU)."""

from __future__ import annotations

from typing import Any

from .. import amp as _amp

GradScaler = _amp.GradScaler


def autocast(enabled: bool = True, dtype: Any = None, cache_enabled: bool | None = None) -> _amp.autocast:
    """`torch.cuda.amp.autocast(...)`: `autocast("cuda", ...)`, disabled on this CPU-only library."""
    return _amp.autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
