"""Autoencoders on the 8x8 digits: squeeze an image through a code, then rebuild it.

1. A plain autoencoder with a 16-unit bottleneck.
2. A sparse autoencoder: a wider 64-unit code, kept sparse by an L1 penalty on the code's activity
   (lambda * sum_j |h_j|), so each image is explained by a few active units.
3. A variational autoencoder (Kingma & Welling): the encoder outputs a Gaussian
   q(z|x) = N(mu, sigma^2), z = mu + sigma * eps is sampled with the reparameterization trick,
   and training maximises the evidence lower bound ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)).
   Decoding z ~ N(0, I) draws new digits.

Pixels lie in [0, 1], so every decoder outputs one logit per pixel and the reconstruction loss is
the Bernoulli log-likelihood (binary cross-entropy with logits), summed over the 64 pixels.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor, randn, randn_like
from ..data import DataLoader, TensorDataset, load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..training import evaluate, fit
from .registry import example


class Autoencoder(nn.Module):
    """x (B, 64) -> code h (B, code) -> reconstruction logits (B, 64)."""

    def __init__(self, n_in: int = 64, hidden: int = 128, code: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, code), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(code, hidden), nn.ReLU(), nn.Linear(hidden, n_in))

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)  # (B, code), non-negative

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encode(x))  # (B, 64) logits

    def reconstruct(self, x: Tensor) -> Tensor:
        return self(x)  # (B, 64) logits


class VAE(nn.Module):
    """Gaussian encoder q(z|x) = N(mu, diag(exp(logvar))), Bernoulli decoder p(x|z)."""

    def __init__(self, n_in: int = 64, hidden: int = 128, latent: int = 8) -> None:
        super().__init__()
        self.latent = latent
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, n_in))

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)  # (B, hidden)
        return self.mu(h), self.logvar(h)  # (B, latent) each

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)  # (B, latent) each
        z = mu + (0.5 * logvar).exp() * randn_like(mu)  # (B, latent): the reparameterization trick
        return self.decoder(z), mu, logvar  # logits (B, 64), mu, logvar

    def reconstruct(self, x: Tensor) -> Tensor:
        """Deterministic reconstruction logits (B, 64): decode the posterior mean."""
        return self.decoder(self.encode(x)[0])

    def sample(self, n: int) -> Tensor:
        """n new images (n, 64) in [0, 1]: decode z ~ N(0, I)."""
        with no_grad():
            return self.decoder(randn(n, self.latent)).sigmoid()


def reconstruction_loss(logits: Tensor, x: Tensor) -> Tensor:
    """-log p(x|z) for Bernoulli pixels: BCE summed over pixels, averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def sparse_step(model: Autoencoder, batch: tuple[Tensor, Tensor], l1: float) -> Tensor:
    """Reconstruction + l1 * sum_j |h_j| (the activity penalty), averaged over the batch."""
    x, _ = batch
    h = model.encode(x)  # (B, code)
    return reconstruction_loss(model.decoder(h), x) + l1 * h.abs().sum() / x.shape[0]


def negative_elbo(output: tuple[Tensor, Tensor, Tensor], x: Tensor) -> Tensor:
    """-(E_q[log p(x|z)] - KL(q || N(0, I))) per image from `VAE(x)`, averaged over the batch.

    One z sample estimates the expectation; the KL of two Gaussians is in closed form.
    """
    logits, mu, logvar = output  # (B, 64), (B, latent), (B, latent)
    kl = -0.5 * (1.0 + logvar - mu * mu - logvar.exp()).sum() / x.shape[0]
    return reconstruction_loss(logits, x) + kl


def moving_average(values: list[float], window: int = 5) -> list[float]:
    """Means of each `window` consecutive values (the smoothing for the ELBO monotonicity check)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < window:
        return v.tolist()
    return (np.convolve(v, np.ones(window), mode="valid") / window).tolist()


def reconstruction_mse(model: nn.Module, x: np.ndarray) -> float:
    """Mean squared pixel error of the reconstruction (sigmoid of the logits) on `x`."""
    model.eval()
    with no_grad():
        return float(((model.reconstruct(as_tensor(x)).sigmoid().numpy() - x) ** 2).mean())


@example("autoencoders", "autoencoder, sparse autoencoder (L1 activity) and VAE on the digits")
def run(
    out_dir: str = "runs/autoencoders", quick: bool = False, epochs: int = 30, l1: float = 0.1, seed: int = 0
) -> dict:
    """Train the three models; plot reconstructions and VAE samples; return ELBO per epoch."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    epochs = 3 if quick else epochs
    d = load_digits(flatten=True, val_fraction=0.1)  # validation carved from the training split
    x_train, x_val, x_test = d["X_train"], d["X_val"], d["X_test"]
    train = DataLoader(TensorDataset(x_train, x_train), batch_size=64, shuffle=True)
    val = DataLoader(TensorDataset(x_val, x_val), batch_size=512)
    # restore_best: the best epoch by validation loss
    quiet: dict[str, Any] = {"progress": False, "verbose": False, "restore_best": True}

    plain = Autoencoder(code=16)
    fit(
        plain,
        train,
        reconstruction_loss,
        optim.Adam(plain.parameters(), lr=2e-3),
        epochs,
        val_loader=val,
        metrics={},
        **quiet,
    )
    manual_seed(seed + 1)
    sparse = Autoencoder(code=64)
    fit(
        sparse,
        train,
        reconstruction_loss,
        optim.Adam(sparse.parameters(), lr=2e-3),
        epochs,
        val_loader=val,
        metrics={},
        step_fn=partial(sparse_step, l1=l1),
        **quiet,
    )
    manual_seed(seed + 2)
    vae = VAE(latent=8)
    history = fit(
        vae,
        train,
        negative_elbo,
        optim.Adam(vae.parameters(), lr=2e-3),
        epochs,
        val_loader=val,
        metrics={},
        **quiet,
    )
    elbo = [-v for v in history["loss"]]  # mean ELBO per image over each epoch's batches (nats)
    smooth = moving_average(elbo)
    # The test split, read once now that every model is chosen.
    test = DataLoader(TensorDataset(x_test, x_test), batch_size=512)
    vae_test_elbo = -evaluate(vae, test, negative_elbo, metrics={})["loss"]
    models = {"autoencoder": plain, "sparse AE": sparse, "VAE": vae}
    recon = plot_reconstructions(x_test[:10], models, os.path.join(out_dir, "reconstructions.png"))
    samples = plot_digit_grid(
        vae.sample(64).numpy(),
        os.path.join(out_dir, "vae_samples.png"),
        "VAE samples: decoder(z), z ~ N(0, I)",
    )
    return {
        "autoencoder_test_mse": reconstruction_mse(plain, x_test),
        "sparse_test_mse": reconstruction_mse(sparse, x_test),
        "vae_test_mse": reconstruction_mse(vae, x_test),
        "autoencoder_active_fraction": active_fraction(plain, x_test),
        "sparse_active_fraction": active_fraction(sparse, x_test),
        "elbo_per_epoch": elbo,
        "elbo_smoothed": smooth,
        "elbo_monotone": bool(np.all(np.diff(smooth) > 0)),
        "vae_best_epoch": history.best_epoch,
        "vae_test_elbo": vae_test_elbo,
        "reconstructions": recon,
        "samples": samples,
    }


def active_fraction(model: Autoencoder, x: np.ndarray) -> float:
    """Average fraction of code units that are non-zero for an image (lower = sparser)."""
    with no_grad():
        return float((model.encode(as_tensor(x)).numpy() > 1e-6).mean())


def plot_digit_grid(images: np.ndarray, path: str, title: str) -> str:
    """Save a square grid of (n, 64) images in [0, 1] as a PNG; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    side = int(np.ceil(np.sqrt(len(images))))
    canvas = np.zeros((side * 9, side * 9))  # 8x8 tiles with a 1-pixel (blank) gap
    for i, img in enumerate(images):
        r, c = divmod(i, side)
        canvas[r * 9 : r * 9 + 8, c * 9 : c * 9 + 8] = img.reshape(8, 8)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_reconstructions(x: np.ndarray, models: dict[str, nn.Module], path: str) -> str:
    """Row 0: originals; one row per model: its reconstructions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {"original": x}
    for name, model in models.items():
        model.eval()
        with no_grad():
            rows[name] = model.reconstruct(as_tensor(x)).sigmoid().numpy()
    fig, axes = plt.subplots(len(rows), len(x), figsize=(len(x) * 0.8, len(rows) * 0.9))
    for r, (name, images) in enumerate(rows.items()):
        for c, img in enumerate(images):
            axes[r, c].imshow(img.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title(name, fontsize=8, loc="left")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
