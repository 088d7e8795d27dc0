"""Run under mpirun: DistributedDataParallel training equals one process on the same global batches.

Every rank trains its DDP replica on its shard (DistributedSampler order) of each global batch and,
alongside, a reference model on the whole batch in this one process, then compares the parameters
(and SyncBatchNorm's running statistics) after K steps, and checks that all ranks hold identical
parameters. The DDP models start from different seeds on each rank: construction must copy rank
0's. Reports, per case, the largest difference found (see report.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from report import report

import autograd_nn as ag
import autograd_nn.distributed as dist
from autograd_nn import nn, optim
from autograd_nn.data import DistributedSampler
from autograd_nn.nn import functional as F
from autograd_nn.nn.parallel import DistributedDataParallel as DDP

STEPS, BATCH = 3, 12  # the global batch splits evenly over 2 and 3 ranks


class DigitsLikeCNN(nn.Module):
    def __init__(self, norm: type) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            norm(4),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1),
            norm(6),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(6 * 2 * 2, 3)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return self.head(self.features(x).flatten(1))  # (B, 3)


class SequenceClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)
        self.head = nn.Linear(5, 3)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        out, _ = self.lstm(x)  # (B, T, 5)
        return self.head(out[:, -1])  # (B, 3)


class TwoBranches(nn.Module):
    """The second branch is used by rank 0 only; `never` by no rank."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Linear(4, 6)
        self.branch = nn.Linear(6, 6)
        self.head = nn.Linear(6, 3)
        self.never = nn.Linear(6, 6)  # unused everywhere: its .grad must stay None

    def forward(self, x: ag.Tensor, use_branch: bool) -> ag.Tensor:
        h = self.trunk(x).tanh()
        if use_branch:
            h = h + self.branch(h).tanh()
        return self.head(h)


def batches(case: str, shape: tuple, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(BATCH,) + shape), rng.integers(0, 3, BATCH)) for _ in range(STEPS)]


def run_case(
    name: str,
    build: Callable[[], nn.Module],
    shape: tuple,
    dtype: Any,
    *,
    sync_bn: bool = False,
    per_shard_reference: bool = False,
    unused: bool = False,
    accumulate: bool = False,
    bucket_cap_mb: float = 25.0,
) -> dict[str, Any]:
    rank, size = dist.get_rank(), dist.get_world_size()
    ag.set_default_dtype(dtype)
    ag.manual_seed(0)
    reference = build()
    ag.manual_seed(0 if rank == 0 else 1000 + rank)  # DDP must replace these by rank 0's weights
    local = build()
    if sync_bn:
        local = nn.SyncBatchNorm.convert_sync_batchnorm(local)
    model = DDP(local, bucket_cap_mb=bucket_cap_mb, find_unused_parameters=unused)
    opt_ref = optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    shards = [list(DistributedSampler(range(BATCH), size, r, shuffle=False)) for r in range(size)]
    mine = shards[rank]

    def tensor(a: np.ndarray) -> ag.Tensor:
        return ag.tensor(a.astype(dtype) if a.dtype.kind == "f" else a)

    for x, y in batches(name, shape, seed=len(name)):
        # the single process: the whole global batch (or, for plain BatchNorm, the mean of the
        # per-shard losses, since each rank normalises its own shard)
        opt_ref.zero_grad()
        if unused:
            loss = (
                sum(
                    F.cross_entropy(reference(tensor(x[s]), r == 0), tensor(y[s]))
                    for r, s in enumerate(shards)
                )
                / size
            )
        elif per_shard_reference:
            loss = sum(F.cross_entropy(reference(tensor(x[s])), tensor(y[s])) for s in shards) / size
        else:
            loss = F.cross_entropy(reference(tensor(x)), tensor(y))
        loss.backward()
        opt_ref.step()
        opt.zero_grad()
        if accumulate:  # two micro-batches: the first only accumulates (no_sync)
            half = len(mine) // 2
            with model.no_sync():
                (
                    F.cross_entropy(model(tensor(x[mine[:half]])), tensor(y[mine[:half]])) * half / len(mine)
                ).backward()
            (
                F.cross_entropy(model(tensor(x[mine[half:]])), tensor(y[mine[half:]]))
                * (len(mine) - half)
                / len(mine)
            ).backward()
        elif unused:
            F.cross_entropy(model(tensor(x[mine]), rank == 0), tensor(y[mine])).backward()
        else:
            F.cross_entropy(model(tensor(x[mine])), tensor(y[mine])).backward()
        opt.step()
    diff = max(
        float(np.abs(a.numpy() - b.numpy()).max())
        for a, b in zip(reference.parameters(), model.module.parameters())
    )
    result: dict[str, Any] = {"max_param_diff": diff, "buckets": len(model.bucket_sizes)}
    if sync_bn:
        result["max_buffer_diff"] = max(
            float(np.abs(a.numpy().astype(np.float64) - b.numpy()).max())
            for (_, a), (_, b) in zip(reference.named_buffers(), model.module.named_buffers())
        )
    if unused:
        result["never_used_grad_is_none"] = model.module.never.weight.grad is None
    flat = np.concatenate([p.numpy().ravel().astype(np.float64) for p in model.parameters()])
    everyone = [ag.zeros(flat.size, dtype=ag.float64) for _ in range(size)]
    dist.all_gather(everyone, ag.tensor(flat))
    result["ranks_identical"] = all(np.array_equal(e.numpy(), flat) for e in everyone)
    return result


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "mlp_float64": lambda: run_case(
        "mlp_float64",
        lambda: nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)),
        (4,),
        np.float64,
        bucket_cap_mb=0.0003,
    ),
    "mlp_float32": lambda: run_case(
        "mlp_float32", lambda: nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)), (4,), np.float32
    ),
    "cnn_batchnorm_float64": lambda: run_case(
        "cnn_batchnorm_float64",
        lambda: DigitsLikeCNN(nn.BatchNorm2d),
        (1, 8, 8),
        np.float64,
        per_shard_reference=True,
        bucket_cap_mb=0.001,
    ),
    "cnn_syncbatchnorm_float64": lambda: run_case(
        "cnn_syncbatchnorm_float64",
        lambda: DigitsLikeCNN(nn.BatchNorm2d),
        (1, 8, 8),
        np.float64,
        sync_bn=True,
        bucket_cap_mb=0.001,
    ),
    "cnn_syncbatchnorm_float32": lambda: run_case(
        "cnn_syncbatchnorm_float32",
        lambda: DigitsLikeCNN(nn.BatchNorm2d),
        (1, 8, 8),
        np.float32,
        sync_bn=True,
    ),
    "lstm_float64": lambda: run_case("lstm_float64", SequenceClassifier, (6, 3), np.float64),
    "unused_parameters_float64": lambda: run_case(
        "unused_parameters_float64", TwoBranches, (4,), np.float64, unused=True
    ),
    "no_sync_accumulation_float64": lambda: run_case(
        "no_sync_accumulation_float64",
        lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)),
        (4,),
        np.float64,
        accumulate=True,
    ),
}


def main(names: list[str]) -> None:
    dist.init_process_group("mpi")
    results = {name: CASES[name]() for name in (names or list(CASES))}
    report(dist.get_rank(), {"rank": dist.get_rank(), "size": dist.get_world_size(), "cases": results})


if __name__ == "__main__":
    main(sys.argv[1:])
