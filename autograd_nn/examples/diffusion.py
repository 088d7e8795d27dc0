"""A denoising diffusion probabilistic model (DDPM, Ho et al. 2020) that draws new 8x8 digits.

Forward process: over T steps, Gaussian noise is mixed into an image x0 (pixels scaled to [-1, 1])
by a schedule beta_1..beta_T, so that at step t

    x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps,   eps ~ N(0, I),   abar_t = prod_{s<=t} (1 - beta_s)

and x_T is almost pure noise. A time-conditioned U-Net eps_theta(x_t, t) learns to predict the
noise eps (the simple loss of the paper: mean squared error on eps, t drawn uniformly). Sampling runs
the process backwards (ancestral sampling): from x_T ~ N(0, I), each step estimates x0 from the
predicted noise, clips it to the pixel range, and draws x_{t-1} from the Gaussian posterior
q(x_{t-1} | x_t, x0) whose mean and variance the schedule gives in closed form.

The U-Net is the one of `examples/unet.py` (two levels down, two up, skip connections) with the time
step added: t is encoded with the Transformer's sinusoidal position encoding, passed through a small
MLP, and added as a per-channel shift inside every block. The samples are scored by the main job's
digits CNN (`examples/cnn.py`): how many it classifies with probability >= 0.9, and whether every
digit appears.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor, cat
from ..data import DataLoader, TensorDataset, load_digits
from ..errors import CheckpointError
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import generator, manual_seed
from ..serialization import load, save
from ..training import fit
from .cnn import DigitsCNN
from .registry import example
from .unet import up_conv


@dataclass
class DiffusionConfig:
    timesteps: int = 200
    schedule: str = "cosine"  # "cosine" (Nichol & Dhariwal 2021) or "linear" (Ho et al. 2020)
    base: int = 16  # U-Net channels at full resolution, doubled at every level down
    time_dim: int = 64  # width of the time embedding


# ---- the noise schedule ------------------------------------------------------------------------
def make_betas(timesteps: int, schedule: str = "cosine") -> np.ndarray:
    """beta_1..beta_T, float64. "linear" spans Ho et al.'s 1e-4..0.02 (rescaled to T steps, so
    the total noise matches their T = 1000); "cosine" makes abar_t = cos^2 of a quarter turn, which
    destroys the image more evenly over the steps."""
    if timesteps < 2:
        raise ValueError(f"make_betas: need at least 2 time steps, got {timesteps}")
    if schedule == "linear":
        scale = 1000.0 / timesteps
        return np.linspace(1e-4 * scale, 0.02 * scale, timesteps)
    if schedule == "cosine":
        s = 0.008
        steps = np.arange(timesteps + 1) / timesteps
        abar = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        return np.clip(1.0 - abar[1:] / abar[:-1], 0.0, 0.999)
    raise ValueError(f"make_betas: schedule must be 'linear' or 'cosine', got {schedule!r}")


class NoiseSchedule:
    """The forward process and the posterior q(x_{t-1} | x_t, x0) of one beta schedule.

    Time steps are 0-based here: index t = 0..T-1 holds beta_{t+1}; `abar[t]` is the signal kept
    after t + 1 noising steps.
    """

    def __init__(self, betas: np.ndarray) -> None:
        self.betas = np.asarray(betas, np.float64)
        self.T = len(self.betas)
        self.alphas = 1.0 - self.betas
        self.abar = np.cumprod(self.alphas)
        abar_prev = np.concatenate([[1.0], self.abar[:-1]])
        # posterior q(x_{t-1} | x_t, x0) = N(c0 * x0 + ct * x_t, var): eq. (7) of Ho et al.
        self.posterior_var = self.betas * (1.0 - abar_prev) / (1.0 - self.abar)
        self.coef_x0 = self.betas * np.sqrt(abar_prev) / (1.0 - self.abar)
        self.coef_xt = (1.0 - abar_prev) * np.sqrt(self.alphas) / (1.0 - self.abar)

    def q_sample(self, x0: np.ndarray, t: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, for a batch with one t per image."""
        a = self.abar[t].reshape(-1, 1, 1, 1)
        return (np.sqrt(a) * x0 + np.sqrt(1.0 - a) * noise).astype(np.float32)

    def predict_x0(self, x_t: np.ndarray, t: int, eps: np.ndarray) -> np.ndarray:
        """x0 implied by x_t and the noise in it: (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)."""
        return (x_t - math.sqrt(1.0 - self.abar[t]) * eps) / math.sqrt(self.abar[t])

    def step(
        self, x_t: np.ndarray, t: int, eps: np.ndarray, rng: np.random.Generator, clip: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """One ancestral step: (x_{t-1}, the x0 estimate). No noise is added at the last step."""
        x0 = self.predict_x0(x_t, t, eps)
        if clip:
            x0 = np.clip(x0, -1.0, 1.0)
        mean = self.coef_x0[t] * x0 + self.coef_xt[t] * x_t
        if t > 0:
            mean = mean + math.sqrt(self.posterior_var[t]) * rng.standard_normal(x_t.shape)
        return mean.astype(np.float32), x0.astype(np.float32)


# ---- the time-conditioned U-Net ----------------------------------------------------------------
class TimeEmbedding(nn.Module):
    """Integer steps (B,) -> (B, dim): the sinusoidal table of the Transformer's positions looked up
    at t, then Linear - SiLU - Linear, so each block can learn its own use of it."""

    def __init__(self, timesteps: int, dim: int) -> None:
        super().__init__()
        self.table = nn.SinusoidalPositionalEncoding(dim, max_len=timesteps, dropout=0.0)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: np.ndarray) -> Tensor:
        return self.mlp(self.table.pe[np.asarray(t)])  # (B, dim)


class TimeBlock(nn.Module):
    """(conv 3x3 - GroupNorm - SiLU) twice, with the time embedding added as a per-channel shift
    between them, plus a residual path (1x1 conv when the width changes)."""

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int = 8) -> None:
        super().__init__()
        groups = math.gcd(groups, c_out)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, c_out)
        self.time = nn.Linear(time_dim, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = F.silu(self.norm1(self.conv1(x)))  # (B, c_out, H, W)
        h = h + self.time(temb).reshape(temb.shape[0], -1, 1, 1)  # shift each channel by f(t)
        h = F.silu(self.norm2(self.conv2(h)))  # (B, c_out, H, W)
        return h + self.skip(x)


class TimeUNet(nn.Module):
    """eps_theta(x_t, t): the digits U-Net with every block conditioned on the time step.

    x_t (B, 1, 8, 8) -> enc1 (B, c, 8, 8) -> enc2 (B, 2c, 4, 4) -> mid (B, 4c, 2, 2)
    -> up + [enc2] -> dec2 (B, 2c, 4, 4) -> up + [enc1] -> dec1 (B, c, 8, 8) -> eps (B, 1, 8, 8)
    """

    def __init__(self, config: DiffusionConfig | None = None, channels: int = 1) -> None:
        super().__init__()
        cfg = config or DiffusionConfig()
        self.config = cfg
        c, td = cfg.base, cfg.time_dim
        self.time_embed = TimeEmbedding(cfg.timesteps, td)
        self.enc1 = TimeBlock(channels, c, td)
        self.enc2 = TimeBlock(c, 2 * c, td)
        self.mid = TimeBlock(2 * c, 4 * c, td)
        self.pool = nn.AvgPool2d(2)
        self.up2 = up_conv(4 * c, 2 * c, "transpose")
        self.dec2 = TimeBlock(4 * c, 2 * c, td)  # upsampled (2c) + skip from enc2 (2c)
        self.up1 = up_conv(2 * c, c, "transpose")
        self.dec1 = TimeBlock(2 * c, c, td)  # upsampled (c) + skip from enc1 (c)
        self.head = nn.Conv2d(c, channels, 1)

    def forward(self, x: Tensor, t: np.ndarray) -> Tensor:
        temb = self.time_embed(t)  # (B, time_dim)
        e1 = self.enc1(x, temb)  # (B, c, H, W)
        e2 = self.enc2(self.pool(e1), temb)  # (B, 2c, H/2, W/2)
        m = self.mid(self.pool(e2), temb)  # (B, 4c, H/4, W/4)
        d2 = self.dec2(cat([self.up2(m), e2], dim=1), temb)  # (B, 2c, H/2, W/2)
        d1 = self.dec1(cat([self.up1(d2), e1], dim=1), temb)  # (B, c, H, W)
        return self.head(d1)  # (B, channels, H, W): the predicted noise


# ---- training and sampling ---------------------------------------------------------------------
class EMA:
    """An exponential moving average of a model's parameters (DDPM samples with it: the average
    of the last few hundred steps draws cleaner images than the last step)."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    def update(self, model: nn.Module) -> None:
        for k, v in model.state_dict().items():
            s = self.shadow[k]
            if s.dtype.kind == "f":
                s += (1.0 - self.decay) * (v.numpy() - s)
            else:
                s[...] = v.numpy()

    def state_dict(self) -> dict[str, Tensor]:
        return {k: as_tensor(v.copy()) for k, v in self.shadow.items()}


def sample(
    model: TimeUNet,
    schedule: NoiseSchedule,
    n: int,
    rng: np.random.Generator,
    keep: int = 0,
    clip: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """n images by ancestral sampling from pure noise, pixels in [-1, 1] (not clipped).

    Returns (x0 (n, 1, 8, 8), trajectory (steps, keep, 1, 8, 8)): x_t of the first `keep` images at
    about 10 evenly spaced steps from T to 0."""
    model.eval()
    x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    marks = set(np.linspace(schedule.T - 1, 0, 10).round().astype(int).tolist())
    frames = [x[:keep].copy()]
    with no_grad():
        for t in range(schedule.T - 1, -1, -1):
            eps = model(as_tensor(x), np.full(n, t)).numpy()
            x, _ = schedule.step(x, t, eps, rng, clip)
            if t in marks and t != schedule.T - 1:
                frames.append(x[:keep].copy())
    return x, np.stack(frames)


def digits_classifier(
    checkpoint: str | None, out_dir: str, epochs: int = 15, verbose: bool = False
) -> DigitsCNN:
    """The main job's CNN: loaded from `checkpoint` when it exists and fits, else trained here with
    the same recipe as `python -m autograd_nn` (Adam 3e-3, cosine decay, batch 32) and saved."""
    model = DigitsCNN()
    if checkpoint and os.path.exists(checkpoint):
        try:
            model.load_state_dict(load(checkpoint)["model"])
            model.eval()
            return model
        except (CheckpointError, KeyError, ValueError):
            model = DigitsCNN()  # a checkpoint of some other model: train our own
    d = load_digits()
    train = DataLoader(TensorDataset(d["X_train"][200:], d["y_train"][200:]), batch_size=32, shuffle=True)
    val = DataLoader(TensorDataset(d["X_train"][:200], d["y_train"][:200]), batch_size=256)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    path = os.path.join(out_dir, "classifier.ckpt")
    fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs=epochs,
        val_loader=val,
        scheduler=sched,
        checkpoint_path=path,
        progress=False,
        verbose=verbose,
    )
    model.load_state_dict(load(path)["model"])
    model.eval()
    return model


def score_samples(classifier: nn.Module, images01: np.ndarray, threshold: float = 0.9) -> dict:
    """The classifier's verdict on images with pixels in [0, 1]: the fraction it labels with
    probability >= threshold, and how many images of each digit it sees."""
    with no_grad():
        probs = F.softmax(classifier.eval()(as_tensor(images01.astype(np.float32))), dim=1).numpy()
    labels = probs.argmax(1)
    return {
        "confident_fraction": float(np.mean(probs.max(1) >= threshold)),
        "class_counts": np.bincount(labels, minlength=10).tolist(),
        "classes_present": len(np.unique(labels)),
        "labels": labels,
        "confidence": probs.max(1),
    }


def _pictures(
    samples01: np.ndarray, labels: np.ndarray, trajectory01: np.ndarray, out_dir: str
) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = math.ceil(len(samples01) / 10)
    fig, axes = plt.subplots(rows, 10, figsize=(7.5, 0.8 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (img, label) in enumerate(zip(samples01, labels)):
        ax = axes.flat[i]
        ax.imshow(img[0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(label), fontsize=7, pad=1)
    fig.suptitle("DDPM samples (title: the digits CNN's label)", fontsize=9)
    fig.tight_layout()
    grid = os.path.join(out_dir, "samples.png")
    fig.savefig(grid, dpi=100)
    plt.close(fig)
    steps, keep = trajectory01.shape[:2]
    fig, axes = plt.subplots(keep, steps, figsize=(0.8 * steps, 0.8 * keep + 0.4), squeeze=False)
    for i in range(keep):
        for j in range(steps):
            axes[i, j].imshow(trajectory01[j, i, 0], cmap="gray_r", vmin=0, vmax=1)
            axes[i, j].axis("off")
    fig.suptitle("denoising trajectory: x_T (pure noise, left) to x_0 (right)", fontsize=9)
    fig.tight_layout()
    path = os.path.join(out_dir, "trajectory.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return grid, path


def _to01(x: np.ndarray) -> np.ndarray:
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


@example("diffusion", "DDPM with a time-conditioned U-Net drawing new digits (scored by the CNN)")
def run(
    out_dir: str = "runs/diffusion",
    quick: bool = False,
    epochs: int = 150,
    config: DiffusionConfig | None = None,
    lr: float = 2e-3,
    batch_size: int = 64,
    ema_decay: float = 0.995,
    num_samples: int = 100,
    classifier_checkpoint: str | None = "runs/cnn/best.ckpt",
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train eps_theta on the digits, draw `num_samples` digits, score them with the digits CNN.

    quick=True trains a narrow net with 50 steps of noise for 2 epochs (the samples are blobs)."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        epochs, config = 2, config or DiffusionConfig(timesteps=50, base=8, time_dim=16)
    cfg = config or DiffusionConfig()
    schedule = NoiseSchedule(make_betas(cfg.timesteps, cfg.schedule))
    d = load_digits()
    x_train = d["X_train"][:512] if quick else d["X_train"]
    x_val, x_train = 2.0 * x_train[:128] - 1.0, 2.0 * x_train[128:] - 1.0  # pixels in [-1, 1]
    model = TimeUNet(cfg)
    ema = EMA(model, ema_decay)
    opt = optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(x_train) / batch_size)
    sched = optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.05
    )
    rng = np.random.default_rng(seed + 1)  # the fixed noise and steps of the validation loss
    val_t = rng.integers(0, cfg.timesteps, len(x_val))
    val_noise = rng.standard_normal(x_val.shape).astype(np.float32)
    val_in = schedule.q_sample(x_val, val_t, val_noise)

    def noise_loss(x0: np.ndarray) -> Tensor:
        """The simple loss: MSE between the noise mixed in at a random step and its prediction."""
        t = generator().integers(0, cfg.timesteps, len(x0))  # a random step for every image
        noise = generator().standard_normal(x0.shape).astype(np.float32)
        return F.mse_loss(model(as_tensor(schedule.q_sample(x0, t, noise)), t), as_tensor(noise))

    train = DataLoader(TensorDataset(x_train), batch_size=batch_size, shuffle=True)
    ema_model = TimeUNet(cfg)
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        running = []
        for (x0,) in train:
            loss = noise_loss(x0.numpy())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            ema.update(model)
            running.append(loss.item())
        ema_model.load_state_dict(ema.state_dict())
        with no_grad():
            val = F.mse_loss(ema_model.eval()(as_tensor(val_in), val_t), as_tensor(val_noise)).item()
        history["loss"].append(float(np.mean(running)))
        history["val_loss"].append(val)
        if verbose:
            print(f"epoch {epoch:3d}  loss {history['loss'][-1]:.4f}  val loss (EMA) {val:.4f}")
    train_time = time.perf_counter() - start
    ckpt = os.path.join(out_dir, "ema.ckpt")
    save({"model": ema_model.state_dict(), "config": vars(cfg)}, ckpt)

    start = time.perf_counter()
    samples, trajectory = sample(ema_model, schedule, num_samples, np.random.default_rng(seed + 2), keep=6)
    sample_time = time.perf_counter() - start
    classifier = digits_classifier(classifier_checkpoint, out_dir, epochs=2 if quick else 15)
    scores = score_samples(classifier, _to01(samples))
    real = score_samples(classifier, d["X_test"])  # the same verdict on real test digits
    grid, path = _pictures(_to01(samples), scores["labels"], _to01(trajectory), out_dir)
    return {
        "confident_fraction": scores["confident_fraction"],
        "classes_present": scores["classes_present"],
        "class_counts": scores["class_counts"],
        "real_test_confident_fraction": real["confident_fraction"],
        "final_val_loss": history["val_loss"][-1],
        "train_time_s": train_time,
        "sample_time_s": sample_time,
        "num_params": sum(p.numel() for p in model.parameters()),
        "history": history,
        "checkpoint": ckpt,
        "samples": grid,
        "trajectory": path,
    }
