"""A small CNN on the 8x8 digits: the main job of `python -m autograd_nn`."""

from __future__ import annotations

import os

from .. import nn, optim
from .._tensor import Tensor, as_tensor
from ..data import DataLoader, TensorDataset, load_digits
from ..grad_mode import no_grad
from ..nn import functional as F
from ..random import manual_seed
from ..serialization import load
from ..training import confusion_matrix, evaluate, fit
from .data_parallel import done, finish, parallelize, unwrap_state_dict
from .registry import example


class DigitsCNN(nn.Module):
    """conv(1->16) - relu - pool - conv(16->32) - relu - pool - linear(128->10)."""

    def __init__(self, channels: tuple[int, int] = (16, 32), num_classes: int = 10) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B,c1,4,4)
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B,c2,2,2)
        )
        self.classifier = nn.Linear(c2 * 4, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.features(x)  # (B, c2, 2, 2)
        return self.classifier(h.flatten(1))  # (B, 10)


@example("cnn", "CNN on the 8x8 digits (the default main job)", distributed=True)
def run(
    out_dir: str = "runs/cnn", quick: bool = False, epochs: int = 15, seed: int = 0, export: str | None = None
) -> dict:
    """Train on the training split, keep the epoch with the lowest loss on a validation split
    carved from it, then measure the test split once: it takes no part in training or selection.
    With `export`, also write the trained model as ONNX to that path. On N processes
    (`--nproc N`) the same global batches of 32 are split over the ranks (DDP + SyncBatchNorm);
    rank 0 reports."""
    manual_seed(seed)
    os.makedirs(out_dir, exist_ok=True)
    d = load_digits(val_fraction=0.1)
    model, train = parallelize(DigitsCNN(), TensorDataset(d["X_train"], d["y_train"]), 32, seed)
    val = DataLoader(TensorDataset(d["X_val"], d["y_val"]), batch_size=256)
    test = DataLoader(TensorDataset(d["X_test"], d["y_test"]), batch_size=512)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2 if quick else epochs)
    ckpt = os.path.join(out_dir, "best.ckpt")
    history = fit(
        model,
        train,
        F.cross_entropy,
        opt,
        epochs=2 if quick else epochs,
        val_loader=val,
        scheduler=sched,
        checkpoint_path=ckpt,
        progress=not quick,
    )
    if not finish():  # another rank: rank 0 evaluates and writes the results
        return {}
    model = DigitsCNN()
    model.load_state_dict(unwrap_state_dict(load(ckpt)["model"]))
    result = evaluate(model, test, F.cross_entropy)  # the one look at the test split
    with no_grad():
        confusion = confusion_matrix(model.eval()(as_tensor(d["X_test"])), d["y_test"], 10)
    best = history.best_epoch
    assert best is not None  # chosen by the validation loss
    headline = (
        f"test accuracy {result['acc']:.1%} on the {len(d['y_test'])} held-out test "
        f"images (not used for training or checkpoint selection; the checkpoint of epoch "
        f"{best} was chosen by the loss on {len(d['y_val'])} validation images carved from "
        "the training split)"
    )
    curve = history.plot(os.path.join(out_dir, "curves.png"), "digits CNN")
    xb, yb = as_tensor(d["X_test"][:2]), as_tensor(d["y_test"][:2])
    graph = _draw_graph(model, xb, yb, os.path.join(out_dir, "graph"))
    out = {
        "test_accuracy": result["acc"],
        "test_loss": result["loss"],
        "val_accuracy": history["val_acc"][best - 1],
        "best_epoch": best,
        "n_train": len(d["y_train"]),
        "n_val": len(d["y_val"]),
        "n_test": len(d["y_test"]),
        "checkpoint": ckpt,
        "curves": curve,
        "graph": graph,
        "confusion_matrix": confusion.tolist(),
        "headline": headline,
    }
    if export:  # ONNX, with a dynamic batch axis: onnxruntime and other runtimes can serve it
        from ..onnx import export as onnx_export

        onnx_export(
            model,
            (xb,),
            export,
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        )
        out["onnx"] = export
    done()
    return out


def _draw_graph(model: nn.Module, x: Tensor, y: Tensor, path: str) -> list[str]:
    """The computation graph of one training step, collapsed by module, as SVG and PNG."""
    from ..viz import draw_graph, record_scopes

    model.train()
    with record_scopes():  # tag each op with the module that made it, for the clusters
        loss = F.cross_entropy(model(x), y)
    dot = draw_graph(loss, params=model, title="digits CNN: one training step")
    return [dot.render(path, format=fmt, cleanup=True) for fmt in ("svg", "png")]
