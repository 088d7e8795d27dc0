"""A small, readable training loop: `fit` and `evaluate`, with a progress bar, early stopping,
best-model checkpointing and a History that plots its curves.

It is the documented pattern written once, so the examples never copy a training loop::

    history = fit(model, train_loader, loss_fn=F.cross_entropy, optimizer=opt, epochs=10,
                  val_loader=val_loader, metrics={"acc": accuracy})
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Any

from ..grad_mode import no_grad
from .metrics import accuracy

Batch = Any


def _progress(iterable: Iterable, total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar over `iterable` where one can be drawn live, else `iterable` itself.

    A bar redraws itself with carriage returns: in a file or a pipe (stderr redirected, CI logs)
    that becomes one enormous line, so there `fit` logs one line per epoch instead. So it does when
    tqdm (optional) is not installed.
    """
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    in_notebook = any(cls.__module__ == "tqdm.notebook" for cls in tqdm.__mro__)  # a widget
    stream = sys.stderr
    if not (in_notebook or (stream is not None and stream.isatty())):
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, file=stream)


@dataclass
class History:
    """Per-epoch metrics: `history.metrics['val_loss'][epoch]`."""

    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None

    def log(self, **values: float) -> None:
        for k, v in values.items():
            self.metrics.setdefault(k, []).append(float(v))

    def __getitem__(self, key: str) -> list[float]:
        return self.metrics[key]

    def plot(self, path: str, title: str = "training curves") -> str:
        """Loss (left) and other metrics (right) per epoch, saved as a PNG (needs matplotlib)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as err:  # pragma: no cover - optional dependency
            raise ImportError("History.plot needs matplotlib: pip install matplotlib") from err
        losses = {k: v for k, v in self.metrics.items() if "loss" in k}
        others = {k: v for k, v in self.metrics.items() if "loss" not in k and k != "time"}
        fig, axes = plt.subplots(1, 2 if others else 1, figsize=(10 if others else 5, 3.5))
        axes = list(axes) if others else [axes]
        for k, v in losses.items():
            axes[0].plot(range(1, len(v) + 1), v, label=k)
        axes[0].set_xlabel("epoch")
        axes[0].set_ylabel("loss")
        axes[0].legend()
        if others:
            for k, v in others.items():
                axes[1].plot(range(1, len(v) + 1), v, label=k)
            axes[1].set_xlabel("epoch")
            axes[1].set_ylabel("accuracy" if all("acc" in k for k in others) else "value")
            axes[1].legend()
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


class EarlyStopping:
    """Stop when `monitor` has not improved by `min_delta` for `patience` epochs."""

    def __init__(
        self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "min"
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.bad_epochs = 0

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float) -> bool:
        """Record this epoch's value; True when training should stop."""
        if self.improved(value):
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience


def _split(batch: Batch) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError("fit/evaluate expect batches of (inputs, targets); pass step_fn for others")


def evaluate(
    model: Any, loader: Iterable, loss_fn: Callable, metrics: dict[str, Callable] | None = None
) -> dict[str, float]:
    """Mean loss and metrics over `loader` in eval mode, without recording a graph."""
    metrics = {"acc": accuracy} if metrics is None else metrics
    was_training = getattr(model, "training", False)
    model.eval()
    total, n = {"loss": 0.0, **dict.fromkeys(metrics, 0.0)}, 0
    with no_grad():
        for batch in loader:
            x, y = _split(batch)
            out = model(x)
            size = len(y)
            total["loss"] += float(loss_fn(out, y).item()) * size
            for k, fn in metrics.items():
                total[k] += fn(out, y) * size
            n += size
    model.train(was_training)
    return {k: v / max(n, 1) for k, v in total.items()}


def fit(
    model: Any,
    train_loader: Iterable,
    loss_fn: Callable | None,
    optimizer: Any,
    epochs: int,
    val_loader: Iterable | None = None,
    scheduler: Any = None,
    metrics: dict[str, Callable] | None = None,
    early_stopping: EarlyStopping | None = None,
    checkpoint_path: str | None = None,
    progress: bool = True,
    verbose: bool = True,
    step_fn: Callable | None = None,
    restore_best: bool = False,
    state_path: str | None = None,
    resume: bool = False,
) -> History:
    """Train for `epochs`, evaluating on `val_loader` after each epoch.

    The best epoch is the one with the lowest val_loss (or the early-stopping monitor, in its
    mode); `history.best_epoch` names it. Its weights are saved to `checkpoint_path` with
    `autograd_nn.save` (atomic, no pickle) and, with `restore_best=True`, loaded back into the model
    when training ends. Select on a validation split carved from the training data, never on the
    test split: the test metric is only honest if nothing was chosen by it.

    `step_fn(model, batch) -> loss` replaces the default `loss_fn(model(x), y)` for batches that
    are not (inputs, targets). `progress` draws a tqdm bar on a terminal (or in a notebook); when
    stderr is a file or a pipe it logs one line per epoch there instead (unless `verbose` already
    prints one). `state_path` receives the whole training state (model, optimizer, scheduler,
    epoch, history) after every epoch; with `resume=True` an existing one is loaded first and
    training continues after its epoch (a job that failed restarts where it stopped).

    On several ranks (a DistributedDataParallel model) the loop calls the sampler's `set_epoch`,
    reports the loss over every rank's batches, takes rank 0's validation numbers for every
    decision, and only rank 0 prints, shows progress bars and writes files.
    """
    from ..serialization import save  # late: serialization sits above nn in the layering
    from . import ranks

    if restore_best and val_loader is None:
        raise ValueError("fit: restore_best=True needs a val_loader to choose the best epoch by")
    if loss_fn is None and (step_fn is None or val_loader is not None):
        raise TypeError(
            "fit: loss_fn is None; it is needed unless step_fn computes the loss and "
            "there is no val_loader to evaluate"
        )
    metrics = {"acc": accuracy} if metrics is None else metrics
    main, world = ranks.is_main_process(), ranks.world_size()
    progress, verbose = progress and main, verbose and main
    history = History()
    monitor = early_stopping.monitor if early_stopping else "val_loss"
    best, best_state, first_epoch = math.inf, None, 1
    if resume and state_path and os.path.exists(state_path):
        best, first_epoch = _restore(state_path, model, optimizer, scheduler, early_stopping, history)
        if verbose:
            print(f"resumed from {state_path} after epoch {first_epoch - 1}")
    for epoch in range(first_epoch, epochs + 1):
        model.train()
        ranks.set_epoch(train_loader, epoch)
        start, seen, running = time.perf_counter(), 0, 0.0
        bar = _progress(
            train_loader,
            len(train_loader) if isinstance(train_loader, Sized) else 0,
            f"epoch {epoch}/{epochs}",
            progress,
        )
        for batch in bar:
            if step_fn is not None:
                loss = step_fn(model, batch)
                size = 1
            else:
                x, y = _split(batch)
                assert loss_fn is not None  # checked on entry
                loss = loss_fn(model(x), y)
                size = len(y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += float(loss.item()) * size
            seen += size
            if hasattr(bar, "set_postfix"):  # samples of every rank (they run in step)
                rate = seen * world / max(time.perf_counter() - start, 1e-9)
                bar.set_postfix(loss=f"{running / seen:.4f}", samples_per_s=f"{rate:.0f}")
        if scheduler is not None and not _is_plateau(scheduler):
            scheduler.step()
        record = {"loss": ranks.global_mean(running, seen), "time": time.perf_counter() - start}
        if val_loader is not None:  # on rank 0 only; the others get its numbers just below
            assert loss_fn is not None  # checked on entry
            val = (
                evaluate(model, val_loader, loss_fn, metrics)
                if main
                else dict.fromkeys(("loss", *metrics), math.nan)
            )
            record.update({f"val_{k}": v for k, v in val.items()})
        record = ranks.rank0_values(record)
        history.log(**record)
        if scheduler is not None and _is_plateau(scheduler):
            scheduler.step(record.get("val_loss", record["loss"]))
        if verbose:
            print(f"epoch {epoch:3d}  " + "  ".join(f"{k} {v:.4f}" for k, v in record.items()))
        elif progress and bar is train_loader:  # no live bar: one line per epoch instead
            rate = seen / max(record["time"], 1e-9)
            print(
                f"epoch {epoch}/{epochs}: loss {record['loss']:.4f}, {rate:.0f} samples/s",
                file=sys.stderr,
                flush=True,
            )
        value = record.get(monitor, record["loss"])
        score = value if (early_stopping is None or early_stopping.mode == "min") else -value
        if score < best:
            best, history.best_epoch = score, epoch
            if checkpoint_path and main:
                save({"model": model.state_dict(), "epoch": epoch}, checkpoint_path)
            if restore_best:
                best_state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        stop = early_stopping is not None and early_stopping.step(value)
        if state_path and main:
            save(
                _training_state(model, optimizer, scheduler, early_stopping, history, epoch, best), state_path
            )
        if stop:
            if verbose:
                print(f"early stopping at epoch {epoch}: no improvement in {monitor}")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _training_state(
    model: Any, optimizer: Any, scheduler: Any, early_stopping: Any, history: History, epoch: int, best: float
) -> dict[str, Any]:
    """Everything `fit(resume=True)` needs to continue after `epoch` as if never stopped."""
    from ..random import get_rng_state

    return {
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "early_stopping": None
        if early_stopping is None
        else {"best": early_stopping.best, "bad_epochs": early_stopping.bad_epochs},
        "history": history.metrics,
        "best_epoch": history.best_epoch,
        "best": best,
        "rng": get_rng_state(),
    }


def _restore(
    path: str, model: Any, optimizer: Any, scheduler: Any, early_stopping: Any, history: History
) -> tuple[float, int]:
    """Load a `_training_state` file into the objects; returns (best score, next epoch)."""
    from ..random import set_rng_state
    from ..serialization import load

    state = load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if early_stopping is not None and state["early_stopping"] is not None:
        early_stopping.best = state["early_stopping"]["best"]
        early_stopping.bad_epochs = state["early_stopping"]["bad_epochs"]
    history.metrics = {k: list(v) for k, v in state["history"].items()}
    history.best_epoch = state["best_epoch"]
    set_rng_state(state["rng"])
    return float(state["best"]), int(state["epoch"]) + 1


def train_classifier(
    model: Any,
    train_loader: Iterable,
    val_loader: Iterable,
    test_loader: Iterable,
    optimizer: Any,
    epochs: int,
    curves_path: str,
    title: str,
    verbose: bool = True,
) -> tuple[History, dict[str, float], str]:
    """The examples' classification recipe: cross-entropy, cosine learning-rate decay over
    `epochs`, validation after each epoch, the best epoch by validation loss restored, then one
    evaluation on `test_loader` (which takes no part in training or selection); curves as a PNG.

    Returns (history, test metrics of the restored model, path of the curves picture); on ranks
    other than 0 of a multi-process run, (history, {}, "").
    """
    from ..functional import cross_entropy  # late: functional sits above training's imports
    from ..optim.lr_scheduler import CosineAnnealingLR
    from . import ranks

    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    history = fit(
        model,
        train_loader,
        cross_entropy,
        optimizer,
        epochs=epochs,
        val_loader=val_loader,
        scheduler=scheduler,
        progress=False,
        verbose=verbose,
        restore_best=True,
    )
    if not ranks.is_main_process():  # on several ranks, rank 0 evaluates and draws
        return history, {}, ""
    result = evaluate(model, test_loader, cross_entropy)
    return history, result, history.plot(curves_path, title)


def _is_plateau(scheduler: Any) -> bool:
    return type(scheduler).__name__ == "ReduceLROnPlateau"
