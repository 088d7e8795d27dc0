"""Run under mpirun: `fit` with DDP, a DistributedSampler and a training-state file, resuming from
it when present. `--fail-at-epoch E` makes rank 1 raise during epoch E (the job must abort, leaving
the state of epoch E - 1). Rank 0 saves the final parameters to OUT.

    python train_resumable.py STATE OUT [--fail-at-epoch E]
"""

from __future__ import annotations

import argparse

import numpy as np

import autograd_nn as ag
import autograd_nn.distributed as dist
from autograd_nn import nn, optim
from autograd_nn.data import DataLoader, DistributedSampler, TensorDataset
from autograd_nn.nn import functional as F
from autograd_nn.nn.parallel import DistributedDataParallel as DDP
from autograd_nn.training import fit

EPOCHS = 4


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("state")
    p.add_argument("out")
    p.add_argument("--fail-at-epoch", type=int, default=0)
    args = p.parse_args()
    dist.init_process_group("mpi")
    ag.set_default_dtype(ag.float64)
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    data = TensorDataset(rng.normal(size=(48, 4)), rng.integers(0, 3, 48))
    sampler = DistributedSampler(data, seed=7)
    loader = DataLoader(data, batch_size=6, sampler=sampler)
    model = DDP(nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)

    def loss_fn(out: ag.Tensor, y: ag.Tensor) -> ag.Tensor:
        if dist.get_rank() == 1 and sampler.epoch == args.fail_at_epoch:
            raise RuntimeError(f"deliberate failure on rank 1 in epoch {sampler.epoch}")
        return F.cross_entropy(out, y)

    fit(
        model,
        loader,
        loss_fn,
        opt,
        EPOCHS,
        scheduler=sched,
        progress=False,
        state_path=args.state,
        resume=True,
    )
    if dist.get_rank() == 0:
        ag.save(dict(model.state_dict().items()), args.out)
    dist.barrier()


if __name__ == "__main__":
    main()
