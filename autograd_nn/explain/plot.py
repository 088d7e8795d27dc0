"""Heat maps over the input: attributions or attention drawn on top of the images they explain.

matplotlib is imported only when a picture is drawn (it is an optional dependency).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..errors import ShapeError

__all__ = ["plot_heatmaps"]


def _images(x: Any, name: str) -> np.ndarray:
    """(N, H, W) from (N, H, W) or single-channel (N, 1, H, W) arrays or Tensors."""
    a = np.asarray(x.numpy() if isinstance(x, Tensor) else x, np.float64)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3:
        raise ShapeError(f"plot_heatmaps: {name} must be (N, H, W) or (N, 1, H, W), got {np.shape(a)}")
    return a


def plot_heatmaps(
    images: Any,
    heatmaps: dict[str, Any],
    path: str | None = None,
    titles: Sequence[str] | None = None,
    outline: float | None = 0.5,
    title: str | None = None,
) -> Any:
    """A grid: the images in the first row, then one row per heat map drawn over them.

    `heatmaps` maps a row label to (N, h, w) maps (or (N, 1, h, w)); a map coarser than the image
    (attention over patches) is stretched over it. Maps with negative values get a diverging colour
    scale centred on 0 (red positive, blue negative), others a white-to-red one; each map is scaled
    to its own largest magnitude. The image's contour at the level `outline` (None: none) is drawn
    over each map. Saves to `path` when given; returns the matplotlib Figure.
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imgs = _images(images, "images")
    rows = {label: _images(m, f"heat map {label!r}") for label, m in heatmaps.items()}
    n, h, w = imgs.shape
    for label, m in rows.items():
        if len(m) != n:
            raise ShapeError(f"plot_heatmaps: heat map {label!r} has {len(m)} maps for {n} images")
    fig, axes = plt.subplots(1 + len(rows), n, figsize=(1.1 * n + 0.8, 1.15 * (1 + len(rows))), squeeze=False)
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    for j in range(n):
        axes[0, j].imshow(imgs[j], cmap="gray_r", extent=extent)
        if titles is not None:
            axes[0, j].set_title(str(titles[j]), fontsize=8)
        for r, m in enumerate(rows.values(), start=1):
            scale = float(np.abs(m[j]).max()) or 1.0
            signed = bool((m < 0).any())
            axes[r, j].imshow(
                m[j],
                cmap="RdBu_r" if signed else "Reds",
                vmin=-scale if signed else 0.0,
                vmax=scale,
                extent=extent,
                interpolation="nearest",
            )
            if outline:  # the digit's outline on top, so the map can be read against it
                axes[r, j].contour(
                    np.arange(w),
                    np.arange(h),
                    imgs[j],
                    levels=[outline],
                    colors="black",
                    linewidths=0.7,
                    alpha=0.8,
                )
    for r, label in enumerate(["input", *rows]):
        axes[r, 0].set_ylabel(label, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return fig
