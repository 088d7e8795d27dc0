"""Movement, joining and padding ops: NumPy values, float64 gradchecks, PyTorch parity, errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from tests.helpers import check_torch_parity, rand

AG = SimpleNamespace(lib=ag, F=F)


def torch_ns(torch):
    return SimpleNamespace(lib=torch, F=torch.nn.functional)


# (id, fn(ns, *inputs) written once for both libraries, input shapes)
CASES = [
    ("reshape", lambda m, x: x.reshape(3, -1), [(2, 3, 2)]),
    ("reshape_0d", lambda m, x: x.reshape(1, 1), [()]),
    ("view_flat", lambda m, x: x.view(-1), [(2, 3)]),
    ("view_as", lambda m, x, y: x.view_as(y) * y, [(2, 3), (3, 2)]),
    ("flatten", lambda m, x: x.flatten(1), [(2, 3, 4)]),
    ("flatten_range", lambda m, x: m.lib.flatten(x, -3, -2), [(2, 3, 1, 2)]),
    ("flatten_0d", lambda m, x: x.flatten(), [()]),
    ("unflatten", lambda m, x: x.unflatten(-1, (2, -1)), [(3, 4)]),
    ("squeeze_all", lambda m, x: x.squeeze(), [(1, 3, 1, 2)]),
    ("squeeze_dim", lambda m, x: x.squeeze(-2), [(1, 3, 1, 2)]),
    ("squeeze_noop", lambda m, x: x.squeeze(1), [(1, 3, 1, 2)]),
    ("squeeze_tuple", lambda m, x: m.lib.squeeze(x, (0, 2)), [(1, 3, 1, 2)]),
    ("unsqueeze", lambda m, x: x.unsqueeze(-1), [(2, 3)]),
    ("unsqueeze_0d", lambda m, x: m.lib.unsqueeze(x, 0), [()]),
    ("transpose", lambda m, x: x.transpose(0, -1), [(2, 3, 4)]),
    ("swapaxes", lambda m, x: m.lib.swapaxes(x, 1, 2), [(2, 3, 4)]),
    ("swapdims", lambda m, x: x.swapdims(-1, 0), [(2, 1, 4)]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("movedim", lambda m, x: m.lib.movedim(x, 0, -1), [(2, 3, 4)]),
    ("T", lambda m, x: x.T, [(3, 4)]),
    ("mT", lambda m, x: x.mT, [(2, 3, 4)]),
    ("expand", lambda m, x: x.expand(2, -1, 3), [(3, 1)]),
    ("expand_as", lambda m, x, y: x.expand_as(y) * y, [(1, 3), (2, 3)]),
    ("broadcast_to", lambda m, x: m.lib.broadcast_to(x, (2, 3)), [()]),
    ("broadcast_tensors", lambda m, x, y: m.lib.broadcast_tensors(x, y)[0] * 2.0, [(3, 1), (2, 1, 4)]),
    ("repeat", lambda m, x: x.repeat(2, 1, 3), [(2, 3)]),
    ("repeat_0d", lambda m, x: x.repeat(3), [()]),
    ("tile", lambda m, x: m.lib.tile(x, (2,)), [(2, 3)]),
    ("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=1), [(2, 3)]),
    ("repeat_interleave_flat", lambda m, x: m.lib.repeat_interleave(x, 3), [(2, 2)]),
    ("flip", lambda m, x: x.flip(0, -1), [(2, 3, 2)]),
    ("flip_fn", lambda m, x: m.lib.flip(x, (1,)), [(2, 3)]),
    ("roll", lambda m, x: x.roll(1, 0), [(3, 2)]),
    ("roll_multi", lambda m, x: m.lib.roll(x, (1, -2), (0, 1)), [(3, 4)]),
    ("roll_flat", lambda m, x: x.roll(2), [(2, 3)]),
    ("clone", lambda m, x: x.clone() * x, [(2, 3)]),
    ("contiguous", lambda m, x: x.T.contiguous(), [(2, 3)]),
    ("narrow", lambda m, x: x.narrow(1, 1, 2), [(2, 4)]),
    ("narrow_neg", lambda m, x: m.lib.narrow(x, -1, -2, 2), [(2, 4)]),
    ("split_int", lambda m, x: m.lib.cat(x.split(2, dim=1)[::-1], 1), [(2, 5)]),
    ("split_sizes", lambda m, x: m.lib.cat(m.lib.split(x, [1, 3], -1)[::-1], -1), [(2, 4)]),
    ("chunk", lambda m, x: m.lib.cat(x.chunk(3, 0)[::-1], 0), [(5, 2)]),
    ("unbind", lambda m, x: m.lib.stack(x.unbind(1)[::-1], 0), [(2, 3)]),
    ("cat", lambda m, x, y: m.lib.cat([x, y], dim=1), [(2, 3), (2, 1)]),
    ("cat_neg_repeated", lambda m, x: m.lib.cat([x, x * 2.0, x], -1), [(2, 2)]),
    ("concat", lambda m, x, y: m.lib.concat([x, y]), [(1, 3), (2, 3)]),
    ("concatenate", lambda m, x, y: m.lib.concatenate([x, y], 0), [(1,), (3,)]),
    ("stack", lambda m, x, y: m.lib.stack([x, y], dim=-1), [(2, 3), (2, 3)]),
    ("stack_0d", lambda m, x, y: m.lib.stack((x, y)), [(), ()]),
    ("hstack", lambda m, x, y: m.lib.hstack([x, y]), [(2, 1), (2, 3)]),
    ("vstack", lambda m, x, y: m.lib.vstack([x, y]), [(3,), (2, 3)]),
    ("pad_constant", lambda m, x: m.F.pad(x, (1, 2)), [(2, 3)]),
    ("pad_value", lambda m, x: m.F.pad(x, (0, 1, 2, 0), value=2.5), [(2, 3)]),
    ("pad_negative", lambda m, x: m.F.pad(x, (-1, 2, 1, -1)), [(3, 4)]),
    ("pad_reflect_1d", lambda m, x: m.F.pad(x, (2, 1), mode="reflect"), [(2, 3, 4)]),
    ("pad_reflect_2d", lambda m, x: m.F.pad(x, (1, 2, 2, 1), mode="reflect"), [(1, 2, 3, 4)]),
    ("pad_replicate", lambda m, x: m.F.pad(x, (3, 1, 0, 2), mode="replicate"), [(1, 2, 3, 2)]),
    ("pad_circular", lambda m, x: m.F.pad(x, (2, 3), mode="circular"), [(2, 1, 3)]),
    ("pad_circular_2d", lambda m, x: m.F.pad(x, (1, 1, 2, 0), mode="circular"), [(1, 1, 2, 3)]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_gradcheck(name, fn, shapes):
    xs = [rand(s) for s in shapes]
    assert ag.gradcheck(lambda *a: fn(AG, *a), xs)


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_gradgradcheck(name, fn, shapes):
    """The square makes the first derivative depend on x, so the op's backward is differentiated."""
    xs = [rand(s) for s in shapes]
    assert ag.gradgradcheck(lambda *a: fn(AG, *a) ** 2, xs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_torch_parity(name, fn, shapes, dtype, torch):
    xs = [rand(s, dtype) for s in shapes]
    tns = torch_ns(torch)
    check_torch_parity(lambda *a: fn(AG, *a), lambda *a: fn(tns, *a), xs, torch)
    out = fn(AG, *xs)
    assert out.dtype == dtype
    g = ag.grad(out.sum(), xs, allow_unused=True)
    assert all(gi is None or gi.dtype == dtype for gi in g)


NUMPY_CASES = [
    ("reshape", lambda x: x.reshape(4, -1), lambda a: a.reshape(4, -1)),
    ("permute", lambda x: x.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    ("flip", lambda x: x.flip(1), lambda a: a[:, ::-1]),
    ("roll", lambda x: x.roll((1, 2), (0, 2)), lambda a: np.roll(a, (1, 2), (0, 2))),
    ("repeat", lambda x: x.repeat(2, 1, 1, 2), lambda a: np.tile(a, (2, 1, 1, 2))),
    ("repeat_interleave", lambda x: x.repeat_interleave(2, 2), lambda a: np.repeat(a, 2, 2)),
    ("cat", lambda x: ag.cat([x, x[:1]], 0), lambda a: np.concatenate([a, a[:1]], 0)),
    ("stack", lambda x: ag.stack([x, x], 1), lambda a: np.stack([a, a], 1)),
    ("split", lambda x: x.split(3, -1)[1], lambda a: np.split(a, [3], -1)[1]),
    (
        "reflect",
        lambda x: F.pad(x, (2, 3), "reflect"),
        lambda a: np.pad(a, [(0, 0), (0, 0), (2, 3)], "reflect"),
    ),
    (
        "replicate",
        lambda x: F.pad(x, (1, 2, 2, 1), "replicate"),
        lambda a: np.pad(a, [(0, 0), (2, 1), (1, 2)], "edge"),
    ),
    (
        "circular",
        lambda x: F.pad(x, (0, 3, 1, 1), "circular"),
        lambda a: np.pad(a, [(0, 0), (1, 1), (0, 3)], "wrap"),
    ),
    (
        "constant",
        lambda x: F.pad(x, (1, 1, 0, 0, 1, 0), value=-1.0),
        lambda a: np.pad(a, [(1, 0), (0, 0), (1, 1)], constant_values=-1.0),
    ),
]


@pytest.mark.parametrize("name,fn,ref", NUMPY_CASES, ids=[c[0] for c in NUMPY_CASES])
def test_forward_matches_numpy(name, fn, ref):
    x = rand((2, 3, 4), np.float32, requires_grad=False)
    out = fn(x)
    np.testing.assert_array_equal(out.numpy(), ref(x.numpy()))
    assert out.dtype == np.float32


def test_int_tensors_move_without_grad():
    x = ag.arange(12).reshape(3, 4)
    assert x.dtype == np.int64
    assert x.T.flip(0).tolist() == np.arange(12).reshape(3, 4).T[::-1].tolist()
    assert ag.cat([x, x.float()]).dtype == np.float32  # promotion, as torch.cat


def test_split_gradients_add_up():
    x = rand((4, 3))
    a, b = x.split(2)
    (a.sum() * 2.0 + b.sum() * 3.0 + x.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0] * 3] * 2 + [[4.0] * 3] * 2)


def test_chunk_sizes_like_torch():
    x = rand((7, 2))
    assert [c.shape[0] for c in x.chunk(3)] == [3, 3, 1]
    assert [c.shape[0] for c in x.chunk(4)] == [2, 2, 2, 1]
    assert [c.shape[0] for c in x.chunk(10)] == [1] * 7


ERRORS = [
    (lambda x: x.reshape(4, 4), ag.ShapeError, "reshape: shape \\(4, 4\\) is invalid"),
    (lambda x: x.view(-1, -1), ag.ShapeError, "only one dimension can be -1"),
    (lambda x: x.reshape(5, -1), ag.ShapeError, "invalid for an input of shape"),
    (lambda x: x.flatten(2, 1), ag.ShapeError, "flatten"),
    (lambda x: x.unflatten(1, (4, -1)), ag.ShapeError, "unflatten"),
    (lambda x: x.permute(0, 0, 1), ag.ShapeError, "not a permutation"),
    (lambda x: x.transpose(0, 3), ag.OpIndexError, "transpose: dim 3 is out of range"),
    (lambda x: x.unsqueeze(4), ag.OpIndexError, "unsqueeze"),
    (lambda x: x.expand(2, 5, 4), ag.ShapeError, "cannot expand shape \\(2, 3, 4\\)"),
    (lambda x: x.expand(4), ag.ShapeError, "fewer dims"),
    (lambda x: x.repeat(2, 2), ag.ShapeError, "repeat: 2 repeats"),
    (lambda x: x.flip(0, 0), ag.ShapeError, "repeats an axis"),
    (lambda x: x.roll((1, 2), 0), ag.ShapeError, "roll"),
    (lambda x: x.narrow(1, 2, 2), ag.ShapeError, "narrow: start 2 \\+ length 2 exceeds"),
    (lambda x: x.split([1, 1], 1), ag.ShapeError, "split: sizes \\[1, 1\\] do not add up to 3"),
    (lambda x: x.split(0), ag.ShapeError, "split_size must be positive"),
    (lambda x: x.chunk(0), ag.ShapeError, "chunks must be positive"),
    (lambda x: ag.cat([x, x[:, :1, :2]], 1), ag.ShapeError, "cat: shapes"),
    (lambda x: ag.cat([]), ag.ShapeError, "non-empty"),
    (lambda x: ag.stack([x, x[:1]]), ag.ShapeError, "stack: all tensors must have the same shape"),
    (lambda x: F.pad(x, (1,)), ag.ShapeError, "even length"),
    (lambda x: F.pad(x, (4, 0), mode="reflect"), ag.ShapeError, "reflect padding \\(4, 0\\)"),
    (lambda x: F.pad(x, (5, 0), mode="circular"), ag.ShapeError, "circular padding"),
    (lambda x: F.pad(x, (-3, -1), mode="replicate"), ag.ShapeError, "must be at least 1"),
    (lambda x: F.pad(x, (-3, -2)), ag.ShapeError, "removes more"),
    (lambda x: F.pad(x, (1, 1), mode="wrap"), ValueError, "mode must be one of"),
    (lambda x: x.mT.sum().reshape(1).mT, ag.ShapeError, "mT"),
    (lambda x: ag.broadcast_tensors(x, x[:, :2]), ag.ShapeError, "do not broadcast"),
    (lambda x: x.repeat_interleave(ag.tensor([1, 2]), 1), ag.ShapeError, "2 repeats for dim 1"),
]


@pytest.mark.parametrize("fn,err,match", ERRORS)
def test_clear_errors(fn, err, match):
    x = rand((2, 3, 4))
    with pytest.raises(err, match=match):
        fn(x)
