"""Example-specific command-line options: `python -m autograd_nn --example gpt --tokenizer bpe`.

Options the main parser does not know are matched, by name, to the keyword parameters of the
example's `run` function (`--bpe-vocab-size 1024` sets `bpe_vocab_size=1024`) and converted to the
type of the parameter's default. Only parameters with a bool, int, float or str default can be set
this way; `out_dir` and `quick` have options of their own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

_RESERVED = {"out_dir", "quick"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def settable_options(run: Callable[..., Any]) -> dict[str, Any]:
    """The parameters of `run` that options may set, with their defaults."""
    return {
        name: p.default
        for name, p in inspect.signature(run).parameters.items()
        if name not in _RESERVED and isinstance(p.default, (bool, int, float, str))
    }


def parse_example_options(run: Callable[..., Any], args: list[str]) -> dict[str, Any]:
    """Keyword arguments for `run` from `--name value` / `--name=value` pairs; ValueError names
    the option that is unknown, lacks a value or has a value of the wrong type."""
    settable = settable_options(run)
    known = ", ".join("--" + n.replace("_", "-") for n in settable) or "none"
    options: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise ValueError(f"unexpected argument {arg!r}; options of this example: {known}")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args):
                raise ValueError(f"option --{key} needs a value")
            value = args[i + 1]
            i += 1
        i += 1
        name = key.replace("-", "_")
        if name not in settable:
            raise ValueError(f"unknown option --{key}; options of this example: {known}")
        options[name] = _convert(value, settable[name], key)
    return options


def _convert(value: str, default: Any, key: str) -> Any:
    if isinstance(default, bool):
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError(f"option --{key} takes true or false, got {value!r}")
        return value.lower() in _TRUE
    try:
        return type(default)(value)
    except ValueError:
        kind = {int: "an integer", float: "a number"}[type(default)]
        raise ValueError(f"option --{key} takes {kind}, got {value!r}") from None
