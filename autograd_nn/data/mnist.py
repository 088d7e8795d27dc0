"""A reader for the MNIST IDX file format (for users who have the files; nothing is downloaded).

IDX: a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one big-endian
uint32 per dimension, then the data. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import pathlib

import numpy as np
import numpy.typing as npt

_TYPES: dict[int, npt.DTypeLike] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def read_idx(path: str | pathlib.Path) -> np.ndarray:
    """Read an IDX file (optionally .gz) into an array, validating its header against its size."""
    path = pathlib.Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise ValueError(f"read_idx: {path} has unknown data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_TYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"read_idx: {path} declares shape {shape} ({expected} bytes) but holds "
            f"{len(raw) - header} bytes of data"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | pathlib.Path, array: np.ndarray) -> None:
    """Write an array in IDX format (used by the tests; handy for making small fixtures)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}
    array = np.asarray(array)
    if array.dtype not in codes:
        raise ValueError(f"write_idx: only uint8/int8 arrays are supported, got {array.dtype}")
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def load_mnist(directory: str | pathlib.Path, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 1, 28, 28) float32 in [0, 1] and labels int64 from the standard MNIST file names."""
    directory = pathlib.Path(directory)
    if kind not in ("train", "test", "t10k"):
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    prefix = "train" if kind == "train" else "t10k"

    def find(stem: str) -> pathlib.Path:
        for name in (stem, stem + ".gz"):
            if (directory / name).exists():
                return directory / name
        raise FileNotFoundError(f"load_mnist: {stem}[.gz] not found in {directory}")

    images = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"load_mnist: images {images.shape} and labels {labels.shape} do not match")
    return (images[:, None].astype(np.float32) / 255.0), labels.astype(np.int64)
