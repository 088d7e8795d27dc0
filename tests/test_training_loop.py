"""fit's model selection on validation data, its progress output on terminals and in files, the
curves' axis labels, and train_classifier's split discipline."""

from __future__ import annotations

import io

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.data import DataLoader, TensorDataset, make_moons
from autograd_nn.nn import functional as F
from autograd_nn.training import History, evaluate, fit, train_classifier


def _moons(n: int = 64, seed: int = 0, shuffle: bool = True) -> DataLoader:
    x, y = make_moons(n, noise=0.1, seed=seed)
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=shuffle)


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))


def _weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_restore_best_loads_the_epoch_with_the_lowest_validation_loss():
    """A learning rate so large that training diverges after a few epochs: the restored weights
    are those of the best validation epoch, not the last."""
    ag.manual_seed(0)
    model = _model()
    val = _moons(64, seed=1, shuffle=False)
    opt = optim.SGD(model.parameters(), lr=3.0, momentum=0.9)
    history = fit(
        model,
        _moons(),
        F.cross_entropy,
        opt,
        epochs=8,
        val_loader=val,
        progress=False,
        verbose=False,
        restore_best=True,
    )
    best = int(np.argmin(history["val_loss"])) + 1
    assert history.best_epoch == best < 8, history["val_loss"]
    assert evaluate(model, val, F.cross_entropy)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-6)


def test_without_restore_best_the_last_weights_stay():
    ag.manual_seed(0)
    model = _model()
    val = _moons(64, seed=1, shuffle=False)
    history = fit(
        model,
        _moons(),
        F.cross_entropy,
        optim.SGD(model.parameters(), lr=3.0, momentum=0.9),
        epochs=8,
        val_loader=val,
        progress=False,
        verbose=False,
    )
    assert evaluate(model, val, F.cross_entropy)["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)


def test_restore_best_needs_validation_data():
    model = _model()
    with pytest.raises(ValueError, match="val_loader"):
        fit(
            model,
            _moons(),
            F.cross_entropy,
            optim.SGD(model.parameters(), lr=0.1),
            epochs=1,
            restore_best=True,
            progress=False,
            verbose=False,
        )


def test_a_missing_loss_fn_is_a_clear_error():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="fit: loss_fn is None"):
        fit(model, _moons(), None, opt, epochs=1, progress=False, verbose=False)
    with pytest.raises(TypeError, match="fit: loss_fn is None"):  # validation needs it too
        fit(
            model,
            _moons(),
            None,
            opt,
            epochs=1,
            val_loader=_moons(),
            progress=False,
            verbose=False,
            step_fn=lambda m, batch: F.cross_entropy(m(batch[0]), batch[1]),
        )


def test_progress_in_a_file_is_one_line_per_epoch(monkeypatch):
    """stderr redirected to a file: no carriage-return bar, one line per epoch."""
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    model = _model()
    fit(
        model,
        _moons(),
        F.cross_entropy,
        optim.SGD(model.parameters(), lr=0.1),
        epochs=3,
        progress=True,
        verbose=False,
    )
    text = stream.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("loss" in line and "samples/s" in line for line in lines)


def test_verbose_lines_replace_the_bar_in_a_file(monkeypatch, capsys):
    """verbose already prints one line per epoch (stdout); the file gets no second one."""
    pytest.importorskip("tqdm")
    model = _model()
    fit(
        model,
        _moons(),
        F.cross_entropy,
        optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        progress=True,
        verbose=True,
    )
    out, err = capsys.readouterr()
    assert len([line for line in out.splitlines() if line.startswith("epoch")]) == 2
    assert err == ""


def test_progress_on_a_terminal_is_a_tqdm_bar(monkeypatch):
    pytest.importorskip("tqdm")
    stream = _TTY()
    monkeypatch.setattr("sys.stderr", stream)
    model = _model()
    fit(
        model,
        _moons(),
        F.cross_entropy,
        optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        progress=True,
        verbose=False,
    )
    text = stream.getvalue()
    assert "\r" in text and "epoch 1/2" in text and "samples_per_s" in text


def _figure_of(history: History, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.figure

    saved = []
    original = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(
        matplotlib.figure.Figure,
        "savefig",
        lambda fig, *a, **k: (saved.append(fig), original(fig, *a, **k))[1],
    )
    history.plot(str(tmp_path / "curves.png"))
    return saved[0]


def test_curves_label_both_axes(monkeypatch, tmp_path):
    h = History()
    for epoch in range(3):
        h.log(loss=1.0 / (epoch + 1), val_loss=1.2 / (epoch + 1), val_acc=0.5 + 0.1 * epoch, time=0.1)
    fig = _figure_of(h, monkeypatch, tmp_path)
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes] == [
        ("epoch", "loss"),
        ("epoch", "accuracy"),
    ]


def test_curves_of_other_metrics_get_a_neutral_label(monkeypatch, tmp_path):
    h = History()
    h.log(loss=1.0, val_psnr=12.0)
    h.log(loss=0.5, val_psnr=14.0)
    fig = _figure_of(h, monkeypatch, tmp_path)
    assert fig.axes[1].get_ylabel() == "value"


def test_train_classifier_selects_on_validation_and_tests_once(tmp_path, monkeypatch):
    """The test loader is read exactly once, after training, by the restored best model."""
    ag.manual_seed(0)
    reads = []

    class CountingLoader:
        def __init__(self, loader):
            self.loader = loader

        def __iter__(self):
            reads.append(1)
            return iter(self.loader)

        def __len__(self):
            return len(self.loader)

    model = _model()
    test = CountingLoader(_moons(64, seed=2, shuffle=False))
    val = _moons(64, seed=1, shuffle=False)
    history, result, curves = train_classifier(
        model,
        _moons(),
        val,
        test,
        optim.Adam(model.parameters(), lr=0.05),
        4,
        str(tmp_path / "c.png"),
        "t",
        verbose=False,
    )
    assert len(reads) == 1
    assert history.best_epoch == int(np.argmin(history["val_loss"])) + 1
    assert result["acc"] == pytest.approx(evaluate(model, test, F.cross_entropy)["acc"])
    assert curves.endswith("c.png")
