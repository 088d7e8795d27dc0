"""`summary`: parameter totals (also against PyTorch), mult-adds, sharing, freezing, hooks."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.viz.summary import COLUMNS, ModelSummary, summary


def layer(name: str) -> type:
    """An nn layer class, or a clean skip while it is not written yet."""
    cls = getattr(nn, name, None)
    if cls is None:
        pytest.skip(f"nn.{name} does not exist yet, so its summary cannot be checked")
    return cls


def n_params(model) -> int:
    return sum(p.numpy().size for p in model.parameters())


def torch_flop_mult_adds(torch, model, *inputs) -> int:
    """PyTorch's own count of the matmul/conv work (FLOPs / 2) of one forward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs)
    return counter.get_total_flops() // 2


def all_hooks(model) -> list:
    return [h for m in model.modules() for h in (*m._forward_hooks.values(), *m._forward_pre_hooks.values())]


# ---- the same architectures here and in PyTorch ---------------------------------------------
def mlp(lib):
    n = lib.nn
    return n.Sequential(n.Linear(20, 64), n.ReLU(), n.Linear(64, 64), n.Tanh(), n.Linear(64, 5))


def cnn(lib):
    n = lib.nn
    return n.Sequential(
        n.Conv2d(3, 8, 3, padding=1),
        n.BatchNorm2d(8),
        n.ReLU(),
        n.MaxPool2d(2),  # (2, 8, 8, 8)
        n.Conv2d(8, 16, 3, groups=2, bias=False),
        n.BatchNorm2d(16),
        n.ReLU(),  # (2, 16, 6, 6)
        n.Flatten(),
        n.Linear(16 * 6 * 6, 10),
    )


def test_mlp_totals_equal_parameter_sizes_and_pytorch(torch, capsys):
    model = mlp(ag)
    info = summary(model, input_shape=(32, 20), verbose=1)
    assert "Total params: 5,829" in capsys.readouterr().out
    assert info.total_params == n_params(model) == 20 * 64 + 64 + 64 * 64 + 64 + 64 * 5 + 5
    assert info.total_params == sum(p.numel() for p in mlp(torch).parameters())
    assert info.trainable_params == info.total_params and info.non_trainable_params == 0
    assert info.total_mult_adds == 32 * (20 * 64 + 64 * 64 + 64 * 5)
    assert info.total_mult_adds == torch_flop_mult_adds(torch, mlp(torch), torch.zeros(32, 20))
    assert [(r.name, r.class_name, r.depth) for r in info.layers] == [
        ("", "Sequential", 0),
        ("0", "Linear", 1),
        ("1", "ReLU", 1),
        ("2", "Linear", 1),
        ("3", "Tanh", 1),
        ("4", "Linear", 1),
    ]
    assert info.layer("2").num_params == 64 * 64 + 64 and info.layer("3").num_params == 0
    assert info.layer("4").output_shape == (32, 5)
    assert info.params_bytes == 4 * info.total_params and info.input_bytes == 32 * 20 * 4
    assert info.activation_bytes == 4 * 32 * (64 + 64 + 64 + 64 + 5)


def test_cnn_with_batchnorm_matches_pytorch_and_conv_formula(torch):
    model = cnn(ag)
    info = summary(model, input_shape=(2, 3, 16, 16), verbose=0)
    assert info.total_params == n_params(model)
    assert info.total_params == sum(p.numel() for p in cnn(torch).parameters())
    conv1 = 2 * 8 * 16 * 16 * 3 * 3 * 3  # output elements * in_channels / groups * kh * kw
    conv2 = 2 * 16 * 6 * 6 * (8 // 2) * 3 * 3
    assert info.layer("0").mult_adds == conv1 and info.layer("4").mult_adds == conv2
    assert info.layer("8").mult_adds == 2 * 576 * 10
    assert info.total_mult_adds == conv1 + conv2 + 2 * 576 * 10
    assert info.total_mult_adds == torch_flop_mult_adds(torch, cnn(torch), torch.zeros(2, 3, 16, 16))
    assert info.layer("1").num_params == 16  # weight and bias; running stats are buffers
    assert info.layer("4").output_shape == (2, 16, 6, 6)


def test_transposed_and_1d_convolutions_match_pytorch_counts(torch):
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    info = summary(up, input_shape=(1, 4, 5, 5), verbose=0)
    assert info.total_mult_adds == 4 * 5 * 5 * (6 // 2) * 3 * 3  # input elements * out/groups * k
    assert info.total_mult_adds == torch_flop_mult_adds(
        torch, torch.nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2), torch.zeros(1, 4, 5, 5)
    )
    conv = nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)
    info = summary(conv, input_shape=(2, 4, 9), verbose=0)
    assert info.layers[0].output_shape == (2, 6, 5)
    assert info.total_mult_adds == 2 * 6 * 5 * 2 * 3


def test_lstm_totals_match_pytorch_and_count_every_step(torch):
    lstm_cls = layer("LSTM")
    model = lstm_cls(10, 20, num_layers=2, bidirectional=True)
    info = summary(model, input_shape=(7, 3, 10), verbose=0)
    torch_model = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    assert info.total_params == n_params(model) == sum(p.numel() for p in torch_model.parameters())
    gates = 4 * 20
    per_step = 2 * gates * (10 + 20) + 2 * gates * (2 * 20 + 20)  # both directions, both layers
    assert info.total_mult_adds == 7 * 3 * per_step
    assert info.layers[0].output_shapes == [(7, 3, 40), (4, 3, 20), (4, 3, 20)]


def test_lstm_with_projection_counts_the_projection_matmul(torch):
    lstm_cls = layer("LSTM")
    model = lstm_cls(10, 20, proj_size=5, batch_first=True)
    info = summary(model, input_shape=(3, 7, 10), verbose=0)
    torch_model = torch.nn.LSTM(10, 20, proj_size=5, batch_first=True)
    assert info.total_params == sum(p.numel() for p in torch_model.parameters())
    assert info.total_mult_adds == 3 * 7 * (80 * 10 + 80 * 5 + 5 * 20)  # W_ih, W_hh, W_hr
    assert info.layers[0].output_shapes == [(3, 7, 5), (1, 3, 5), (1, 3, 20)]


def test_transformer_encoder_layer_matches_pytorch_and_attention_formula(torch):
    cls = layer("TransformerEncoderLayer")
    model = cls(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0)
    info = summary(model, input_shape=(5, 2, 16), verbose=0)
    torch_model = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0)
    assert info.total_params == n_params(model) == sum(p.numel() for p in torch_model.parameters())
    tokens, length, e = 5 * 2, 5, 16
    attention = 3 * tokens * e * e + 2 * tokens * length * e  # q/k/v projections, scores, sum
    assert info.layer("self_attn").mult_adds == attention
    assert info.layer("self_attn.out_proj").mult_adds == tokens * e * e
    assert info.total_mult_adds == attention + tokens * e * e + 2 * tokens * e * 32
    assert info.layer("self_attn").num_params == 3 * e * e + 3 * e  # in_proj only: out_proj's own


def test_cross_attention_and_cells_count_their_matmuls(torch):
    mha_cls = layer("MultiheadAttention")
    mha = mha_cls(8, 2, kdim=5, vdim=3, batch_first=True)
    q, kv = ag.randn(2, 4, 8), ag.randn(2, 6, 5)
    info = summary(mha, input_data=[q, kv, ag.randn(2, 6, 3)], verbose=0)
    torch_mha = torch.nn.MultiheadAttention(8, 2, kdim=5, vdim=3, batch_first=True)
    assert info.total_params == sum(p.numel() for p in torch_mha.parameters())
    tokens, keys = 2 * 4, 2 * 6
    projections = tokens * 8 * 8 + keys * 5 * 8 + keys * 3 * 8
    assert info.layers[0].mult_adds == projections + 2 * (2 * 4 * 6 * 8)  # + scores, weighted sum
    assert info.total_mult_adds == info.layers[0].mult_adds + tokens * 8 * 8  # + out_proj
    cell = layer("GRUCell")(6, 4)
    info = summary(cell, input_shape=(5, 6), verbose=0)
    assert info.total_mult_adds == 5 * (3 * 4 * 6 + 3 * 4 * 4)
    assert info.total_params == sum(p.numel() for p in torch.nn.GRUCell(6, 4).parameters())


def test_transformer_encoder_names_rows_through_the_module_list():
    cls = layer("TransformerEncoder")
    block = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    model = cls(block, num_layers=3)
    info = summary(model, input_shape=(4, 1, 8), depth=1, verbose=0)
    assert [r.name for r in info.layers if r.depth == 1] == ["layers.0", "layers.1", "layers.2"]
    assert info.layer("layers.2.linear1").mult_adds == 4 * 8 * 16
    one = n_params(block)
    assert info.layer("layers.1").total_params == one and info.total_params == 3 * one
    text = str(info)
    assert "layers.1 (TransformerEncoderLayer)" in text and "layers.1.linear1" not in text
    assert f"{one:,}" in text and "folded into their parent row" in text


# ---- sharing, freezing ------------------------------------------------------------------------
def test_shared_module_counted_once_but_its_work_twice(torch):
    lin = nn.Linear(4, 4)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    info = summary(model, input_shape=(3, 4), verbose=0)
    assert info.total_params == 20 == n_params(model)
    t_lin = torch.nn.Linear(4, 4)
    assert info.total_params == sum(
        p.numel() for p in torch.nn.Sequential(t_lin, torch.nn.ReLU(), t_lin).parameters()
    )
    first, again = info.layer("0"), info.layer("2")
    assert (first.num_params, first.shared) == (20, False)
    assert (again.num_params, again.shared) == (0, True)
    assert sum(r.num_params for r in info.layers) == 20
    assert info.total_mult_adds == 2 * 3 * 16
    assert "(shared)" in str(info)


class Unrolled(nn.Module):
    """One cell applied three times in a row, and a head tied to the embedding's weight."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.cell = nn.Linear(4, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids):
        h = self.embed(ids)
        for _ in range(3):
            h = self.cell(h).tanh()
        return self.head(h)


def test_repeated_calls_are_one_row_and_tied_weights_count_once():
    model = Unrolled()
    ids = ag.tensor(np.array([[1, 2], [3, 4]]))
    info = summary(model, input_data=ids, verbose=0)
    assert info.total_params == 40 + 20 == n_params(model)
    assert [(r.name, r.calls) for r in info.layers] == [("", 1), ("embed", 1), ("cell", 3), ("head", 1)]
    assert info.layer("head").num_params == 0  # its weight is the embedding's, counted there
    assert info.layer("cell").mult_adds == 3 * 4 * 16
    assert info.total_mult_adds == 3 * 4 * 16 + 4 * 40
    assert "cell (Linear) x3" in str(info)
    same = summary(model, input_shape=(2, 2), dtypes=[ag.int64], verbose=0)
    assert same.total_mult_adds == info.total_mult_adds


def test_frozen_parameters_are_non_trainable():
    model = mlp(ag)
    model[0].requires_grad_(False)
    model[2].bias.requires_grad_(False)
    info = summary(model, input_shape=(1, 20), depth=1, verbose=0)
    frozen = 20 * 64 + 64 + 64
    assert info.non_trainable_params == frozen
    assert info.trainable_params == info.total_params - frozen
    assert [info.layer(n).trainable for n in ("0", "2", "4", "1")] == ["none", "partial", "all", "--"]
    assert info.layer("2").trainable_params == 64 * 64
    folded = str(summary(model, input_shape=(1, 20), depth=0, verbose=0))
    assert "partial" in folded and f"{info.total_params:,}" in folded.splitlines()[3]


def test_lora_shows_a_frozen_base_and_counts_the_low_rank_work():
    lora_cls = layer("LoRALinear")
    model = nn.Sequential(lora_cls(nn.Linear(8, 4), r=2))
    info = summary(model, input_shape=(3, 8), verbose=0)
    assert info.trainable_params == 2 * 8 + 4 * 2 and info.non_trainable_params == 8 * 4 + 4
    assert info.layer("0").mult_adds == 3 * 2 * (8 + 4)  # x A^T, then (x A^T) B^T
    base = info.layer("0.base_layer")
    assert base.mult_adds == 3 * 8 * 4 and base.trainable == "none"
    assert info.layer("").total_mult_adds == info.total_mult_adds


# ---- hooks and state are restored --------------------------------------------------------------
def test_hooks_removed_and_state_restored_after_summary():
    model = cnn(ag)
    calls = []
    mine = model[0].register_forward_hook(lambda m, a, out: calls.append(out.shape))
    bn = model[1]
    before = bn.running_mean.numpy().copy()
    summary(model, input_shape=(2, 3, 16, 16), verbose=0)
    assert all_hooks(model) == [model[0]._forward_hooks[mine.id]]  # the user's hook stays
    assert calls == [(2, 8, 16, 16)]
    assert all(m.training for m in model.modules())  # eval only during the summary
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    model.eval()
    summary(model, input_shape=(2, 3, 16, 16), verbose=0)
    assert not any(m.training for m in model.modules())


def test_hooks_removed_after_an_exception_in_forward():
    model = mlp(ag)
    with pytest.raises(ValueError, match="in_features=20") as err:
        summary(model, input_shape=(4, 7), verbose=0)
    assert any("summary: the forward pass of Sequential failed" in n for n in err.value.__notes__)
    assert all_hooks(model) == []
    assert all(m.training for m in model.modules())
    assert summary(model, input_shape=(4, 20), verbose=0).total_params == n_params(model)


# ---- inputs and options ------------------------------------------------------------------------
class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 6)
        self.b = nn.Linear(5, 6)

    def forward(self, x, y):
        return self.a(x) + self.b(y)


def test_several_inputs_by_shape_data_or_keyword():
    model = TwoInputs()
    info = summary(model, input_shape=[(2, 3), (2, 5)], verbose=0)
    assert info.layers[0].input_shapes == [(2, 3), (2, 5)]
    assert info.input_bytes == (6 + 10) * 4 and info.total_mult_adds == 2 * (18 + 30)
    data = [np.ones((4, 3), np.float32), ag.ones(4, 5)]
    assert summary(model, input_data=data, verbose=0).layer("b").output_shape == (4, 6)
    kw = summary(model, input_data={"x": ag.ones(1, 3), "y": ag.ones(1, 5)}, verbose=0)
    assert kw.input_bytes == 8 * 4 and kw.total_mult_adds == 48
    wide = summary(model.double(), input_shape=[(2, 3), (2, 5)], dtypes=[ag.float64, ag.float64], verbose=0)
    assert wide.input_bytes == 16 * 8


def test_bad_arguments_are_refused():
    model = mlp(ag)
    with pytest.raises(ValueError, match="exactly one"):
        summary(model, verbose=0)
    with pytest.raises(ValueError, match="exactly one"):
        summary(model, input_shape=(1, 20), input_data=ag.ones(1, 20), verbose=0)
    with pytest.raises(ValueError, match="unknown column"):
        summary(model, input_shape=(1, 20), col_names=("shape",), verbose=0)
    with pytest.raises(ValueError, match="1 input shape"):
        summary(model, input_shape=(1, 20), dtypes=[ag.float32, ag.float32], verbose=0)
    with pytest.raises(ValueError, match="depth"):
        summary(model, input_shape=(1, 20), depth=-1, verbose=0)
    with pytest.raises(TypeError, match="Module"):
        summary(lambda x: x, input_shape=(1, 20), verbose=0)


def test_table_columns_and_uncalled_modules():
    model = TwoInputs()
    model.spare = nn.Linear(2, 2)  # registered, never called by forward
    info = summary(model, input_shape=[(8, 3), (8, 5)], col_names=COLUMNS, verbose=0)
    assert isinstance(info, ModelSummary) and repr(info) == str(info)
    lines = str(info).splitlines()
    assert lines[1].split() == [
        "Layer",
        "(type)",
        "Input",
        "shape",
        "Output",
        "shape",
        "Params",
        "Params",
        "%",
        "Trainable",
        "Mult-adds",
    ]
    assert lines[4].split() == ["a", "(Linear)", "[8,", "3]", "[8,", "6]", "24", "36.4%", "all", "144"]
    assert "[8, 3], [8, 5]" in lines[3]
    assert info.total_params == n_params(model) == 24 + 36 + 6
    assert "6 parameters belong to modules that forward did not call" in str(info)


# ---- printing: the returned object prints the table; summary() itself is quiet ----------------
@pytest.mark.parametrize("interactive", [False, True])
def test_print_of_summary_shows_the_table_once(capsys, monkeypatch, interactive):
    """`print(summary(...))` shows one table, in a script and in a REPL/notebook alike."""
    if interactive:
        monkeypatch.setattr("sys.ps1", ">>> ", raising=False)
    else:
        monkeypatch.delattr("sys.ps1", raising=False)
    info = summary(mlp(ag), input_shape=(2, 20))
    assert capsys.readouterr().out == ""
    print(info)
    out = capsys.readouterr().out
    assert out.count("Total params: 5,829") == 1 and out == str(info) + "\n"
    assert repr(info) == str(info)  # a notebook cell's value displays the same table once


def test_verbose_1_prints_inside_summary(capsys):
    info = summary(mlp(ag), input_shape=(2, 20), verbose=1)
    assert capsys.readouterr().out == str(info) + "\n"


@pytest.mark.parametrize("verbose", [2, -1, "yes", None, True])
def test_summary_rejects_unknown_verbosity(verbose):
    with pytest.raises(ValueError, match="verbose"):
        summary(mlp(ag), input_shape=(2, 20), verbose=verbose)
