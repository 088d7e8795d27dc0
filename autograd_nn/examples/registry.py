"""The registry of runnable examples: `python -m autograd_nn --example NAME`.

Each example is a function `run(out_dir, quick=False) -> dict` decorated with `@example(...)`; it
trains a model from `autograd_nn.nn` on built-in data, writes its pictures and checkpoints into
`out_dir`, and returns its headline metrics. `quick=True` shrinks it for tests and notebooks in CI.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

# Modules that register examples when imported (kept in one place so the CLI can list them).
EXAMPLE_MODULES = (
    "autograd_nn.examples.cnn",
    "autograd_nn.examples.resnet",
    "autograd_nn.examples.unet",
    "autograd_nn.examples.normalization",
    "autograd_nn.examples.lora",
    "autograd_nn.examples.micrograd",
    "autograd_nn.examples.mlp",
    "autograd_nn.examples.autoencoders",
    "autograd_nn.examples.gan",
    "autograd_nn.examples.gcn",
    "autograd_nn.examples.sequence",
    "autograd_nn.examples.gpt",
    "autograd_nn.examples.t5",
    "autograd_nn.examples.bert",
    "autograd_nn.examples.vit",
    "autograd_nn.examples.text_classifier",
    "autograd_nn.examples.degradation",
    "autograd_nn.examples.tdnn",
    "autograd_nn.examples.dsn",
    "autograd_nn.examples.clip",
    "autograd_nn.examples.diffusion",
    "autograd_nn.examples.explain_digits",
)


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    run: Callable[..., dict]
    distributed: bool = False  # runs data-parallel on several processes (--nproc N)


_REGISTRY: dict[str, Example] = {}


def example(name: str, description: str, distributed: bool = False) -> Callable:
    """Register `run` under `name` (`distributed=True`: it supports `--nproc N`, see
    `data_parallel.py`)."""

    def register(run: Callable[..., dict]) -> Callable[..., dict]:
        if name in _REGISTRY:
            raise ValueError(f"example {name!r} is registered twice")
        _REGISTRY[name] = Example(name, description, run, distributed)
        return run

    return register


def all_examples() -> dict[str, Example]:
    for module in EXAMPLE_MODULES:
        importlib.import_module(module)
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Example:
    examples = all_examples()
    if name not in examples:
        raise KeyError(f"unknown example {name!r}; available: {', '.join(examples)}")
    return examples[name]
