"""The library's random state: one NumPy Generator, reseeded by `manual_seed`."""
from __future__ import annotations

import numpy as np

_generator = [np.random.default_rng(0)]


def manual_seed(seed: int) -> np.random.Generator:
    """Seed everything random in autograd_nn (factories, init, dropout, data shuffling)."""
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}") from None
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _generator[0] = np.random.default_rng(seed)
    return _generator[0]


def generator() -> np.random.Generator:
    """The current Generator (use it for any randomness, so `manual_seed` controls it)."""
    return _generator[0]


def get_rng_state() -> dict:
    return _generator[0].bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator[0].bit_generator.state = state
