"""A time delay neural network (Waibel et al., 1989) on synthetic spoken-digit-like sequences.

The data (generated here, nothing downloaded) imitates spoken words as a speech front end would
see them: a sequence of feature frames (like 12 cepstral coefficients every 10 ms). Each of the 10
"words" is a fixed sequence of three "phonemes" out of 8 (each a feature template); several words
share their phonemes in a different order, so the order matters, not just which phonemes occur.
Every utterance has its own onset, phoneme durations (speaking rate), loudness and noise, with
smoothed transitions between sounds.

A TDNN is a stack of 1-D convolutions over time: the same weights look at every time step, so a
phoneme is recognised wherever it starts. Dilations 1, 2, 4, 8 widen the context to 31 frames
with 4 layers; a max over time makes the decision independent of the onset.

    frames (B, 12, 80) -> dilated Conv1d x 4 (B, 32, 80) -> max over time (B, 32) -> linear (B, 10)

The baseline, an MLP on the flattened frames, has to learn each phoneme at each position
separately.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from .._tensor import Tensor
from ..data import DataLoader, TensorDataset
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import evaluate, fit
from .registry import example

# Each word's phonemes; words 0/1, 2/3, 4/5 and 6/7 use the same phonemes in another order.
WORDS = (
    (0, 1, 2),
    (2, 1, 0),
    (3, 4, 5),
    (5, 3, 4),
    (6, 7, 0),
    (0, 7, 6),
    (1, 3, 6),
    (6, 1, 3),
    (2, 4, 7),
    (5, 0, 3),
)


@dataclass
class SpokenDigitsConfig:
    n_frames: int = 80
    n_features: int = 12
    n_phonemes: int = 8
    min_duration: int = 4  # frames per phoneme
    max_duration: int = 10
    noise: float = 1.2
    template_seed: int = 1234  # the phoneme templates are the same in every split


def spoken_digits(
    n: int, rng: np.random.Generator, cfg: SpokenDigitsConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`n` utterances: frames (n, n_features, n_frames) float32 and word labels (n,) int64."""
    cfg = cfg or SpokenDigitsConfig()
    templates = np.random.default_rng(cfg.template_seed).normal(size=(cfg.n_phonemes, cfg.n_features))
    labels = rng.integers(0, len(WORDS), n)
    x = np.zeros((n, cfg.n_features, cfg.n_frames))
    for i, label in enumerate(labels):
        durations = rng.integers(cfg.min_duration, cfg.max_duration + 1, 3)
        t = rng.integers(0, cfg.n_frames - durations.sum() + 1)  # onset
        loudness = rng.uniform(0.7, 1.3)
        for phoneme, duration in zip(WORDS[label], durations):
            x[i, :, t : t + duration] = loudness * templates[phoneme][:, None]
            t += duration
    kernel = np.array([0.25, 0.5, 0.25])  # co-articulation: sounds blend at their boundaries
    x = np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), 2, x)
    x += cfg.noise * rng.normal(size=x.shape)
    return x.astype(np.float32), labels.astype(np.int64)


class TDNN(nn.Module):
    """Dilated Conv1d stack over time, max over time, linear classifier."""

    def __init__(
        self,
        n_features: int = 12,
        channels: int = 32,
        dilations: tuple[int, ...] = (1, 2, 4, 8),
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = n_features
        for d in dilations:  # "same" padding keeps the number of frames
            layers += [nn.Conv1d(c_in, channels, 3, padding=d, dilation=d), nn.ReLU()]
            c_in = channels
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)
        self.receptive_field = 1 + 2 * sum(dilations)

    def forward(self, x: Tensor) -> Tensor:
        h = self.convs(x)  # (B, channels, T)
        return self.fc(h.amax(2))  # (B, num_classes): the strongest response anywhere in time


def mlp_baseline(n_inputs: int, hidden: int = 128, num_classes: int = 10) -> nn.Module:
    """Flattened frames -> hidden -> classes."""
    return nn.Sequential(nn.Flatten(), nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


def _train(
    model: nn.Module, loaders: tuple[DataLoader, DataLoader, DataLoader], epochs: int, lr: float, ckpt: str
) -> dict:
    train, val, test = loaders
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    start = time.perf_counter()
    history = fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs,
        val_loader=val,
        scheduler=sched,
        checkpoint_path=ckpt,
        progress=False,
        verbose=False,
    )
    seconds = time.perf_counter() - start
    model.load_state_dict(load(ckpt)["model"])
    result = evaluate(model, test, F.cross_entropy)
    return {
        "test_accuracy": result["acc"],
        "best_epoch": history.best_epoch,
        "train_time_s": seconds,
        "num_params": sum(p.numel() for p in model.parameters()),
    }


@example("tdnn", "time delay neural network (dilated Conv1d) on synthetic spoken words vs an MLP")
def run(
    out_dir: str = "runs/tdnn",
    quick: bool = False,
    n_train: int = 1000,
    epochs: int = 15,
    lr: float = 3e-3,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the TDNN and the MLP on the same utterances; report both test accuracies."""
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        n_train, epochs, lr = 400, 4, 1e-2
    rng = np.random.default_rng(seed)
    cfg = SpokenDigitsConfig()
    splits = [spoken_digits(n, rng, cfg) for n in (n_train, 500, 1000)]  # train, val, test
    train = DataLoader(
        TensorDataset(*splits[0]), batch_size=64, shuffle=True, generator=np.random.default_rng(seed)
    )
    loaders = (
        train,
        DataLoader(TensorDataset(*splits[1]), batch_size=500),
        DataLoader(TensorDataset(*splits[2]), batch_size=500),
    )
    result: dict = {}
    for name, make in (
        ("tdnn", lambda: TDNN(cfg.n_features)),
        ("mlp", lambda: mlp_baseline(cfg.n_features * cfg.n_frames)),
    ):
        manual_seed(seed)
        result[name] = _train(make(), loaders, epochs, lr, os.path.join(out_dir, f"{name}.ckpt"))
        if verbose:
            r = result[name]
            print(
                f"{name:5s} test accuracy {r['test_accuracy']:.3f}  ({r['num_params']} "
                f"parameters, {r['train_time_s']:.1f} s)"
            )
    result["examples"] = plot_utterances(splits[2], os.path.join(out_dir, "utterances.png"))
    return result


def plot_utterances(split: tuple[np.ndarray, np.ndarray], path: str, n: int = 4) -> str:
    """Frames of the first utterances of words 0 and 1 (same phonemes, other order)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = split
    picks = [i for word in (0, 1) for i in np.flatnonzero(y == word)[: n // 2]]
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks), 2.2), sharey=True)
    for ax, i in zip(np.atleast_1d(axes), picks):
        ax.imshow(x[i], aspect="auto", cmap="magma", origin="lower")
        ax.set_title(f"word {y[i]}: phonemes {WORDS[y[i]]}", fontsize=8)
        ax.set_xlabel("frame")
    np.atleast_1d(axes)[0].set_ylabel("feature")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
