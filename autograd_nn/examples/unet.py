"""A tiny U-Net (Ronneberger et al., 2015) that removes Gaussian noise from the 8x8 digits.

The encoder halves the resolution twice while widening the features; the decoder doubles it back
with transposed convolutions (or nearest-neighbour upsampling and a convolution), and at each scale
concatenates the encoder's features of the same size (the skip connections that carry fine detail
across the bottleneck). A 1x1 convolution maps the last features to one output channel.

    noisy (B, 1, 8, 8) -> enc1 (B, c, 8, 8) -> enc2 (B, 2c, 4, 4) -> bottleneck (B, 4c, 2, 2)
    -> up + [enc2] -> dec2 (B, 2c, 4, 4) -> up + [enc1] -> dec1 (B, c, 8, 8) -> clean (B, 1, 8, 8)

Trained with the mean squared error against the clean image, on fresh noise every batch; the test
set has one fixed draw of noise, and the report compares it before and after denoising.
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
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import generator, manual_seed
from ..serialization import load
from ..training import fit
from .registry import example


@dataclass
class UNetConfig:
    base: int = 16  # channels at full resolution; doubled at every level down
    upsample: str = "transpose"  # "transpose" (learned) or "nearest" (Upsample then a 3x3 conv)


def double_conv(c_in: int, c_out: int, groups: int = 4) -> nn.Sequential:
    """(conv 3x3 - GroupNorm - ReLU) twice, keeping H and W.

    GroupNorm, as in the U-Nets of diffusion models: it does not depend on the batch, so the model
    behaves the same in training and evaluation even after a few steps (BatchNorm's running
    averages need many)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.GroupNorm(groups, c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.GroupNorm(groups, c_out),
        nn.ReLU(),
    )


def up_conv(c_in: int, c_out: int, mode: str) -> nn.Module:
    """Double H and W and map c_in to c_out channels."""
    if mode == "transpose":
        return nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
    if mode == "nearest":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)
        )
    raise ValueError(f"UNet: upsample must be 'transpose' or 'nearest', got {mode!r}")


class UNet(nn.Module):
    """Two levels down, two up, with skip connections by concatenation."""

    def __init__(self, config: UNetConfig | None = None, channels: int = 1) -> None:
        super().__init__()
        cfg = config or UNetConfig()
        self.config = cfg
        c = cfg.base
        self.enc1 = double_conv(channels, c)
        self.enc2 = double_conv(c, 2 * c)
        self.bottleneck = double_conv(2 * c, 4 * c)
        self.pool = nn.MaxPool2d(2)
        self.up2 = up_conv(4 * c, 2 * c, cfg.upsample)
        self.dec2 = double_conv(4 * c, 2 * c)  # input: upsampled (2c) + skip from enc2 (2c)
        self.up1 = up_conv(2 * c, c, cfg.upsample)
        self.dec1 = double_conv(2 * c, c)  # input: upsampled (c) + skip from enc1 (c)
        self.head = nn.Conv2d(c, channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        e1 = self.enc1(x)  # (B, c, H, W)
        e2 = self.enc2(self.pool(e1))  # (B, 2c, H/2, W/2)
        b = self.bottleneck(self.pool(e2))  # (B, 4c, H/4, W/4)
        d2 = self.dec2(cat([self.up2(b), e2], dim=1))  # (B, 4c, H/2, W/2) -> (B, 2c, H/2, W/2)
        d1 = self.dec1(cat([self.up1(d2), e1], dim=1))  # (B, 2c, H, W) -> (B, c, H, W)
        return self.head(d1)  # (B, channels, H, W)


def add_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """x + N(0, sigma^2) per pixel, float32 (not clipped)."""
    return (x + sigma * rng.standard_normal(x.shape)).astype(np.float32)


def psnr(mse: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: 10 log10(peak^2 / MSE)."""
    return 10.0 * math.log10(peak * peak / mse)


def plot_denoising(clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray, path: str) -> str:
    """Rows: clean, noisy, denoised; one column per test digit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (("clean", clean), ("noisy", noisy), ("denoised", denoised))
    n = len(clean)
    fig, axes = plt.subplots(3, n, figsize=(1.0 * n, 3.3))
    for r, (name, images) in enumerate(rows):
        for j in range(n):
            ax = axes[r, j]
            ax.imshow(images[j, 0], cmap="gray_r", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize=9)
    fig.suptitle("U-Net denoising of the 8x8 digits", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@example("unet", "tiny U-Net denoising digits corrupted with Gaussian noise (PSNR before/after)")
def run(
    out_dir: str = "runs/unet",
    quick: bool = False,
    epochs: int = 10,
    sigma: float = 0.3,
    config: UNetConfig | None = None,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the U-Net to map noisy digits to clean ones; report test MSE and PSNR before/after.

    quick=True trains a narrower U-Net on 512 images for 2 epochs."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    if quick:
        epochs, config = 2, config or UNetConfig(base=8)
    d = load_digits()
    x_train = d["X_train"][:512] if quick else d["X_train"]
    x_val, x_train = x_train[:128], x_train[128:]
    rng = np.random.default_rng(seed + 1)  # the fixed noise of the validation and test images
    noisy_val = add_noise(x_val, sigma, rng)
    noisy_test, x_test = add_noise(d["X_test"], sigma, rng), d["X_test"]

    def denoise_step(model: nn.Module, batch: tuple[Tensor]) -> Tensor:
        clean = batch[0]  # (B, 1, 8, 8)
        noisy = as_tensor(add_noise(clean.numpy(), sigma, generator()))  # fresh noise every batch
        return F.mse_loss(model(noisy), clean)

    model = UNet(config)
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    train = DataLoader(TensorDataset(x_train), batch_size=batch_size, shuffle=True)
    val = DataLoader(TensorDataset(noisy_val, x_val), batch_size=512)
    ckpt = os.path.join(out_dir, "best.ckpt")
    start = time.perf_counter()
    history = fit(
        model,
        train,
        F.mse_loss,
        opt,
        epochs=epochs,
        val_loader=val,
        scheduler=sched,
        metrics={},
        checkpoint_path=ckpt,
        step_fn=denoise_step,
        progress=verbose and not quick,
        verbose=verbose,
    )
    train_time = time.perf_counter() - start
    model.load_state_dict(load(ckpt)["model"])
    model.eval()
    with no_grad():
        denoised = model(as_tensor(noisy_test)).numpy()  # (N, 1, 8, 8)
    mse_before = float(np.mean((noisy_test - x_test) ** 2))
    mse_after = float(np.mean((denoised - x_test) ** 2))
    picture = plot_denoising(
        x_test[:10], noisy_test[:10], denoised[:10], os.path.join(out_dir, "denoised.png")
    )
    return {
        "mse_noisy": mse_before,
        "mse_denoised": mse_after,
        "psnr_noisy_db": psnr(mse_before),
        "psnr_denoised_db": psnr(mse_after),
        "train_time_s": train_time,
        "checkpoint": ckpt,
        "denoised": picture,
        "curves": history.plot(os.path.join(out_dir, "curves.png"), "U-Net denoising loss"),
    }
