"""Reading checkpoints in autograd_nn's previous format (version 1: a zip of `.npy` files).

`autograd_nn.save` writes safetensors now (see `serialization.py`); `autograd_nn.load` hands a file
that starts like a zip archive to `load_zip` here, so checkpoints written before the change still load.

The old format: a ZIP archive, every entry stored uncompressed (as `np.savez` writes):

- `__structure__.json`: UTF-8 JSON `{"format": "autograd_nn.checkpoint", "version": 1,
  "root": NODE}`, with the NODEs of `serialization.py` except that an array node names its entry
  (`{"type": "tensor", "file": "a0.npy", "dtype": "<f4", "shape": [2, 3]}`).
- `a0.npy`, `a1.npy`, ...: one NPY file per distinct array, written with `allow_pickle=False`.

`load_zip` never unpickles. Before it allocates anything it checks that every entry name is a plain
file name (no path separators, no '..'), that the JSON is well formed, and, for each array, that its
entry exists, is stored uncompressed, holds no object dtype, and that the NPY header's dtype and shape
equal the JSON's and fit the entry's size. Any failure raises `CheckpointError` naming the key path.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from typing import cast

import numpy as np

from .errors import CheckpointError
from .serialization import FORMAT, StructureReader

__all__ = ["load_zip"]

VERSION = 1
STRUCTURE = "__structure__.json"
MAX_STRUCTURE_BYTES = 64 * 1024 * 1024
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ARRAY_KINDS = "biufc"
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class _ZipReader(StructureReader):
    """Reads and validates each `.npy` entry the structure references."""

    def __init__(self, zf: zipfile.ZipFile, path: str) -> None:
        super().__init__(path)
        self.zf = zf
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, node: dict, where: str) -> np.ndarray:
        name = node.get("file")
        if not isinstance(name, str) or not _safe_name(name):
            raise self.fail(where, f"unsafe or missing array entry name {str(name)[:80]!r}")
        dtype, shape = self.declared(node, where)
        arr = self._arrays.get(name)
        if arr is None:
            arr = self._arrays[name] = self._read_entry(name, where)
        if arr.dtype != dtype or list(arr.shape) != shape:
            raise self.fail(
                where,
                f"entry {name} holds a {arr.dtype.str} array of shape "
                f"{list(arr.shape)}, the structure declares {dtype.str} {shape}",
            )
        return arr

    def _read_entry(self, name: str, where: str) -> np.ndarray:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise self.fail(where, f"missing array entry {name}") from None
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise self.fail(where, f"entry {name} is compressed; only stored entries are allowed")
        try:
            with cast(io.BufferedIOBase, self.zf.open(info)) as f:  # a ZipExtFile
                version = np.lib.format.read_magic(f)
                if version not in _HEADER_READERS:
                    raise self.fail(where, f"entry {name} has NPY format version {version}")
                shape, fortran, dtype = _HEADER_READERS[version](f, max_header_size=10000)
                if dtype.hasobject or dtype.kind not in _ARRAY_KINDS:
                    raise self.fail(
                        where,
                        f"entry {name} has dtype {dtype}: object and other non-numeric arrays are refused",
                    )
                count = math.prod(shape)
                if count * dtype.itemsize > info.file_size - f.tell():
                    raise self.fail(
                        where,
                        f"entry {name} declares shape {shape} {dtype} "
                        f"({count * dtype.itemsize} bytes) but holds only "
                        f"{info.file_size - f.tell()} bytes",
                    )
                arr = np.empty(count, dtype=dtype)
                buf = arr.data.cast("B")
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


def load_zip(path: str) -> object:
    """Read a version-1 checkpoint; raises CheckpointError if it is not one or is unsafe."""
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        raise CheckpointError(
            f"load {path!r}: not an autograd_nn checkpoint (not a valid zip "
            f"archive: {err}); truncated, or a different format (pickle?)"
        ) from None
    with zf:
        for name in zf.namelist():
            if not _safe_name(name):
                raise CheckpointError(f"load {path!r}: unsafe entry name {name[:80]!r} in the archive")
        try:
            info = zf.getinfo(STRUCTURE)
        except KeyError:
            raise CheckpointError(
                f"load {path!r}: missing entry {STRUCTURE}; not an autograd_nn checkpoint"
            ) from None
        if info.file_size > MAX_STRUCTURE_BYTES:
            raise CheckpointError(
                f"load {path!r}: {STRUCTURE} declares {info.file_size} bytes, "
                f"more than the {MAX_STRUCTURE_BYTES} allowed"
            )
        try:
            header = json.loads(zf.read(info).decode("utf-8"))
        except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError) as err:
            raise CheckpointError(f"load {path!r}: {STRUCTURE} is corrupt: {err}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT or "root" not in header:
            raise CheckpointError(f"load {path!r}: {STRUCTURE} is not an {FORMAT} header")
        if header.get("version") != VERSION:
            raise CheckpointError(
                f"load {path!r}: format version {header.get('version')!r} is not "
                f"supported (this library reads version {VERSION})"
            )
        return _ZipReader(zf, path).build(header["root"], "")
