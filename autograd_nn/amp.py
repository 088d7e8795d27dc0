"""Mixed precision (`autocast`, `GradScaler`) as a CPU-only PyTorch build runs it.

autograd_nn computes in the dtype of its tensors, so autocast never lowers a precision: on a CUDA
device type it is disabled with PyTorch's own warning (as on a CPU-only PyTorch build), and on the CPU,
where PyTorch would run matmuls in bfloat16 (which NumPy does not have), it runs them in full precision
and says so once. `GradScaler` on a CPU-only build disables itself: `scale(loss)` is `loss`,
`step(optimizer)` is `optimizer.step()`, `update()` does nothing, so scripts written for AMP train
unchanged, at full precision.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

_warned = [False]


class autocast:
    """`with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):` (also a
    decorator): runs the block in the tensors' own dtypes (see the module docstring)."""

    def __init__(
        self,
        device_type: str = "cuda",
        dtype: Any = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        self.device_type, self.dtype, self.enabled = str(device_type), dtype, bool(enabled)
        if self.enabled and self.device_type != "cpu":
            warnings.warn(
                "CUDA is not available. Disabling autocast (autograd_nn runs on the CPU).",
                UserWarning,
                stacklevel=2,
            )
            self.enabled = False
        elif self.enabled and not _warned[0]:
            _warned[0] = True
            warnings.warn(
                "autocast on the CPU: autograd_nn computes in each tensor's own dtype (NumPy "
                "has no bfloat16), so the block runs in full precision.",
                UserWarning,
                stacklevel=2,
            )

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


def is_autocast_available(device_type: str) -> bool:
    return device_type == "cpu"


class GradScaler:
    """PyTorch's gradient scaler, disabled as on a CPU-only build (see the module docstring)."""

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        if enabled:
            warnings.warn(
                "GradScaler is enabled, but CUDA is not available. Disabling (autograd_nn "
                "runs on the CPU in full precision).",
                UserWarning,
                stacklevel=2,
            )
        self._enabled = False

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs: Any) -> Any:
        return outputs

    def unscale_(self, optimizer: Any) -> None:
        return None

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: Any = None) -> None:
        return None

    def get_scale(self) -> float:
        return 1.0

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        return None
