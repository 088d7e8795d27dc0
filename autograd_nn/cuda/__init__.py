"""`autograd_nn.cuda`: what `torch.cuda` answers on a CPU-only PyTorch build.

`is_available()` is False and `device_count()` 0, seeding and cache calls do nothing, memory counters
are 0, and calls that need a GPU (`synchronize`, `current_device`, `get_device_name`, ...) raise a
DeviceError (a RuntimeError, and the AssertionError PyTorch raises there) saying this library runs on
the CPU. `autograd_nn.cuda.amp` holds the disabled `autocast` and `GradScaler`.
"""

from __future__ import annotations

from typing import Any

from ..devices import unavailable
from . import amp

__all__ = [
    "amp",
    "is_available",
    "device_count",
    "is_initialized",
    "is_bf16_supported",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "empty_cache",
    "memory_allocated",
    "max_memory_allocated",
    "memory_reserved",
    "max_memory_reserved",
    "reset_peak_memory_stats",
    "synchronize",
    "current_device",
    "set_device",
    "get_device_name",
    "get_device_properties",
    "get_device_capability",
]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Nothing to seed: there is no GPU (seed the CPU with `autograd_nn.manual_seed`)."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed: there is no GPU."""


def seed() -> None:
    """Nothing to seed: there is no GPU."""


def seed_all() -> None:
    """Nothing to seed: there is no GPU."""


def empty_cache() -> None:
    """No GPU memory to free."""


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def max_memory_reserved(device: Any = None) -> int:
    return 0


def reset_peak_memory_stats(device: Any = None) -> None:
    """No GPU memory statistics to reset."""


def synchronize(device: Any = None) -> None:
    raise unavailable("cuda", "cuda.synchronize")


def current_device() -> int:
    raise unavailable("cuda", "cuda.current_device")


def set_device(device: Any) -> None:
    raise unavailable(str(device), "cuda.set_device")


def get_device_name(device: Any = None) -> str:
    raise unavailable("cuda", "cuda.get_device_name")


def get_device_properties(device: Any = None) -> Any:
    raise unavailable("cuda", "cuda.get_device_properties")


def get_device_capability(device: Any = None) -> Any:
    raise unavailable("cuda", "cuda.get_device_capability")
