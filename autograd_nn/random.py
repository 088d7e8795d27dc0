"""The library's random state: one NumPy Generator, reseeded by `manual_seed`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import numpy as np

_generator = [np.random.default_rng(0)]
_seed = [0]


def manual_seed(seed: int) -> np.random.Generator:
    """Seed everything random in autograd_nn (factories, init, dropout, data shuffling)."""
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}") from None
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _generator[0] = np.random.default_rng(seed)
    _seed[0] = seed
    return _generator[0]


def generator() -> np.random.Generator:
    """The current Generator (use it for any randomness, so `manual_seed` controls it)."""
    return _generator[0]


def get_rng_state() -> Mapping[str, Any]:
    return _generator[0].bit_generator.state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore a state from `get_rng_state()`."""
    try:
        _generator[0].bit_generator.state = state
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"set_rng_state: expected a state from get_rng_state(), got {type(state).__name__} ({err})"
        ) from None


class Generator:
    """PyTorch's `Generator`: a random stream of its own, for `randperm`, `randn`, `DataLoader`,
    `random_split`, ... (`generator=` arguments); backed by a NumPy Generator.

    `Generator().manual_seed(0)` returns the generator, as in PyTorch, so it can be built in one line.
    """

    def __init__(self, device: object = "cpu") -> None:
        from .devices import as_device

        self.device = as_device(device)
        self._seed = 67280421310721  # PyTorch's default seed of a new generator
        self._numpy = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be non-negative, got {seed}")
        self._seed = seed
        self._numpy = np.random.default_rng(seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(cast(int, np.random.SeedSequence().entropy)) % (2**63))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Mapping[str, Any]:
        return self._numpy.bit_generator.state

    def set_state(self, state: Mapping[str, Any]) -> Generator:
        self._numpy.bit_generator.state = state
        return self

    def numpy_generator(self) -> np.random.Generator:
        """The NumPy Generator that draws this stream."""
        return self._numpy


def resolve(gen: Generator | np.random.Generator | None) -> np.random.Generator:
    """The NumPy Generator behind a `generator=` argument (None: the library's own)."""
    if gen is None:
        return _generator[0]
    if isinstance(gen, np.random.Generator):
        return gen
    if isinstance(gen, Generator):
        return gen.numpy_generator()
    raise TypeError(f"generator: expected an autograd_nn.Generator, got {type(gen).__name__}")


def seed() -> int:
    """Reseed the library's generator from fresh entropy (PyTorch's `torch.seed`); returns the seed."""
    value = int(cast(int, np.random.SeedSequence().entropy)) % (2**63)
    manual_seed(value)
    return value


def initial_seed() -> int:
    """The seed the library's generator was last seeded with."""
    return _seed[0]
