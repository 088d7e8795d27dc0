"""`save(obj, path)` / `load(path)`: checkpoints without pickle.

What can be saved: nested dicts (str/int/float/bool/None keys; `OrderedDict` is kept), lists and
tuples of Tensors, ndarrays, NumPy scalars, Python bool/int/float (inf and nan included), str and
None. That covers `module.state_dict()`, `optimizer.state_dict()`, scheduler state dicts and the
epoch numbers saved next to them. Anything else raises TypeError.

File format (version 1): a ZIP archive, every entry stored uncompressed (as `np.savez` writes):

- `__structure__.json`: UTF-8 JSON `{"format": "autograd_nn.checkpoint", "version": 1,
  "root": NODE}` where a NODE is one of
    `{"type": "none"}`, `{"type": "bool"|"int"|"str", "value": v}`,
    `{"type": "float", "value": 0.5}` (or the strings "inf", "-inf", "nan"),
    `{"type": "list"|"tuple", "items": [NODE, ...]}`,
    `{"type": "dict"|"odict", "items": [[KEY_NODE, NODE], ...]}` (keys keep their type),
    `{"type": "tensor"|"ndarray"|"scalar", "file": "a0.npy", "dtype": "<f4", "shape": [2, 3]}`
    (tensors also carry `"requires_grad"`).
- `a0.npy`, `a1.npy`, ...: one NPY file per distinct array (an object saved twice is stored once),
  written with `allow_pickle=False`.

The file is written atomically: to a temporary file in the same directory, flushed and fsynced, then
`os.replace`d over `path`, so a crash mid-save leaves the previous checkpoint intact.

`load` never unpickles. Before it allocates anything it checks that the file is a ZIP, that every
entry name is a plain file name (no path separators, no '..'), that the JSON is well formed, and, for
each array, that its entry exists, is stored uncompressed, holds no object dtype, and that the NPY
header's dtype and shape equal the JSON's and fit the entry's size. Any failure raises
`CheckpointError` naming the offending key path (e.g. `['model']['fc.weight']`).
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any, Union

import numpy as np

from .errors import CheckpointError
from ._tensor import Tensor

__all__ = ["save", "load"]

FORMAT = "autograd_nn.checkpoint"
VERSION = 1
STRUCTURE = "__structure__.json"
MAX_STRUCTURE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ARRAY_KINDS = "biufc"
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
PathLike = Union[str, "os.PathLike[str]"]


# ---- save ------------------------------------------------------------------------------------------
class _Writer:
    """Turns an object into JSON nodes, collecting the arrays to store (each object once)."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self._files: dict[int, str] = {}
        self._keep: list[Any] = []  # keeps saved objects alive so their ids stay unique

    def node(self, obj: Any, where: str, depth: int = 0) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise ValueError(f"save: {where or 'the object'} is nested more than {MAX_DEPTH} deep")
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, np.generic):  # before float: np.float64 subclasses float
            return self._array(obj, np.asarray(obj), "scalar", where)
        if isinstance(obj, bool):
            return {"type": "bool", "value": obj}
        if isinstance(obj, int):
            return {"type": "int", "value": int(obj)}
        if isinstance(obj, float):
            value: Any = float(obj) if math.isfinite(obj) else repr(float(obj))
            return {"type": "float", "value": value}
        if isinstance(obj, str):
            return {"type": "str", "value": obj}
        if isinstance(obj, Tensor):
            out = self._array(obj, obj._data, "tensor", where)
            out["requires_grad"] = bool(obj.requires_grad)
            return out
        if isinstance(obj, np.ndarray):
            return self._array(obj, obj, "ndarray", where)
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {"type": kind, "items": [self.node(v, f"{where}[{i}]", depth + 1)
                                            for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    raise TypeError(f"save: key {k!r} at {where or 'top level'} is a "
                                    f"{type(k).__name__}; keys must be str, int, float, bool or None")
                items.append([self.node(k, where, depth + 1), self.node(v, f"{where}[{k!r}]", depth + 1)])
            return {"type": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        raise TypeError(f"save: cannot save a {type(obj).__name__} at {where or 'top level'}; "
                        "supported: dict, list, tuple, Tensor, ndarray, bool, int, float, str, None")

    def _array(self, owner: Any, arr: np.ndarray, kind: str, where: str) -> dict[str, Any]:
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"save: array at {where or 'top level'} has dtype {arr.dtype}; only "
                            "bool, integer, float and complex arrays can be saved")
        name = self._files.get(id(owner))
        if name is None:
            name = self._files[id(owner)] = f"a{len(self.arrays)}.npy"
            self.arrays.append(arr if arr.flags.c_contiguous else np.array(arr, order="C"))
            self._keep.append(owner)
        return {"type": kind, "file": name, "dtype": arr.dtype.str, "shape": list(arr.shape)}


def save(obj: Any, path: PathLike) -> None:
    """Write `obj` (see the module docstring for what it may contain) to `path`, atomically."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    writer = _Writer()
    header = {"format": FORMAT, "version": VERSION, "root": writer.node(obj, "")}
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                zf.writestr(zipfile.ZipInfo(STRUCTURE, date_time=(1980, 1, 1, 0, 0, 0)), text)
                for i, arr in enumerate(writer.arrays):
                    with zf.open(f"a{i}.npy", "w", force_zip64=True) as entry:
                        np.lib.format.write_array(entry, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- load ------------------------------------------------------------------------------------------
class _Reader:
    """Rebuilds the object from JSON nodes, reading and validating each array entry it references."""

    def __init__(self, zf: zipfile.ZipFile, path: str) -> None:
        self.zf = zf
        self.path = path
        self._arrays: dict[str, np.ndarray] = {}

    def fail(self, where: str, message: str) -> CheckpointError:
        return CheckpointError(f"load {self.path!r}: {where or 'top level'}: {message}")

    def build(self, node: Any, where: str, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(where, f"nested more than {MAX_DEPTH} deep")
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise self.fail(where, f"malformed structure node {str(node)[:80]!r}")
        kind = node["type"]
        if kind == "none":
            return None
        if kind in ("bool", "int", "str", "float"):
            return self._scalar(kind, node.get("value"), where)
        if kind in ("list", "tuple"):
            items = self._list(node, "items", where)
            values = [self.build(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(items)]
            return tuple(values) if kind == "tuple" else values
        if kind in ("dict", "odict"):
            out: dict = OrderedDict() if kind == "odict" else {}
            for pair in self._list(node, "items", where):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.fail(where, "a dict item is not a [key, value] pair")
                key = self.build(pair[0], where, depth + 1)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise self.fail(where, f"dict key of type {type(key).__name__}")
                out[key] = self.build(pair[1], f"{where}[{key!r}]", depth + 1)
            return out
        if kind in ("tensor", "ndarray", "scalar"):
            arr = self._array(node, where)
            if kind == "ndarray":
                return arr
            if kind == "scalar":
                return arr[()]
            requires_grad = node.get("requires_grad", False)
            if not isinstance(requires_grad, bool) or (requires_grad and arr.dtype.kind != "f"):
                raise self.fail(where, f"bad requires_grad {requires_grad!r} for dtype {arr.dtype}")
            return Tensor(arr, requires_grad=requires_grad)
        raise self.fail(where, f"unknown node type {kind!r}")

    def _scalar(self, kind: str, value: Any, where: str) -> Any:
        expected = {"bool": bool, "int": int, "str": str, "float": (float, int, str)}[kind]
        if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
            raise self.fail(where, f"{kind} node holds {type(value).__name__}")
        if kind == "float":
            if isinstance(value, str):
                if value not in ("inf", "-inf", "nan"):
                    raise self.fail(where, f"float node holds the string {value[:40]!r}")
            return float(value)
        return value

    def _list(self, node: dict, key: str, where: str) -> list:
        items = node.get(key)
        if not isinstance(items, list):
            raise self.fail(where, f"{node['type']} node has no '{key}' list")
        return items

    def _array(self, node: dict, where: str) -> np.ndarray:
        name, dtype_str, shape = node.get("file"), node.get("dtype"), node.get("shape")
        if not isinstance(name, str) or not _safe_name(name):
            raise self.fail(where, f"unsafe or missing array entry name {str(name)[:80]!r}")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise self.fail(where, f"bad declared shape {str(shape)[:80]}")
        try:
            dtype = np.dtype(dtype_str) if isinstance(dtype_str, str) else None
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.str != dtype_str:
            raise self.fail(where, f"unsupported declared dtype {str(dtype_str)[:40]!r} "
                                   "(only bool, integer, float and complex arrays are allowed)")
        arr = self._arrays.get(name)
        if arr is None:
            arr = self._arrays[name] = self._read_entry(name, where)
        if arr.dtype != dtype or list(arr.shape) != shape:
            raise self.fail(where, f"entry {name} holds a {arr.dtype.str} array of shape "
                                   f"{list(arr.shape)}, the structure declares {dtype_str} {shape}")
        return arr

    def _read_entry(self, name: str, where: str) -> np.ndarray:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise self.fail(where, f"missing array entry {name}") from None
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise self.fail(where, f"entry {name} is compressed; only stored entries are allowed")
        try:
            with self.zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in _HEADER_READERS:
                    raise self.fail(where, f"entry {name} has NPY format version {version}")
                shape, fortran, dtype = _HEADER_READERS[version](f, max_header_size=10000)
                if dtype.hasobject or dtype.kind not in _ARRAY_KINDS:
                    raise self.fail(where, f"entry {name} has dtype {dtype}: object and other "
                                           "non-numeric arrays are refused")
                count = math.prod(shape)
                if count * dtype.itemsize > info.file_size - f.tell():
                    raise self.fail(where, f"entry {name} declares shape {shape} {dtype} "
                                           f"({count * dtype.itemsize} bytes) but holds only "
                                           f"{info.file_size - f.tell()} bytes")
                arr = np.empty(count, dtype=dtype)
                buf = memoryview(arr).cast("B")
                filled = 0
                while filled < len(buf):
                    n = f.readinto(buf[filled:])
                    if not n:
                        break
                    filled += n
                if filled != len(buf) or f.read(1):  # reading to the end also checks the CRC
                    raise self.fail(where, f"entry {name} has the wrong size for shape {shape}")
        except CheckpointError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as err:
            raise self.fail(where, f"entry {name} is corrupt: {err}") from None
        return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def _safe_name(name: str) -> bool:
    """A plain file name: no directories, no '..', nothing odd."""
    return bool(_SAFE_NAME.fullmatch(name)) and ".." not in name


def load(path: PathLike) -> Any:
    """Read a checkpoint written by `save`; raises CheckpointError if it is not one or is unsafe."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        raise CheckpointError(f"load {path!r}: not an autograd_nn checkpoint (not a valid zip "
                              f"archive: {err}); truncated, or a different format (pickle?)") from None
    with zf:
        for name in zf.namelist():
            if not _safe_name(name):
                raise CheckpointError(f"load {path!r}: unsafe entry name {name[:80]!r} in the archive")
        try:
            info = zf.getinfo(STRUCTURE)
        except KeyError:
            raise CheckpointError(f"load {path!r}: missing entry {STRUCTURE}; not an autograd_nn "
                                  "checkpoint") from None
        if info.file_size > MAX_STRUCTURE_BYTES:
            raise CheckpointError(f"load {path!r}: {STRUCTURE} declares {info.file_size} bytes, "
                                  f"more than the {MAX_STRUCTURE_BYTES} allowed")
        try:
            header = json.loads(zf.read(info).decode("utf-8"))
        except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError) as err:
            raise CheckpointError(f"load {path!r}: {STRUCTURE} is corrupt: {err}") from None
        if (not isinstance(header, dict) or header.get("format") != FORMAT
                or "root" not in header):
            raise CheckpointError(f"load {path!r}: {STRUCTURE} is not an {FORMAT} header")
        if header.get("version") != VERSION:
            raise CheckpointError(f"load {path!r}: format version {header.get('version')!r} is not "
                                  f"supported (this library reads version {VERSION})")
        return _Reader(zf, path).build(header["root"], "")
