"""save/load: round trips, atomic writes, and hostile files that must fail cleanly.

Checkpoints are safetensors files now; files in the old format (a zip of .npy entries) must still
load, with a warning, and hostile ones of either kind must fail with a CheckpointError."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import safetensors

import autograd_nn as ag
from autograd_nn.errors import CheckpointError
from autograd_nn.serialization import METADATA_KEY, load, save
from autograd_nn.serialization_zip import STRUCTURE


def _nested():
    w = ag.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    return {
        "model": OrderedDict(
            [
                ("fc.weight", w),
                ("fc.bias", ag.as_tensor(np.zeros(3, np.float64))),
                ("steps", ag.as_tensor(np.array([1, 2], np.int64))),
                ("mask", ag.as_tensor(np.array([True, False]))),
            ]
        ),
        "optim": {
            "state": {0: {"step": 7, "exp_avg": np.ones((2, 3), np.float16)}},
            "param_groups": [
                {"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "name": None}
            ],
        },
        "epoch": 12,
        "big": 2**80,
        "floats": [float("inf"), -0.0, 1e-310, float("nan")],
        "text": "ünïcode ✓",
        "scalar": np.float64(2.5),
        "i32": np.int32(-3),
        "empty": np.zeros((0, 4), np.float32),
        "zero_d": np.array(3.5, np.float32),
        "big_endian": np.arange(3, dtype=">f4"),
        "tied": [w, w],
        1.5: None,
        True: "yes",
    }


def test_round_trip_preserves_values_types_and_dtypes(tmp_path):
    obj = _nested()
    save(obj, tmp_path / "ckpt.npz")
    out = load(str(tmp_path / "ckpt.npz"))
    assert list(out) == list(obj)
    assert isinstance(out["model"], OrderedDict) and list(out["model"]) == list(obj["model"])
    for key, value in obj["model"].items():
        got = out["model"][key]
        assert isinstance(got, ag.Tensor) and got.dtype == value.dtype and got.shape == value.shape
        np.testing.assert_array_equal(got.numpy(), value.numpy())
    assert out["model"]["fc.weight"].requires_grad and not out["model"]["fc.bias"].requires_grad
    assert out["model"]["fc.weight"].dtype == np.float32
    state = out["optim"]["state"]
    assert list(state) == [0] and state[0]["step"] == 7 and type(state[0]["step"]) is int
    assert state[0]["exp_avg"].dtype == np.float16 and isinstance(state[0]["exp_avg"], np.ndarray)
    assert out["optim"]["param_groups"] == obj["optim"]["param_groups"]
    assert isinstance(out["optim"]["param_groups"][0]["betas"], tuple)
    assert out["epoch"] == 12 and out["big"] == 2**80 and out["text"] == obj["text"]
    inf, zero, tiny, nan = out["floats"]
    assert inf == float("inf") and str(zero) == "-0.0" and tiny == 1e-310 and nan != nan
    assert type(out["scalar"]) is np.float64 and out["scalar"] == 2.5
    assert type(out["i32"]) is np.int32 and out["i32"] == -3
    assert out["empty"].shape == (0, 4) and out["zero_d"].shape == () and out["zero_d"] == 3.5
    assert out["big_endian"].dtype == np.dtype(">f4")
    assert out[1.5] is None and out[True] == "yes"
    assert out["tied"][0].numpy() is out["tied"][1].numpy()  # stored once, shared on load
    assert out["model"]["fc.weight"].numpy().flags.writeable


def test_same_object_gives_same_bytes(tmp_path):
    save(_nested(), tmp_path / "a")
    save(_nested(), tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_module_and_optimizer_state_dicts_round_trip(tmp_path):
    from autograd_nn import nn, optim

    model = nn.Linear(4, 3)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(ag.randn(5, 4)).sum().backward()
    opt.step()
    save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 1}, tmp_path / "c")
    ckpt = load(tmp_path / "c")
    fresh = nn.Linear(4, 3)
    fresh.load_state_dict(ckpt["model"])
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        assert q.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    opt2 = optim.Adam(fresh.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.state[fresh.weight]["step"] == 1


@pytest.mark.parametrize(
    "bad", [{1, 2}, object(), np.array([None], dtype=object), {("tuple", "key"): 1}, np.array(["s"])]
)
def test_unsupported_objects_raise_and_leave_old_file(tmp_path, bad):
    path = tmp_path / "ckpt"
    save({"epoch": 1}, path)
    with pytest.raises(TypeError, match="save"):
        save({"x": [bad]}, path)
    assert load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt"]


def test_failed_write_removes_temp_file_and_keeps_old(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save({"w": np.ones(3)}, path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safetensors, "serialize_file", disk_full)
    with pytest.raises(OSError, match="No space"):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt"]


CHILD = """
import os, sys, time
import numpy as np
import safetensors
from autograd_nn import serialization

path, flag = sys.argv[1], sys.argv[2]
real = safetensors.serialize_file

def slow_write(tensors, filename, metadata=None):
    real(tensors, filename, metadata=metadata)
    os.truncate(filename, os.path.getsize(filename) // 2)   # half of the new file is on disk
    open(flag, "w").close()
    time.sleep(120)                                         # ... and the process dies here

safetensors.serialize_file = slow_write
serialization.save({"w": np.full(50_000, 2.0), "epoch": 2}, path)
"""


def test_process_killed_mid_save_leaves_old_checkpoint(tmp_path):
    path, flag = tmp_path / "ckpt", tmp_path / "writing"
    save({"w": np.full(50_000, 1.0), "epoch": 1}, path)
    before = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(flag)])
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert child.poll() is None, "the child exited before it started writing"
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    ckpt = load(path)
    assert ckpt["epoch"] == 1 and ckpt["w"][0] == 1.0
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt.")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the half-written temp file
    with pytest.raises(CheckpointError):
        load(leftovers[0])


# ---- hostile and broken files in the old zip format (still read, so still checked) ------------
def _npy(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _structure(root):
    return json.dumps({"format": "autograd_nn.checkpoint", "version": 1, "root": root})


def _tensor_node(name="a0.npy", dtype="<f4", shape=(2,)):
    return {
        "type": "dict",
        "items": [
            [
                {"type": "str", "value": "w"},
                {
                    "type": "tensor",
                    "file": name,
                    "dtype": dtype,
                    "shape": list(shape),
                    "requires_grad": False,
                },
            ]
        ],
    }


class _Evil:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_payload_renamed_npz_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"w": _Evil(str(marker))}))
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("declared", ["|O", "<f8"])
def test_object_array_is_refused_without_unpickling(tmp_path, declared):
    marker = tmp_path / "pwned"
    evil = np.array([_Evil(str(marker))], dtype=object)
    path = tmp_path / "ckpt"
    _zip(
        path,
        {
            STRUCTURE: _structure(_tensor_node(dtype=declared, shape=(1,))),
            "a0.npy": _npy(evil, allow_pickle=True),
        },
    )
    with pytest.raises(CheckpointError, match=r"\['w'\].*(dtype|object)"):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../a0.npy", "dir/a0.npy", "/etc/passwd", "..", "a\\b.npy", ""])
def test_unsafe_names_in_structure_are_refused(tmp_path, name):
    path = tmp_path / "ckpt"
    _zip(path, {STRUCTURE: _structure(_tensor_node(name=name)), "a0.npy": _npy(np.zeros(2, np.float32))})
    with pytest.raises(CheckpointError, match=r"\['w'\]: unsafe"):
        load(path)


def test_unsafe_entry_names_in_archive_are_refused(tmp_path):
    path = tmp_path / "ckpt"
    _zip(
        path,
        {
            STRUCTURE: _structure(_tensor_node()),
            "a0.npy": _npy(np.zeros(2, np.float32)),
            "../../evil.npy": b"x",
        },
    )
    with pytest.raises(CheckpointError, match="unsafe entry name"):
        load(path)


@pytest.mark.parametrize(
    "dtype,shape,match",
    [
        ("<f4", (3,), "declares <f4 \\[3\\]"),  # shape disagrees with the array
        ("<f8", (2,), "declares <f8 \\[2\\]"),  # dtype disagrees with the array
        ("<f4", (10**12,), "declares <f4 \\[1000000000000\\]"),  # huge declared size
        ("<f4", (-1,), "bad declared shape"),
        ("float32", (2,), "unsupported declared dtype"),
        ("<U3", (2,), "unsupported declared dtype"),
    ],
)
def test_mismatched_declarations_are_refused(tmp_path, dtype, shape, match):
    path = tmp_path / "ckpt"
    _zip(
        path,
        {
            STRUCTURE: _structure(_tensor_node(dtype=dtype, shape=shape)),
            "a0.npy": _npy(np.zeros(2, np.float32)),
        },
    )
    with pytest.raises(CheckpointError, match=r"\['w'\]: .*" + match):
        load(path)


def test_npy_header_declaring_more_data_than_stored_is_refused(tmp_path):
    """A 40 GB array declared in both the JSON and the NPY header, with 8 bytes stored."""
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f4", "fortran_order": False, "shape": (10**10,)})
    path = tmp_path / "ckpt"
    _zip(path, {STRUCTURE: _structure(_tensor_node(shape=(10**10,))), "a0.npy": npy.getvalue() + bytes(8)})
    with pytest.raises(CheckpointError, match=r"\['w'\]: .*40000000000 bytes.*holds only 8"):
        load(path)


def test_missing_entries_and_bad_headers(tmp_path):
    path = tmp_path / "ckpt"
    _zip(path, {"a0.npy": _npy(np.zeros(2, np.float32))})
    with pytest.raises(CheckpointError, match="missing entry __structure__.json"):
        load(path)
    _zip(path, {STRUCTURE: _structure(_tensor_node())})
    with pytest.raises(CheckpointError, match=r"\['w'\]: missing array entry a0.npy"):
        load(path)
    for text, match in [
        ("{not json", "corrupt"),
        ('{"format": "x", "root": 1}', "not an"),
        (_structure({"type": "eval", "value": "1"}), "unknown node type"),
        (_structure({"type": "int", "value": "1"}), "int node holds str"),
        (json.dumps({"format": "autograd_nn.checkpoint", "version": 9, "root": 0}), "version 9"),
        ('{"root": ' * 5000 + "0" + "}" * 5000, "corrupt"),
        (_structure({"type": "float", "value": "__import__('os')"}), "float node"),
    ]:
        _zip(path, {STRUCTURE: text})
        with pytest.raises(CheckpointError, match=match):
            load(path)


def test_deep_structure_is_refused(tmp_path):
    node = {"type": "none"}
    for _ in range(200):
        node = {"type": "list", "items": [node]}
    path = tmp_path / "ckpt"
    _zip(path, {STRUCTURE: _structure(node)})
    with pytest.raises(CheckpointError, match="nested more than"):
        load(path)


def test_compressed_entries_are_refused(tmp_path):
    path = tmp_path / "ckpt"
    _zip(
        path,
        {STRUCTURE: _structure(_tensor_node()), "a0.npy": _npy(np.zeros(2, np.float32))},
        compression=zipfile.ZIP_DEFLATED,
    )
    with pytest.raises(CheckpointError, match="compressed"):
        load(path)


def _old_format(path, epoch=3):
    """A version-1 checkpoint as the previous `save` wrote it: {"w": Tensor, "epoch": epoch}."""
    root = _tensor_node(shape=(2,))
    root["items"][0][1]["requires_grad"] = True
    root["items"].append([{"type": "str", "value": "epoch"}, {"type": "int", "value": epoch}])
    _zip(path, {STRUCTURE: _structure(root), "a0.npy": _npy(np.array([1.5, -2.0], np.float32))})


def test_old_zip_checkpoints_still_load_with_a_note(tmp_path):
    path = tmp_path / "old.ckpt"
    _old_format(path)
    with pytest.warns(UserWarning, match="old format.*save it again"):
        ckpt = load(path)
    assert ckpt["epoch"] == 3 and ckpt["w"].requires_grad and ckpt["w"].dtype == np.float32
    np.testing.assert_array_equal(ckpt["w"].numpy(), [1.5, -2.0])
    save(ckpt, path)  # converting: load, save
    assert load(path)["epoch"] == 3 and path.read_bytes()[8:9] == b"{"


# ---- the new format: what is where, and hostile safetensors files -------------------------------
def _header(path):
    with safetensors.safe_open(path, framework="np") as f:
        return json.loads(f.metadata()[METADATA_KEY]), list(f.keys())


def test_non_tensor_state_is_json_metadata_and_tensors_keep_their_names(tmp_path):
    from autograd_nn import nn, optim

    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    model(ag.randn(4, 3)).sum().backward()
    opt.step()
    sched.step()
    path = tmp_path / "c.safetensors"
    save(
        {"model": model.state_dict(), "optim": opt.state_dict(), "sched": sched.state_dict(), "epoch": 4},
        path,
    )
    header, names = _header(path)
    assert header["format"] == "autograd_nn.checkpoint" and header["version"] == 2
    assert names == [
        "model.bias",
        "model.weight",
        "optim.state.0.momentum_buffer",
        "optim.state.1.momentum_buffer",
    ]
    text = json.dumps(header)
    for fragment in ('"value": "lr"', '"value": 0.9', '"value": "last_epoch"', '"value": 4'):
        assert fragment in text
    ckpt = load(path)
    assert ckpt["sched"] == sched.state_dict() and ckpt["epoch"] == 4
    assert ckpt["optim"]["param_groups"] == opt.state_dict()["param_groups"]


def test_a_plain_state_dict_is_stored_under_its_keys(tmp_path):
    from autograd_nn import nn

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "m.safetensors"
    save(model.state_dict(), path)
    from safetensors.numpy import load_file

    plain = load_file(path)
    assert sorted(plain) == sorted(model.state_dict())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(plain[name], value.numpy())


def test_a_safetensors_file_from_another_tool_loads_as_a_dict_of_tensors(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "other.safetensors"
    save_file(
        {"b": np.arange(3, dtype=np.int64), "a": np.ones((2, 2), np.float32)}, path, metadata={"format": "pt"}
    )
    out = load(path)
    assert list(out) == ["a", "b"] and all(isinstance(v, ag.Tensor) for v in out.values())
    assert out["b"].dtype == np.int64 and out["a"].numpy().flags.writeable


def _st(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _ours(root, tensors, data):
    return _st(
        {
            "__metadata__": {
                METADATA_KEY: json.dumps({"format": "autograd_nn.checkpoint", "version": 2, "root": root})
            },
            **tensors,
        },
        data,
    )


def _w_node(**changes):
    node = {"type": "tensor", "name": "w", "dtype": "<f4", "shape": [2], "requires_grad": False, "crc32": 0}
    node.update(changes)
    return {"type": "dict", "items": [[{"type": "str", "value": "w"}, node]]}


_W = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}


@pytest.mark.parametrize(
    "blob,match",
    [
        (struct.pack("<Q", 10**15) + b"{}", "header too large"),  # huge header length
        (struct.pack("<Q", 5) + b"{not", "not a valid safetensors"),  # header cut short
        (
            _st({"w": {"dtype": "F32", "shape": [10**10], "data_offsets": [0, 4 * 10**10]}}, bytes(8)),
            "not a valid safetensors",
        ),  # 40 GB declared, 8 stored
        (
            _st({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
            "not a valid safetensors",
        ),  # shape vs byte range
        (
            _st({"w": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}, bytes(8)),
            "not a valid safetensors",
        ),  # object dtype
        (
            _st(
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                },
                bytes(8),
            ),
            "not a valid safetensors",
        ),  # overlapping tensors
        (_st({"__metadata__": {METADATA_KEY: "{not json"}}), "metadata is corrupt"),
        (_st({"__metadata__": {METADATA_KEY: '{"format": "x", "root": 1}'}}), "not an"),
        (
            _st(
                {
                    "__metadata__": {
                        METADATA_KEY: json.dumps(
                            {"format": "autograd_nn.checkpoint", "version": 9, "root": 0}
                        )
                    }
                }
            ),
            "version 9",
        ),
        (_st({"__metadata__": {METADATA_KEY: '{"root": ' * 5000 + "0" + "}" * 5000}}), "corrupt"),
        (_ours({"type": "eval", "value": "1"}, {}, b""), "unknown node type"),
        (_ours({"type": "float", "value": "__import__('os')"}, {}, b""), "float node"),
        (_ours(_w_node(name="../../etc/passwd"), _W, bytes(8)), r"\['w'\]: names the tensor"),
        (_ours(_w_node(shape=[3]), _W, bytes(8)), r"\['w'\]: .*stored as F32 \[2\].*declares <f4 \[3\]"),
        (_ours(_w_node(dtype="<f8"), _W, bytes(8)), r"\['w'\]: .*declares <f8"),
        (_ours(_w_node(shape=[10**12]), _W, bytes(8)), r"\['w'\]: .*declares <f4 \[1000000000000\]"),
        (_ours(_w_node(shape=[-1]), _W, bytes(8)), "bad declared shape"),
        (_ours(_w_node(dtype="|O"), _W, bytes(8)), "unsupported declared dtype"),
        (_ours(_w_node(dtype="<U3"), _W, bytes(8)), "unsupported declared dtype"),
        (_ours(_w_node(crc32=12345), _W, bytes(8)), r"\['w'\]: tensor 'w' is corrupt"),
        (_ours(_w_node(same_as="v"), _W, bytes(8)), "same_as 'v' is not an earlier array"),
    ],
)
def test_hostile_safetensors_files_are_refused(tmp_path, blob, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match=match):
        load(path)


def test_deep_structure_in_metadata_is_refused(tmp_path):
    node = {"type": "none"}
    for _ in range(200):
        node = {"type": "list", "items": [node]}
    path = tmp_path / "ckpt"
    path.write_bytes(_ours(node, {}, b""))
    with pytest.raises(CheckpointError, match="nested more than"):
        load(path)


def test_truncated_and_corrupted_files_are_refused(tmp_path):
    good = tmp_path / "good"
    save({"w": ag.as_tensor(np.arange(1000, dtype=np.float32)), "epoch": 3}, good)
    data = good.read_bytes()
    bad = tmp_path / "bad"
    for cut in (0, 4, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError):
            load(bad)
    flipped = bytearray(data)
    flipped[-2000] ^= 0xFF  # inside the array data: the saved checksum catches it
    bad.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match=r"\['w'\]: tensor 'w' is corrupt"):
        load(bad)
    bad.write_bytes(os.urandom(256))
    with pytest.raises(CheckpointError):
        load(bad)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")
