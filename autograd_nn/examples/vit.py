"""A Vision Transformer (Dosovitskiy et al. 2020) on the 8x8 digits.

The image is cut into patch_size x patch_size patches; each patch, flattened, is linearly embedded
as one token. A learned class token is prepended, learned position embeddings are added, and a
pre-norm transformer encoder mixes the tokens. The class token's final state is classified.
With 2x2 patches an 8x8 digit is a sequence of 16 tokens (+1 class token).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

from .. import nn, optim
from .._tensor import Tensor, cat, zeros
from ..data import DataLoader, TensorDataset, load_digits
from ..nn import functional as F
from ..random import manual_seed
from ..training import train_classifier
from .registry import example


@dataclass
class ViTConfig:
    image_size: int = 8
    patch_size: int = 2
    channels: int = 1
    d_model: int = 64
    nhead: int = 4
    num_layers: int = 3
    dim_feedforward: int = 128
    dropout: float = 0.1
    num_classes: int = 10

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2


class PatchEmbedding(nn.Module):
    """(B, C, H, W) images -> (B, N, d_model) tokens, one per non-overlapping P x P patch."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        if config.image_size % config.patch_size:
            raise ValueError(
                f"PatchEmbedding: image_size {config.image_size} is not a multiple "
                f"of patch_size {config.patch_size}"
            )
        self.p = config.patch_size
        self.proj = nn.Linear(config.channels * self.p**2, config.d_model)

    def forward(self, x: Tensor) -> Tensor:
        B, C, H, W = x.shape
        p = self.p
        x = x.reshape(B, C, H // p, p, W // p, p)  # (B, C, H/P, P, W/P, P)
        x = x.permute(0, 2, 4, 1, 3, 5)  # (B, H/P, W/P, C, P, P)
        x = x.reshape(B, (H // p) * (W // p), C * p * p)  # (B, N, C*P*P): flattened patches
        return self.proj(x)  # (B, N, d_model)


class ViT(nn.Module):
    """forward(images (B, C, H, W)) -> class logits (B, num_classes)."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.patch_embed = PatchEmbedding(config)
        self.cls_token = nn.Parameter(zeros(1, 1, d))
        self.pos_embed = nn.Parameter(zeros(1, config.num_patches + 1, d))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        layer = nn.TransformerEncoderLayer(
            d,
            config.nhead,
            config.dim_feedforward,
            config.dropout,
            partial(F.gelu, approximate="tanh"),
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.num_layers)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.num_classes)

    def forward(self, images: Tensor) -> Tensor:
        x = self.patch_embed(images)  # (B, N, d)
        cls = self.cls_token.expand(x.shape[0], 1, x.shape[2])  # (B, 1, d)
        x = cat([cls, x], 1) + self.pos_embed  # (B, N + 1, d)
        x = self.encoder(x)  # (B, N + 1, d)
        return self.head(self.norm(x[:, 0]))  # (B, num_classes): from the class token


@example("vit", "Vision Transformer on the 8x8 digits (2x2 patches as tokens)")
def run(
    out_dir: str = "runs/vit",
    quick: bool = False,
    epochs: int = 30,
    seed: int = 0,
    config: ViTConfig | None = None,
    lr: float = 2e-3,
    verbose: bool = True,
) -> dict:
    """Train a ViT on the digits, keep the epoch with the lowest validation loss; returns its
    accuracy on the held-out test split (chance is 10%)."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    epochs = 2 if quick else epochs
    d = load_digits(val_fraction=0.1)  # validation carved from the training split
    train = DataLoader(TensorDataset(d["X_train"], d["y_train"]), batch_size=64, shuffle=True)
    val = DataLoader(TensorDataset(d["X_val"], d["y_val"]), batch_size=256)
    test = DataLoader(TensorDataset(d["X_test"], d["y_test"]), batch_size=256)
    config = config or (ViTConfig(d_model=32, num_layers=1, dim_feedforward=64) if quick else ViTConfig())
    model = ViT(config)
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    history, result, curves = train_classifier(
        model, train, val, test, opt, epochs, os.path.join(out_dir, "curves.png"), "ViT on digits", verbose
    )
    return {
        "test_accuracy": result["acc"],
        "test_loss": result["loss"],
        "best_epoch": history.best_epoch,
        "num_params": sum(p.numel() for p in model.parameters()),
        "train_time_s": sum(history["time"]),
        "curves": curves,
    }
