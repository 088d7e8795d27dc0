"""Attention: F.scaled_dot_product_attention, F.multi_head_attention_forward, nn.MultiheadAttention
against PyTorch (values and gradients), gradchecks, fully masked rows, errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
import autograd_nn.nn as nn
from autograd_nn.errors import ShapeError

RNG = np.random.default_rng(11)


def _grads_match(torch, mine, theirs, my_in, their_in, my_mod=None, their_mod=None, rtol=1e-9, atol=1e-11):
    """Forward values equal; gradients of a random projection equal for inputs and parameters."""
    np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(mine.shape)
    (mine * ag.tensor(g.astype(mine.dtype))).sum().backward()
    (theirs * torch.tensor(g, dtype=theirs.dtype)).sum().backward()
    for a, b in zip(my_in, their_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    if my_mod is not None:
        ref = dict(their_mod.named_parameters())
        for name, p in my_mod.named_parameters():
            np.testing.assert_allclose(
                p.grad.numpy(), ref[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
            )


def _inputs(torch, *shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    return (
        [ag.tensor(a, requires_grad=True) for a in arrays],
        [torch.tensor(a, requires_grad=True) for a in arrays],
    )


# ---- scaled_dot_product_attention ----------------------------------------------------------------
def _sdpa_masks(torch):
    keep = RNG.random((4, 6)) > 0.4
    keep[:, 0] = True
    additive = np.where(keep, 0.0, -np.inf) + RNG.standard_normal((4, 6)) * 0.1
    return [
        ({}, {}),
        ({"attn_mask": ag.tensor(keep)}, {"attn_mask": torch.tensor(keep)}),
        ({"attn_mask": ag.tensor(additive)}, {"attn_mask": torch.tensor(additive)}),
        ({"is_causal": True}, {"is_causal": True}),
        ({"scale": 0.3}, {"scale": 0.3}),
    ]


@pytest.mark.parametrize("case", range(5))
def test_sdpa_parity(torch, case):
    my_kw, their_kw = _sdpa_masks(torch)[case]
    my_in, their_in = _inputs(torch, (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))
    out = F.scaled_dot_product_attention(*my_in, **my_kw)
    ref = torch.nn.functional.scaled_dot_product_attention(*their_in, **their_kw)
    _grads_match(torch, out, ref, my_in, their_in)


def test_sdpa_fully_masked_row_is_zero_like_pytorch(torch):
    keep = np.ones((3, 5), bool)
    keep[1] = False
    my_in, their_in = _inputs(torch, (2, 3, 4), (2, 5, 4), (2, 5, 4))
    out = F.scaled_dot_product_attention(*my_in, attn_mask=ag.tensor(keep))
    ref = torch.nn.functional.scaled_dot_product_attention(*their_in, attn_mask=torch.tensor(keep))
    assert np.all(out.numpy()[:, 1] == 0)
    _grads_match(torch, out, ref, my_in, their_in)
    assert all(np.isfinite(t.grad.numpy()).all() for t in my_in)
    mask = ag.tensor(keep)
    assert ag.gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), my_in)


def test_sdpa_float32_and_gqa(torch):
    q = RNG.standard_normal((2, 4, 3, 8)).astype(np.float32)
    kv = RNG.standard_normal((2, 2, 5, 8)).astype(np.float32)
    out = F.scaled_dot_product_attention(ag.tensor(q), ag.tensor(kv), ag.tensor(kv), enable_gqa=True)
    ref = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(kv), torch.tensor(kv), enable_gqa=True
    )
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_gradcheck_and_errors():
    q, k, v = (
        ag.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3))
    )
    mask = ag.tensor(RNG.random((3, 5)) > 0.3)
    assert ag.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v))
    with pytest.raises(ShapeError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
    with pytest.raises(ShapeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=ag.ones(4, 5).bool())


def test_sdpa_dropout_zeroes_weights():
    q, k, v = (ag.tensor(RNG.standard_normal((1, 50, 4))) for _ in range(3))
    ag.manual_seed(1)
    full = F.scaled_dot_product_attention(q, k, ag.ones(1, 50, 1).double(), dropout_p=0.5)
    # each row sums its kept (rescaled) weights: the rows differ from 1 and some keep nothing near 1
    assert not np.allclose(full.numpy(), 1.0)
    assert np.isclose(full.numpy().mean(), 1.0, atol=0.2)


# ---- MultiheadAttention ------------------------------------------------------------------------
def _mha_pair(torch, *args, **kwargs):
    theirs = torch.nn.MultiheadAttention(*args, **kwargs).double()
    mine = nn.MultiheadAttention(*args, **kwargs).double()
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return mine, theirs


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kdim", [None, 3])
@pytest.mark.parametrize("average", [True, False])
def test_mha_parity_with_masks(torch, batch_first, kdim, average):
    E, H, N, L, S = 8, 2, 3, 4, 5
    mine, theirs = _mha_pair(torch, E, H, batch_first=batch_first, kdim=kdim, vdim=kdim)
    kd = kdim or E
    shapes = [(N, L, E), (N, S, kd), (N, S, kd)] if batch_first else [(L, N, E), (S, N, kd), (S, N, kd)]
    my_in, their_in = _inputs(torch, *shapes)
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    am = RNG.random((L, S)) < 0.3
    am[:, 0] = False
    out, w = mine(
        *my_in, key_padding_mask=ag.tensor(kpm), attn_mask=ag.tensor(am), average_attn_weights=average
    )
    ref, rw = theirs(
        *their_in,
        key_padding_mask=torch.tensor(kpm),
        attn_mask=torch.tensor(am),
        average_attn_weights=average,
    )
    assert w.shape == tuple(rw.shape) == ((N, L, S) if average else (N, H, L, S))
    np.testing.assert_allclose(w.numpy(), rw.detach().numpy(), rtol=1e-9, atol=1e-11)
    _grads_match(torch, out, ref, my_in, their_in, mine, theirs)


def test_mha_self_attention_float_mask_no_weights(torch):
    mine, theirs = _mha_pair(torch, 6, 3, batch_first=True)
    my_in, their_in = _inputs(torch, (2, 5, 6))
    fmask = RNG.standard_normal((6, 5, 5))  # per (batch * head) additive mask
    out, w = mine(my_in[0], my_in[0], my_in[0], attn_mask=ag.tensor(fmask), need_weights=False)
    ref, _ = theirs(their_in[0], their_in[0], their_in[0], attn_mask=torch.tensor(fmask), need_weights=False)
    assert w is None
    _grads_match(torch, out, ref, my_in, their_in, mine, theirs)


def test_mha_bias_kv_zero_attn_unbatched(torch):
    mine, theirs = _mha_pair(torch, 4, 2, add_bias_kv=True, add_zero_attn=True, bias=False)
    my_in, their_in = _inputs(torch, (3, 4), (5, 4), (5, 4))
    kpm = np.array([False, False, True, False, False])
    out, w = mine(*my_in, key_padding_mask=ag.tensor(kpm))
    ref, rw = theirs(*their_in, key_padding_mask=torch.tensor(kpm))
    np.testing.assert_allclose(w.numpy(), rw.detach().numpy(), rtol=1e-9, atol=1e-11)
    _grads_match(torch, out, ref, my_in, their_in, mine, theirs)


def test_mha_is_causal_matches_explicit_mask(torch):
    mine, theirs = _mha_pair(torch, 4, 2)
    x = RNG.standard_normal((5, 2, 4))
    causal = ~np.tri(5, dtype=bool)
    out, _ = mine(ag.tensor(x), ag.tensor(x), ag.tensor(x), is_causal=True, need_weights=False)
    tx = torch.tensor(x)
    ref, _ = theirs(tx, tx, tx, attn_mask=torch.tensor(causal), is_causal=True, need_weights=False)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_functional_mha_forward_parity(torch):
    mine, theirs = _mha_pair(torch, 6, 2)
    my_in, their_in = _inputs(torch, (4, 2, 6), (3, 2, 6), (3, 2, 6))
    args = dict(
        embed_dim_to_check=6, num_heads=2, bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0
    )
    out, w = F.multi_head_attention_forward(
        *my_in,
        in_proj_weight=mine.in_proj_weight,
        in_proj_bias=mine.in_proj_bias,
        out_proj_weight=mine.out_proj.weight,
        out_proj_bias=mine.out_proj.bias,
        **args,
    )
    ref, rw = torch.nn.functional.multi_head_attention_forward(
        *their_in,
        in_proj_weight=theirs.in_proj_weight,
        in_proj_bias=theirs.in_proj_bias,
        out_proj_weight=theirs.out_proj.weight,
        out_proj_bias=theirs.out_proj.bias,
        **args,
    )
    np.testing.assert_allclose(w.numpy(), rw.detach().numpy(), rtol=1e-9, atol=1e-11)
    _grads_match(torch, out, ref, my_in, their_in)


def test_mha_fully_masked_row_gives_finite_zero_attention():
    mha = nn.MultiheadAttention(4, 2, bias=False).double()
    x = ag.tensor(RNG.standard_normal((3, 1, 4)), requires_grad=True)
    mask = np.zeros((3, 3), bool)
    mask[1] = True  # query 1 may attend nothing
    out, w = mha(x, x, x, attn_mask=ag.tensor(mask))
    assert np.all(w.numpy()[0, 1] == 0) and np.all(out.numpy()[1] == 0)
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_mha_init_gradcheck_and_errors():
    mha = nn.MultiheadAttention(4, 2)
    assert mha.in_proj_weight.shape == (12, 4) and mha.q_proj_weight is None
    assert np.all(mha.in_proj_bias.numpy() == 0) and np.all(mha.out_proj.bias.numpy() == 0)
    bound = np.sqrt(6 / (4 + 12))
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    small = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    q = ag.tensor(RNG.standard_normal((2, 1, 4)), requires_grad=True)
    k = ag.tensor(RNG.standard_normal((3, 1, 3)), requires_grad=True)
    v = ag.tensor(RNG.standard_normal((3, 1, 2)), requires_grad=True)
    assert ag.gradcheck(lambda q, k, v, w: small(q, k, v)[0], (q, k, v, small.k_proj_weight))
    with pytest.raises(ShapeError, match=r"MultiheadAttention\(embed_dim=4, num_heads=2\)"):
        mha(ag.randn(2, 1, 5), ag.randn(2, 1, 4), ag.randn(2, 1, 4))
    with pytest.raises(ShapeError, match="key_padding_mask"):
        mha(ag.randn(2, 1, 4), ag.randn(3, 1, 4), ag.randn(3, 1, 4), key_padding_mask=ag.zeros(1, 2).bool())
    with pytest.raises(ValueError, match="multiple"):
        nn.MultiheadAttention(5, 2)
