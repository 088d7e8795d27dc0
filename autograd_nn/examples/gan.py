"""Generative adversarial networks: a generator G(z) learns to fool a discriminator D(x).

1. A GAN on the 2-D ring of 8 Gaussians (`data.make_gaussian_mixture`): D is trained to tell real
   points from G's, G with the non-saturating loss -log D(G(z)). We check that the generated
   samples' mean and covariance match the target's (tolerances in MEAN_TOL, COV_TOL) and count the
   modes G covers.
2. A GAN on the 8x8 digits with small MLPs, a few epochs, and a grid of samples.
3. WGAN-GP (Gulrajani et al.): D becomes a critic whose score difference estimates the Wasserstein
   distance, and the 1-Lipschitz constraint is a penalty lambda * (||grad_x D(x_hat)|| - 1)^2 at
   random interpolates x_hat. The penalty is a gradient inside the loss, so it needs a gradient of a
   gradient: `autograd_nn.grad(..., create_graph=True)`.

All three share one alternating loop, `train_gan`, parameterised by the two losses.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import nn, optim
from .._tensor import Tensor, as_tensor, ones_like, rand, randn, zeros_like
from ..autograd import grad
from ..data import load_digits, make_gaussian_mixture
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import generator, manual_seed
from .autoencoders import plot_digit_grid
from .registry import example

MEAN_TOL = 0.25  # max |mean_generated - mean_target| per coordinate (target std is about 1.4)
COV_TOL = 0.5  # max |cov_generated - cov_target| per entry (target variances are about 2.0)


@dataclass
class GANConfig:
    """Hyperparameters of the alternating loop."""

    steps: int = 2000  # generator updates
    batch_size: int = 256
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1  # discriminator updates per generator update
    gp_weight: float = 10.0  # WGAN-GP's lambda (used by wgan_gp_losses)


def mlp(sizes: list[int], act: Callable[[], nn.Module], out_act: nn.Module | None = None) -> nn.Sequential:
    """Linear layers of `sizes` with `act` between them (and `out_act` at the end)."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers, *([out_act] if out_act is not None else []))


class Generator(nn.Module):
    """z (B, latent) -> x (B, out)."""

    def __init__(self, latent: int, hidden: int, out: int, out_act: nn.Module | None = None) -> None:
        super().__init__()
        self.latent = latent
        self.net = mlp([latent, hidden, hidden, out], nn.ReLU, out_act)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)  # (B, out)

    def sample(self, n: int) -> Tensor:
        with no_grad():
            return self(randn(n, self.latent))  # (n, out)


class Discriminator(nn.Module):
    """x (B, n_in) -> one logit (or critic score) per sample (B, 1)."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.net = mlp([n_in, hidden, hidden, 1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, 1)


# Losses: d_losses(D, real, fake) -> (loss, logs); g_loss(D, fake) -> loss.


def gan_d_loss(d: Discriminator, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
    """-log D(real) - log(1 - D(fake)), on logits."""
    real_logit, fake_logit = d(real), d(fake)  # (B, 1) each
    loss = F.binary_cross_entropy_with_logits(
        real_logit, ones_like(real_logit)
    ) + F.binary_cross_entropy_with_logits(fake_logit, zeros_like(fake_logit))
    return loss, {}


def gan_g_loss(d: Discriminator, fake: Tensor) -> Tensor:
    """The non-saturating generator loss -log D(G(z))."""
    logit = d(fake)  # (B, 1)
    return F.binary_cross_entropy_with_logits(logit, ones_like(logit))


def gradient_penalty(critic: Discriminator, real: Tensor, fake: Tensor) -> Tensor:
    """mean((||grad_x critic(x_hat)||_2 - 1)^2) at x_hat = eps real + (1 - eps) fake."""
    eps = rand(real.shape[0], *([1] * (real.ndim - 1)))  # (B, 1): one mixing weight per sample
    x_hat = (eps * real + (1.0 - eps) * fake).detach().requires_grad_()  # (B, D)
    (g,) = grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (B, D), itself differentiable
    norm = ((g * g).sum(1) + 1e-12).sqrt()  # (B,)
    return ((norm - 1.0) ** 2).mean()


def wgan_gp_d_loss(
    critic: Discriminator, real: Tensor, fake: Tensor, gp_weight: float = 10.0
) -> tuple[Tensor, dict]:
    """critic(fake) - critic(real) + lambda * gradient penalty."""
    gp = gradient_penalty(critic, real, fake)
    wasserstein = critic(real).mean() - critic(fake).mean()
    return gp_weight * gp - wasserstein, {"gp": gp.item(), "wasserstein": wasserstein.item()}


def wgan_g_loss(critic: Discriminator, fake: Tensor) -> Tensor:
    return -critic(fake).mean()


def train_gan(
    g: Generator,
    d: Discriminator,
    sample_real: Callable[[int], Tensor],
    d_loss: Callable,
    g_loss: Callable,
    cfg: GANConfig,
) -> dict[str, list[float]]:
    """Alternate `cfg.n_critic` D updates and one G update, `cfg.steps` times; return the logs."""
    opt_g = optim.Adam(g.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = optim.Adam(d.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    logs: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
    for _ in range(cfg.steps):
        for _ in range(cfg.n_critic):
            real = sample_real(cfg.batch_size)  # (B, D)
            fake = g.sample(cfg.batch_size)  # (B, D), no graph back into G
            loss, extra = d_loss(d, real, fake)
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
        logs["d_loss"].append(loss.item())
        for k, v in extra.items():
            logs.setdefault(k, []).append(v)
        fake = g(randn(cfg.batch_size, g.latent))  # (B, D), with a graph into G
        loss = g_loss(d, fake)
        opt_g.zero_grad()  # D's grads from this loss are never used: opt_d zeroes them first
        loss.backward()
        opt_g.step()
        logs["g_loss"].append(loss.item())
    return logs


def pool_sampler(pool: np.ndarray) -> Callable[[int], Tensor]:
    """Draw batches with replacement from a fixed array, with the library's seeded generator."""
    return lambda n: as_tensor(pool[generator().integers(0, len(pool), n)])


def moment_report(
    samples: np.ndarray, target: np.ndarray, centers: np.ndarray | None = None, radius: float = 0.5
) -> dict:
    """Mean/covariance errors of `samples` vs `target` and, with `centers`, the modes covered."""
    mean_err = np.abs(samples.mean(0) - target.mean(0)).max()
    cov_err = np.abs(np.cov(samples.T) - np.cov(target.T)).max()
    out = {
        "mean_error": float(mean_err),
        "cov_error": float(cov_err),
        "moments_ok": bool(mean_err <= MEAN_TOL and cov_err <= COV_TOL),
    }
    if centers is not None:
        dist = np.linalg.norm(samples[:, None] - centers[None], axis=-1)  # (n, modes)
        nearest, close = dist.argmin(1), dist.min(1) < radius
        counts = np.bincount(nearest[close], minlength=len(centers))
        out["modes_covered"] = int((counts >= 0.01 * len(samples)).sum())
        out["fraction_near_a_mode"] = float(close.mean())
    return out


def ring(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    angle = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angle), np.sin(angle)], 1)  # (modes, 2)


def run_mixture(cfg: GANConfig, wgan: bool = False, seed: int = 0) -> tuple[Generator, dict, dict]:
    """GAN (or WGAN-GP) on the 8-Gaussian ring; returns G, the moment report and the loss logs."""
    manual_seed(seed)
    pool, _ = make_gaussian_mixture(20000, n_modes=8, radius=2.0, std=0.05, seed=seed)
    g, d = Generator(latent=8, hidden=128, out=2), Discriminator(2, hidden=128)
    if wgan:
        logs = train_gan(
            g, d, pool_sampler(pool), lambda c, r, f: wgan_gp_d_loss(c, r, f, cfg.gp_weight), wgan_g_loss, cfg
        )
    else:
        logs = train_gan(g, d, pool_sampler(pool), gan_d_loss, gan_g_loss, cfg)
    report = moment_report(g.sample(5000).numpy(), pool, centers=ring())
    return g, report, logs


@example("gan", "GAN and WGAN-GP on a 2-D Gaussian ring, GAN on the digits")
def run(
    out_dir: str = "runs/gan",
    quick: bool = False,
    steps: int = 2000,
    wgan_steps: int = 300,
    digits_epochs: int = 20,
    seed: int = 0,
) -> dict:
    """Train the three GANs; plot samples; return moment errors, WGAN-GP penalty, losses."""
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        steps, wgan_steps, digits_epochs = 50, 20, 1
    g2d, gan_report, gan_logs = run_mixture(GANConfig(steps=steps), seed=seed)
    wcfg = GANConfig(steps=wgan_steps, lr_g=2e-3, lr_d=2e-3, betas=(0.5, 0.9), n_critic=3)
    gw, wgan_report, wgan_logs = run_mixture(wcfg, wgan=True, seed=seed)
    rings = plot_point_sets(
        {
            "target": make_gaussian_mixture(2000, seed=seed + 1)[0],
            f"GAN ({steps} steps)": g2d.sample(2000).numpy(),
            f"WGAN-GP ({wgan_steps} steps)": gw.sample(2000).numpy(),
        },
        os.path.join(out_dir, "ring_samples.png"),
    )
    digits = run_digits(digits_epochs, out_dir, seed=seed)
    return {
        "target": "8 Gaussians (std 0.05) on a circle of radius 2",
        "mean_tolerance": MEAN_TOL,
        "cov_tolerance": COV_TOL,
        "gan": gan_report,
        "wgan_gp": wgan_report,
        "wgan_gp_penalty_mean": float(np.mean(wgan_logs["gp"])),
        "wgan_gp_penalty_last": wgan_logs["gp"][-1],
        "wasserstein_estimate_last": float(np.mean(wgan_logs["wasserstein"][-20:])),
        "gan_final_d_loss": gan_logs["d_loss"][-1],
        "gan_final_g_loss": gan_logs["g_loss"][-1],
        **digits,
        "ring_samples": rings,
    }


def run_digits(epochs: int, out_dir: str, seed: int = 0) -> dict:
    """GAN on the flattened digits (pixels in [0, 1], sigmoid output); sample grid PNG."""
    manual_seed(seed)
    pool = load_digits(flatten=True)["X_train"]  # (1437, 64)
    g = Generator(latent=32, hidden=256, out=64, out_act=nn.Sigmoid())
    d = Discriminator(64, hidden=256)
    batch = 64
    cfg = GANConfig(steps=max(1, epochs * len(pool) // batch), batch_size=batch, lr_g=2e-4, lr_d=2e-4)
    logs = train_gan(g, d, pool_sampler(pool), gan_d_loss, gan_g_loss, cfg)
    samples = g.sample(64).numpy()
    grid = plot_digit_grid(
        samples, os.path.join(out_dir, "digits_samples.png"), f"GAN samples after {epochs} epochs"
    )
    with no_grad():
        d_fake = float(d(as_tensor(samples)).sigmoid().numpy().mean())
        d_real = float(d(as_tensor(pool[:512])).sigmoid().numpy().mean())
    return {
        "digits_d_real": d_real,
        "digits_d_fake": d_fake,
        "digits_pixel_mean_gap": float(abs(samples.mean() - pool.mean())),
        "digits_final_g_loss": float(np.mean(logs["g_loss"][-20:])),
        "digits_samples": grid,
    }


def plot_point_sets(sets: dict[str, np.ndarray], path: str) -> str:
    """One scatter panel per named (n, 2) point set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sets), figsize=(3.2 * len(sets), 3.2), sharex=True, sharey=True)
    for ax, (name, pts) in zip(axes, sets.items()):
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
        ax.set_title(name, fontsize=9)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
