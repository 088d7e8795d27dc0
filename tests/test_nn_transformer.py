"""Transformer layers and stacks against torch.nn (values, gradients, state dicts both ways), the
layer clone used by the stacks, and the positional encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn as nn
from autograd_nn.errors import ShapeError

RNG = np.random.default_rng(5)
E, H, FF = 8, 2, 16


def _load(mine, theirs):
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _compare(torch, mine, theirs, my_args, their_args, my_kw=None, their_kw=None, grads=True):
    """Forward values, then gradients of every parameter and input for a random projection."""
    out = mine(*my_args, **(my_kw or {}))
    ref = theirs(*their_args, **(their_kw or {}))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-8, atol=1e-10)
    if not grads:
        return
    g = RNG.standard_normal(out.shape)
    (out * ag.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    theirs_p = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_p[name].grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=name
        )
    for a, b in zip(my_args, their_args):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-9)


def _seqs(torch, *shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    return (
        [ag.tensor(a, requires_grad=True) for a in arrays],
        [torch.tensor(a, requires_grad=True) for a in arrays],
    )


def _masks(torch, T, S, N):
    causal = nn.Transformer.generate_square_subsequent_mask(T, np.float64)
    kpm = np.zeros((N, S), bool)
    kpm[1, -1] = True
    return (causal, ag.tensor(kpm)), (torch.tensor(causal.numpy()), torch.tensor(kpm))


CONFIGS = [(nf, act) for nf in (False, True) for act in ("relu", "gelu")]


@pytest.mark.parametrize("norm_first,activation", CONFIGS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_parity_train_mode(torch, norm_first, activation, batch_first):
    kw = dict(
        dim_feedforward=FF, dropout=0.0, activation=activation, norm_first=norm_first, batch_first=batch_first
    )
    theirs = torch.nn.TransformerEncoderLayer(E, H, **kw).double()
    mine = nn.TransformerEncoderLayer(E, H, **kw).double()
    _load(mine, theirs)
    (_, kpm), (_, tkpm) = _masks(torch, 5, 5, 2)
    causal = ~np.tri(5, dtype=bool)  # bool like the padding mask (PyTorch warns on a mix)
    mask, tmask = ag.tensor(causal), torch.tensor(causal)
    my_in, their_in = _seqs(torch, (2, 5, E) if batch_first else (5, 2, E))
    _compare(
        torch,
        mine,
        theirs,
        my_in,
        their_in,
        dict(src_mask=mask, src_key_padding_mask=kpm),
        dict(src_mask=tmask, src_key_padding_mask=tkpm),
    )


@pytest.mark.parametrize("norm_first,activation", CONFIGS)
def test_decoder_layer_parity_train_mode(torch, norm_first, activation):
    kw = dict(dim_feedforward=FF, dropout=0.0, activation=activation, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(E, H, **kw).double()
    mine = nn.TransformerDecoderLayer(E, H, **kw).double()
    _load(mine, theirs)
    (mask, kpm), (tmask, tkpm) = _masks(torch, 4, 5, 2)
    my_in, their_in = _seqs(torch, (4, 2, E), (5, 2, E))
    _compare(
        torch,
        mine,
        theirs,
        my_in,
        their_in,
        dict(tgt_mask=mask, memory_key_padding_mask=kpm),
        dict(tgt_mask=tmask, memory_key_padding_mask=tkpm),
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_stacks_parity_eval_mode_with_dropout(torch, norm_first):
    """In eval mode dropout is the identity, so dropout=0.1 still matches PyTorch exactly."""
    kw = dict(dim_feedforward=FF, dropout=0.1, norm_first=norm_first, activation="gelu")
    t_enc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, **kw), 2, torch.nn.LayerNorm(E), enable_nested_tensor=False
    )
    t_dec = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(E, H, **kw), 2, torch.nn.LayerNorm(E)
    )
    m_enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, **kw), 2, nn.LayerNorm(E))
    m_dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, **kw), 2, nn.LayerNorm(E))
    for m, t in ((m_enc, t_enc), (m_dec, t_dec)):
        t.double().eval()
        m.double().eval()
        _load(m, t)
    (mask, kpm), (tmask, tkpm) = _masks(torch, 4, 5, 2)
    src, tsrc = _seqs(torch, (5, 2, E))
    _compare(
        torch,
        m_enc,
        t_enc,
        src,
        tsrc,
        dict(src_key_padding_mask=kpm),
        dict(src_key_padding_mask=tkpm),
        grads=False,
    )
    (tgt, mem), (ttgt, tmem) = _seqs(torch, (4, 2, E), (5, 2, E))
    _compare(
        torch, m_dec, t_dec, [tgt, mem], [ttgt, tmem], dict(tgt_mask=mask), dict(tgt_mask=tmask), grads=False
    )


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_parity_and_state_dict_both_ways(torch, norm_first):
    kw = dict(
        d_model=E,
        nhead=H,
        num_encoder_layers=2,
        num_decoder_layers=1,
        dim_feedforward=FF,
        dropout=0.0,
        norm_first=norm_first,
        batch_first=True,
    )
    mine = nn.Transformer(**kw)
    theirs = torch.nn.Transformer(**kw)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mine.state_dict().items()})
    mine.double()
    theirs.double()
    (mask, kpm), (tmask, tkpm) = _masks(torch, 4, 5, 2)
    (src, tgt), (tsrc, ttgt) = _seqs(torch, (2, 5, E), (2, 4, E))
    _compare(
        torch,
        mine,
        theirs,
        [src, tgt],
        [tsrc, ttgt],
        dict(tgt_mask=mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm),
        dict(tgt_mask=tmask, src_key_padding_mask=tkpm, memory_key_padding_mask=tkpm),
    )


def test_transformer_defaults_init_and_mask(torch):
    model = nn.Transformer(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=FF)
    assert model.encoder.layers[0].linear1.weight.shape == (FF, E)
    w = model.encoder.layers[0].linear1.weight.numpy()
    assert np.abs(w).max() <= math.sqrt(6 / (E + FF))  # Xavier-uniform bound
    assert model.encoder.layers[0].self_attn.dropout == 0.1
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    ref = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask.numpy(), ref.numpy())


def test_stack_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0).double()
    layer.linear1.weight.requires_grad_(False)
    enc = nn.TransformerEncoder(layer, 3)
    a, b = enc.layers[0], enc.layers[1]
    assert a is not layer and a is not b
    assert a.linear1.weight.dtype == np.float64 and not a.linear1.weight.requires_grad
    np.testing.assert_array_equal(a.linear2.weight.numpy(), layer.linear2.weight.numpy())
    a.linear2.weight.numpy()[0, 0] += 1.0
    assert b.linear2.weight.numpy()[0, 0] == layer.linear2.weight.numpy()[0, 0]
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


def test_transformer_errors():
    layer = nn.TransformerEncoderLayer(E, H, FF)
    with pytest.raises(ShapeError, match="TransformerEncoderLayer.*src"):
        layer(ag.randn(3, 2, E + 1))
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(E, H, activation="swish")
    model = nn.Transformer(E, H, 1, 1, FF, batch_first=True)
    with pytest.raises(ShapeError, match="batch size"):
        model(ag.randn(2, 3, E), ag.randn(3, 3, E))


def test_layer_gradcheck_float64():
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    x = ag.tensor(RNG.standard_normal((3, 1, 4)), requires_grad=True)
    assert ag.gradcheck(lambda x, w: layer(x), (x, layer.self_attn.in_proj_weight))


# ---- positional encodings ------------------------------------------------------------------------
def test_sinusoidal_encoding_matches_the_paper_formula():
    d, n = 6, 10
    pe = nn.SinusoidalPositionalEncoding(d, max_len=n, dropout=0.0)
    pos = np.arange(n)[:, None]
    i = np.arange(d // 2)[None, :]
    angle = pos / 10000 ** (2 * i / d)
    np.testing.assert_allclose(pe.pe.numpy()[:, 0::2], np.sin(angle), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pe.pe.numpy()[:, 1::2], np.cos(angle), rtol=1e-5, atol=1e-6)
    assert "pe" not in pe.state_dict() and len(list(pe.buffers())) == 1
    x = ag.randn(4, 2, d)
    np.testing.assert_allclose(pe(x).numpy(), x.numpy() + pe.pe.numpy()[:4, None], rtol=1e-6)
    bf = nn.SinusoidalPositionalEncoding(d, max_len=n, dropout=0.0, batch_first=True)
    np.testing.assert_allclose(bf(x, offset=3).numpy(), x.numpy() + pe.pe.numpy()[None, 3:5], rtol=1e-6)
    assert nn.SinusoidalPositionalEncoding(5, 8).pe.shape == (8, 5)
    with pytest.raises(ShapeError, match="max_len=10"):
        pe(ag.randn(11, 1, d))


def test_learned_positional_embedding_trains_used_rows_only():
    emb = nn.LearnedPositionalEmbedding(max_len=7, d_model=3, batch_first=True)
    assert [n for n, _ in emb.named_parameters()] == ["weight"]
    assert 0 < emb.weight.numpy().std() < 0.05
    x = ag.randn(2, 4, 3)
    out = emb(x, offset=1)
    np.testing.assert_allclose(out.numpy(), x.numpy() + emb.weight.numpy()[None, 1:5], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy()[1:5], 2.0)
    assert np.all(emb.weight.grad.numpy()[[0, 5, 6]] == 0)
    with pytest.raises(ShapeError, match="LearnedPositionalEmbedding"):
        emb(ag.randn(2, 4, 5))
