"""Tokenizer files: JSON, written atomically, read back with every field checked (no pickle).

A file is `{"format": "autograd_nn.tokenizer", "type": KIND, "version": 1, ...}` where KIND is
"word" or "bpe" and the remaining fields are the tokenizer's own (see `WordTokenizer.save` and
`BPETokenizer.save`).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Union

from ...errors import CheckpointError

FORMAT = "autograd_nn.tokenizer"
VERSION = 1
PathLike = Union[str, "os.PathLike[str]"]


def write_json_atomic(obj: dict[str, Any], path: PathLike) -> None:
    """Write `obj` as UTF-8 JSON to a temporary file beside `path`, fsync it, then rename it over
    `path`: a crash mid-write leaves any previous file intact."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    text = json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=False)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_tokenizer_json(path: PathLike, kind: str) -> dict[str, Any]:
    """The JSON object in `path`, checked to be a version-1 tokenizer file of type `kind`."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8", errors="surrogatepass") as f:
            obj = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: not a tokenizer file (invalid JSON: {err})") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a tokenizer file (expected format {FORMAT!r})")
    if obj.get("type") != kind:
        raise CheckpointError(f"{path}: holds a {obj.get('type')!r} tokenizer, not {kind!r}")
    if obj.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: tokenizer file version {obj.get('version')!r} is not supported (expected {VERSION})"
        )
    return obj


def field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], path: PathLike) -> Any:
    """obj[name], which must exist and be of type `kind` (bool is not accepted as int)."""
    if name not in obj:
        raise CheckpointError(f"{os.fspath(path)}: missing field {name!r}")
    value = obj[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise CheckpointError(
            f"{os.fspath(path)}: field {name!r} must be {names}, got {type(value).__name__}"
        )
    return value
