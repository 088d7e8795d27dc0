"""Channel dropout on every input rank, exactly as PyTorch: which ranks warn, raise or run, and what
one random draw covers (masks come from different generators, so the zero pattern is compared)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn


def _draw_groups(out: np.ndarray, x: np.ndarray, p: float) -> np.ndarray:
    """The kept/dropped flag of every element, after checking survivors are scaled by 1/(1-p)."""
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
    return kept


def _run(lib_fn, x, p, training):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = lib_fn(x, p, training)
        except Exception as err:
            return err, [str(w.message) for w in caught]
    return out, [str(w.message) for w in caught]


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d"])
@pytest.mark.parametrize(
    "shape", [(), (5,), (3, 4), (2, 3, 4), (2, 3, 2, 2), (2, 2, 2, 2, 3), (1, 2, 2, 1, 2, 2)]
)
@pytest.mark.parametrize("training", [True, False])
def test_feature_dropout_ranks_match_torch(torch, name, shape, training):
    x = np.arange(1, 1 + int(np.prod(shape)), dtype=np.float32).reshape(shape)
    ours, our_warnings = _run(getattr(F, name), ag.tensor(x), 0.5, training)
    theirs, their_warnings = _run(getattr(torch.nn.functional, name), torch.tensor(x), 0.5, training)
    assert len(our_warnings) == len(their_warnings)
    for mine, want in zip(our_warnings, their_warnings):
        assert mine == want
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"{name}{shape}: PyTorch raises {theirs!r}"
        assert isinstance(ours, (ValueError, RuntimeError))
        return
    assert not isinstance(ours, Exception), ours
    assert ours.shape == tuple(theirs.shape)
    if not training:
        np.testing.assert_array_equal(ours.numpy(), x)
        return
    # the elements one draw covers: PyTorch's mask shape, found by dropping with p -> a mask of ones
    lead = {"dropout1d": 3, "dropout2d": None, "dropout3d": 5}[name]
    batched = lead is None or x.ndim == lead
    xb = x if batched else x.reshape((1,) + x.shape)
    group = xb.shape[:2] + (1,) * (xb.ndim - 2)
    kept = _draw_groups(ours.numpy(), x, 0.5).reshape(xb.shape)
    # every element of one (sample, channel) group shares the draw
    per_group = kept.reshape(group[:2] + (-1,)) if xb.ndim >= 2 else kept
    assert (per_group.all(axis=-1) | ~per_group.any(axis=-1)).all()


def test_dropout2d_on_2d_input_drops_single_elements():
    ag.manual_seed(3)
    x = ag.ones(64, 64)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        out = nn.Dropout2d(0.5)(x).numpy()
    kept = out != 0
    rows_partly_kept = (kept.any(axis=1) & ~kept.all(axis=1)).sum()
    assert rows_partly_kept > 60  # elementwise: no row is all kept or all dropped
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(out[kept], 2.0)


def test_dropout2d_on_3d_input_drops_rows_and_gradient_uses_the_mask():
    x = ag.randn(4, 8, 5, dtype=ag.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        out = F.dropout2d(x, 0.5)
    kept = out.numpy() != 0
    assert (kept.all(axis=2) | ~kept.any(axis=2)).all()
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept * 2.0)


def test_dropout_modules_accept_unbatched_and_eval_is_identity():
    x = ag.randn(3, 4, 4, 4)
    assert nn.Dropout3d()(x).shape == (3, 4, 4, 4)
    assert nn.Dropout1d()(ag.randn(3, 4)).shape == (3, 4)
    layer = nn.Dropout3d().eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    x5 = ag.randn(2, 3, 4, 4, 4)
    assert layer(x5) is x5
    assert F.dropout2d(ag.randn(2, 3, 4, 4), 1.0).numpy().max() == 0.0
