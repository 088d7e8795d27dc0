"""Run under mpirun with a mode: a rank fails in the middle of DDP training, and the whole job must
end, with a clear message, in bounded time (test_distributed_mpi.py measures it).

  raise     rank 1 raises an exception at step 2 (rank 0 is already waiting in an all-reduce)
  kill      rank 1 is killed (SIGKILL) at step 2
  hang      rank 1 stops calling collectives at step 2; the group's 3 s timeout ends the job
  disagree  rank 1 leaves a parameter without gradient (find_unused_parameters=False)
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import timedelta

import autograd_nn as ag
import autograd_nn.distributed as dist
from autograd_nn import nn, optim
from autograd_nn.nn import functional as F
from autograd_nn.nn.parallel import DistributedDataParallel as DDP


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 8)
        self.b = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x: ag.Tensor, skip_b: bool = False) -> ag.Tensor:
        h = self.a(x).tanh()
        return self.head(h if skip_b else self.b(h).tanh())


def main(mode: str) -> None:
    dist.init_process_group("mpi", timeout=timedelta(seconds=3 if mode == "hang" else 60))
    rank = dist.get_rank()
    ag.manual_seed(0)
    model = DDP(Model())
    opt = optim.SGD(model.parameters(), lr=0.1)
    for step in range(1, 6):
        failing = rank == 1 and step == 2
        if failing and mode == "raise":
            raise ValueError("deliberate failure on rank 1 at step 2")
        if failing and mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if failing and mode == "hang":
            time.sleep(600)
        x, y = ag.randn(6, 4), ag.randint(0, 2, (6,))
        loss = F.cross_entropy(model(x, skip_b=failing and mode == "disagree"), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"rank {rank} finished step {step}", flush=True)
    print(f"rank {rank}: all steps done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
