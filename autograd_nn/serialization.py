"""`save(obj, path)` / `load(path)`: checkpoints in the safetensors format, without pickle.

What can be saved: nested dicts (str/int/float/bool/None keys; `OrderedDict` is kept), lists and
tuples of Tensors, ndarrays, NumPy scalars, Python bool/int/float (inf and nan included), str and
None. That covers `module.state_dict()`, `optimizer.state_dict()`, scheduler state dicts and the
epoch numbers saved next to them. Anything else raises TypeError.

File format: safetensors (https://huggingface.co/docs/safetensors), written with the `safetensors`
package's NumPy API: an 8-byte header length, a JSON header naming each tensor's dtype, shape and
byte range, then the raw little-endian bytes. Nothing in it can run code on load, it can be
memory-mapped, and PyTorch (`safetensors.torch.load_file`), JAX and the Hugging Face tools read it.

- Each array is stored under the dotted path of keys that leads to it, so `save(model.state_dict(),
  path)` names the tensors exactly as the state dict does (`"fc.weight"`) and PyTorch's
  `load_state_dict(safetensors.torch.load_file(path))` takes it as is; nested checkpoints give
  `"model.fc.weight"`, `"optim.state.0.exp_avg"`.
- Everything that is not an array (optimizer hyper-parameters, step counts, scheduler state, the
  epoch, the nesting of dicts, lists and tuples, which arrays are Tensors) goes in the header's
  metadata as one JSON string under the key `"autograd_nn"`: `{"format": "autograd_nn.checkpoint",
  "version": 2, "root": NODE}`, where a NODE is
    `{"type": "none"}`, `{"type": "bool"|"int"|"str", "value": v}`,
    `{"type": "float", "value": 0.5}` (or the strings "inf", "-inf", "nan"),
    `{"type": "list"|"tuple", "items": [NODE, ...]}`,
    `{"type": "dict"|"odict", "items": [[KEY_NODE, NODE], ...]}` (keys keep their type),
    `{"type": "tensor"|"ndarray"|"scalar", "name": "fc.weight", "dtype": "<f4", "shape": [2, 3]}`
    (with `"crc32"`, the checksum of its stored bytes, which safetensors itself lacks; tensors also
    carry `"requires_grad"`; an object met a second time adds `"same_as"`, the name
    of its first occurrence, and is read back as that same array).
  One metadata key keeps the bytes deterministic (safetensors writes its metadata map in no fixed
  order). Big-endian arrays are stored little-endian and complex ones as (..., 2) float pairs, the
  declared dtype says how to turn them back.
- The file is written atomically: to a temporary file in the same directory, fsynced, then
  `os.replace`d over `path`, so a crash mid-save leaves the previous checkpoint intact.

`load` never unpickles. The safetensors reader checks the header (its size, that every byte range
lies in the file and matches dtype x shape); `load` then checks the JSON structure and that each
array it names exists with the declared dtype and shape. Any failure raises `CheckpointError`
naming the offending key path (e.g. `['model']['fc.weight']`). A safetensors file written by another
tool (no `"autograd_nn"` metadata) loads as a dict of Tensors by name. Checkpoints in this library's
previous format (a zip of `.npy` files, version 1) still load, with a warning saying how to convert.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
import zlib
from collections import OrderedDict
from typing import Any, Union, cast

import numpy as np

from ._tensor import Tensor, as_tensor
from .devices import as_device
from .errors import CheckpointError

__all__ = ["save", "load"]

FORMAT = "autograd_nn.checkpoint"
VERSION = 2
METADATA_KEY = "autograd_nn"
MAX_DEPTH = 64
_ARRAY_KINDS = "biufc"
# dtypes the safetensors NumPy API stores natively (little-endian); others are converted
_NATIVE = {
    np.dtype(t)
    for t in (
        np.float64,
        np.float32,
        np.float16,
        np.int64,
        np.uint64,
        np.int32,
        np.uint32,
        np.int16,
        np.uint16,
        np.int8,
        np.uint8,
        np.bool_,
    )
}
PathLike = Union[str, "os.PathLike[str]"]


def stored_form(dtype: np.dtype, shape: tuple) -> tuple[np.dtype, tuple]:
    """The (dtype, shape) an array of `dtype` and `shape` is stored as in the safetensors file."""
    if dtype.kind == "c":
        return np.dtype(f"<f{dtype.itemsize // 2}"), tuple(shape) + (2,)
    return dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype, tuple(shape)


def _to_stored(arr: np.ndarray) -> np.ndarray:
    dtype, shape = stored_form(arr.dtype, arr.shape)
    if arr.dtype.kind == "c":
        pairs = np.require(arr, arr.dtype.newbyteorder("<"), "C")
        return pairs.reshape(arr.shape + (1,)).view(dtype).reshape(shape)
    return np.require(arr, dtype, "C")  # (not ascontiguousarray: it makes 0-d arrays 1-d)


def _from_stored(stored: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "c":
        pairs = np.require(stored, None, "C")
        return pairs.view(np.dtype(f"<c{dtype.itemsize}")).reshape(stored.shape[:-1]).astype(dtype)
    out = stored.astype(dtype, copy=not stored.flags.writeable or stored.dtype != dtype)
    return out if out.flags.writeable else out.copy()


def _crc32(arr: np.ndarray) -> int:
    return zlib.crc32(np.require(arr, None, "C").reshape(-1).view(np.uint8).data)


# ---- save ------------------------------------------------------------------------------------------
class _Writer:
    """Turns an object into JSON nodes, collecting the arrays to store under their key paths."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._names: dict[int, str] = {}
        self._keep: list[Any] = []  # keeps saved objects alive so their ids stay unique

    def node(self, obj: Any, where: str, path: tuple, depth: int = 0) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise ValueError(f"save: {where or 'the object'} is nested more than {MAX_DEPTH} deep")
        if obj is None:
            return {"type": "none"}
        if isinstance(obj, np.generic):  # before float: np.float64 subclasses float
            return self._array(obj, np.asarray(obj), "scalar", where, path)
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
            out = self._array(obj._data, obj._data, "tensor", where, path)  # shared data: once
            out["requires_grad"] = bool(obj.requires_grad)
            return out
        if isinstance(obj, np.ndarray):
            return self._array(obj, obj, "ndarray", where, path)
        if isinstance(obj, (list, tuple)):
            kind = "tuple" if isinstance(obj, tuple) else "list"
            return {
                "type": kind,
                "items": [
                    self.node(v, f"{where}[{i}]", path + (str(i),), depth + 1) for i, v in enumerate(obj)
                ],
            }
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    raise TypeError(
                        f"save: key {k!r} at {where or 'top level'} is a "
                        f"{type(k).__name__}; keys must be str, int, float, bool or None"
                    )
                items.append(
                    [
                        self.node(k, where, path, depth + 1),
                        self.node(v, f"{where}[{k!r}]", path + (str(k),), depth + 1),
                    ]
                )
            return {"type": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        raise TypeError(
            f"save: cannot save a {type(obj).__name__} at {where or 'top level'}; "
            "supported: dict, list, tuple, Tensor, ndarray, bool, int, float, str, None"
        )

    def _array(self, owner: Any, arr: np.ndarray, kind: str, where: str, path: tuple) -> dict[str, Any]:
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(
                f"save: array at {where or 'top level'} has dtype {arr.dtype}; only "
                "bool, integer, float and complex arrays can be saved"
            )
        name = self._unique(".".join(path) or "tensor")
        stored = _to_stored(arr)
        out = {
            "type": kind,
            "name": name,
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "crc32": _crc32(stored),
        }
        first = self._names.get(id(owner))
        if first is None:
            self._names[id(owner)] = name
            self._keep.append(owner)
        else:  # stored again under this name too, so other tools see every key (tied weights)
            out["same_as"] = first
        self.arrays[name] = stored
        return out

    def _unique(self, name: str) -> str:
        if name not in self.arrays:
            return name
        n = 1
        while f"{name}#{n}" in self.arrays:
            n += 1
        return f"{name}#{n}"


def save(
    obj: Any,
    path: Any,
    pickle_module: Any = None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Write `obj` (see the module docstring for what it may contain) to `path`, atomically.

    `path` may also be a writable binary file object (`io.BytesIO`), as in `torch.save`. PyTorch's
    pickle options are accepted and have nothing to do: the format is safetensors, never pickle.
    """
    import safetensors  # late: keeps `import autograd_nn` light

    if hasattr(path, "write") and not isinstance(path, (str, os.PathLike)):
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp_path = os.path.join(tmp_dir, "checkpoint.safetensors")
            save(obj, tmp_path)
            with open(tmp_path, "rb") as f:
                path.write(f.read())
        return
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    writer = _Writer()
    header = {"format": FORMAT, "version": VERSION, "root": writer.node(obj, "", ())}
    metadata = {METADATA_KEY: json.dumps(header, allow_nan=False, separators=(",", ":"))}
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        specs = {
            name: safetensors.TensorSpec(
                dtype=arr.dtype.name, shape=arr.shape, data_ptr=arr.ctypes.data, data_len=arr.nbytes
            )
            for name, arr in writer.arrays.items()
        }
        safetensors.serialize_file(specs, tmp, metadata=metadata)
        _fsync_file(tmp)
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


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
class StructureReader:
    """Rebuilds an object from JSON structure nodes; subclasses read the arrays (`array`)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> CheckpointError:
        return CheckpointError(f"load {self.path!r}: {where or 'top level'}: {message}")

    def array(self, node: dict, where: str) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

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
            arr = self.array(node, where)
            if kind == "ndarray":
                return arr
            if kind == "scalar":
                return arr[()]
            requires_grad = node.get("requires_grad", False)
            if not isinstance(requires_grad, bool) or (requires_grad and arr.dtype.kind != "f"):
                raise self.fail(where, f"bad requires_grad {requires_grad!r} for dtype {arr.dtype}")
            return as_tensor(arr).requires_grad_(requires_grad)
        raise self.fail(where, f"unknown node type {kind!r}")

    def _scalar(self, kind: str, value: Any, where: str) -> Any:
        kinds: dict[str, type | tuple[type, ...]] = {
            "bool": bool,
            "int": int,
            "str": str,
            "float": (float, int, str),
        }
        expected = kinds[kind]
        if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
            raise self.fail(where, f"{kind} node holds {type(value).__name__}")
        if kind == "float":
            if isinstance(value, str) and value not in ("inf", "-inf", "nan"):
                raise self.fail(where, f"float node holds the string {value[:40]!r}")
            return float(cast("float | str", value))  # checked above: a number or one of those strings
        return value

    def _list(self, node: dict, key: str, where: str) -> list:
        items = node.get(key)
        if not isinstance(items, list):
            raise self.fail(where, f"{node['type']} node has no '{key}' list")
        return items

    def declared(self, node: dict, where: str) -> tuple[np.dtype, list]:
        """The dtype and shape a structure node declares, validated."""
        dtype_str, shape = node.get("dtype"), node.get("shape")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise self.fail(where, f"bad declared shape {str(shape)[:80]}")
        try:
            dtype = np.dtype(dtype_str) if isinstance(dtype_str, str) else None
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.str != dtype_str:
            raise self.fail(
                where,
                f"unsupported declared dtype {str(dtype_str)[:40]!r} "
                "(only bool, integer, float and complex arrays are allowed)",
            )
        return dtype, shape


class _SafetensorsReader(StructureReader):
    """Reads the arrays a structure names from an open safetensors file, checking each one."""

    def __init__(self, handle: Any, path: str) -> None:
        super().__init__(path)
        self.handle = handle
        self.names = set(handle.keys())
        self._built: dict[str, np.ndarray] = {}

    def array(self, node: dict, where: str) -> np.ndarray:
        dtype, shape = self.declared(node, where)
        name = node.get("name")
        if not isinstance(name, str) or name not in self.names:
            raise self.fail(where, f"names the tensor {str(name)[:80]!r}, which is not in the file")
        same_as = node.get("same_as")
        if same_as is not None:
            first = self._built.get(same_as) if isinstance(same_as, str) else None
            if first is None or first.dtype != dtype or list(first.shape) != shape:
                raise self.fail(
                    where,
                    f"same_as {str(same_as)[:80]!r} is not an earlier array of "
                    f"dtype {dtype.str} and shape {shape}",
                )
            self._check_stored(name, dtype, shape, where)
            return first
        if name in self._built:
            raise self.fail(where, f"the tensor {name!r} is read twice without same_as")
        self._check_stored(name, dtype, shape, where)
        stored = self._read(name, where)
        if node.get("crc32") != _crc32(stored):
            raise self.fail(
                where, f"tensor {name!r} is corrupt: its bytes do not match the checksum saved with it"
            )
        arr = _from_stored(stored, dtype)
        self._built[name] = arr
        return arr

    def _check_stored(self, name: str, dtype: np.dtype, shape: list, where: str) -> None:
        want_dtype, want_shape = stored_form(dtype, tuple(shape))
        view = self.handle.get_slice(name)
        got_dtype, got_shape = view.get_dtype(), list(view.get_shape())
        if got_dtype != _safetensors_dtype(want_dtype) or got_shape != list(want_shape):
            raise self.fail(
                where,
                f"tensor {name!r} is stored as {got_dtype} {got_shape}, the "
                f"structure declares {dtype.str} {shape}",
            )

    def plain(self, name: str) -> np.ndarray:
        """A tensor of a file without autograd_nn metadata, as a writeable array."""
        arr = self._read(name, f"[{name!r}]")
        return arr if arr.flags.writeable else arr.copy()

    def _read(self, name: str, where: str) -> np.ndarray:
        try:
            return self.handle.get_tensor(name)
        except Exception as err:  # the Rust reader's own error types
            raise self.fail(where, f"tensor {name!r} cannot be read: {err}") from None


_ST_DTYPES = {
    "f8": "F64",
    "f4": "F32",
    "f2": "F16",
    "i8": "I64",
    "u8": "U64",
    "i4": "I32",
    "u4": "U32",
    "i2": "I16",
    "u2": "U16",
    "i1": "I8",
    "u1": "U8",
    "b1": "BOOL",
}


def _safetensors_dtype(dtype: np.dtype) -> str:
    return _ST_DTYPES.get(f"{dtype.kind}{dtype.itemsize}", dtype.str)


def load(
    path: Any,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Read a checkpoint written by `save` (or any safetensors file; or a checkpoint in the old
    zip format, with a warning); raises CheckpointError if it is not one or is unsafe.

    `path` may also be a readable binary file object. `torch.load`'s other arguments are accepted:
    `map_location` may name the CPU (as a string, device, dict or function: everything loads onto
    the CPU; an accelerator as the target is refused), `weights_only` and `mmap` change nothing
    (nothing is ever unpickled).
    """
    if isinstance(map_location, (str, int)) or (map_location is not None and hasattr(map_location, "type")):
        as_device(map_location)
    if hasattr(path, "read") and not isinstance(path, (str, os.PathLike)):
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp_path = os.path.join(tmp_dir, "checkpoint.safetensors")
            with open(tmp_path, "wb") as f:
                f.write(path.read())
            return _copied(load(tmp_path))
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK"):
        from .serialization_zip import load_zip

        obj = load_zip(path)
        warnings.warn(
            f"load {path!r}: this checkpoint is in autograd_nn's old format (a zip of .npy "
            "files); it still loads, but save it again with autograd_nn.save to write the "
            "safetensors format that other tools read",
            UserWarning,
            stacklevel=2,
        )
        return obj
    return _load_safetensors(path)


def _load_safetensors(path: str) -> Any:
    from safetensors import safe_open  # late: keeps `import autograd_nn` light

    try:
        handle = safe_open(path, framework="np")
    except Exception as err:  # SafetensorError and the like: header too large, bad offsets, ...
        raise CheckpointError(
            f"load {path!r}: not a valid safetensors file ({err}); truncated, or a different format (pickle?)"
        ) from None
    with handle:
        metadata = handle.metadata() or {}
        text = metadata.get(METADATA_KEY)
        reader = _SafetensorsReader(handle, path)
        if text is None:  # written by another tool: a flat dict of tensors by name
            return OrderedDict((name, as_tensor(reader.plain(name))) for name in handle.keys())  # noqa: SIM118  (safe_open has no __iter__)
        try:
            header = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise CheckpointError(f"load {path!r}: the {METADATA_KEY!r} metadata is corrupt: {err}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT or "root" not in header:
            raise CheckpointError(f"load {path!r}: the {METADATA_KEY!r} metadata is not an {FORMAT} header")
        if header.get("version") != VERSION:
            raise CheckpointError(
                f"load {path!r}: format version {header.get('version')!r} is not "
                f"supported (this library reads version {VERSION})"
            )
        return reader.build(header["root"], "")


def _copied(obj: Any) -> Any:
    """`obj` with every array copied into memory (a load from a file object outlives its file)."""
    if isinstance(obj, Tensor):
        out = as_tensor(obj._data.copy())
        return out.requires_grad_(True) if obj.requires_grad else out
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return type(obj)((k, _copied(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_copied(v) for v in obj)
    return obj
