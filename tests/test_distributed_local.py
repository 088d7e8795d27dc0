"""The distributed pieces that need no second process: sampler arithmetic, SyncBatchNorm outside a
process group, conversion, and the clear errors when mpi4py or the process group is missing.
(The multi-process behaviour is tested under mpirun in test_distributed_mpi.py.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.data import DataLoader, DistributedSampler, TensorDataset
from autograd_nn.errors import DistributedError


@pytest.mark.parametrize(
    "n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False), (7, 2, True)]
)
def test_sampler_splits_every_index_evenly(n: int, replicas: int, drop_last: bool) -> None:
    parts = [
        list(DistributedSampler(range(n), replicas, r, shuffle=True, seed=5, drop_last=drop_last))
        for r in range(replicas)
    ]
    sizes = {len(p) for p in parts}
    assert len(sizes) == 1  # every rank the same number of samples (and so of batches)
    assert sizes.pop() == len(DistributedSampler(range(n), replicas, 0, drop_last=drop_last))
    everything = sorted(i for p in parts for i in p)
    if drop_last:
        assert len(set(everything)) == len(everything) == (n // replicas) * replicas
    else:
        assert set(everything) == set(range(n))  # padding repeats indices, never drops one


def test_sampler_epochs_and_seed() -> None:
    s = DistributedSampler(range(20), 2, 1, seed=1)
    first = list(s)
    assert list(s) == first  # the same epoch gives the same order
    s.set_epoch(1)
    assert list(s) != first
    assert list(DistributedSampler(range(20), 2, 1, shuffle=False)) == list(range(1, 20, 2))
    other_rank = DistributedSampler(range(20), 2, 0, seed=1)
    assert not set(first) & set(other_rank)


def test_sampler_errors_and_loader() -> None:
    with pytest.raises(ValueError, match="invalid rank"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4), 0, 0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    data = TensorDataset(np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10))
    sampler = DistributedSampler(data, 2, 1, shuffle=False)
    loader = DataLoader(data, batch_size=2, sampler=sampler)
    assert len(loader) == 3
    assert [int(v) for _, y in loader for v in y.numpy()] == [1, 3, 5, 7, 9]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, sampler=sampler, shuffle=True)


def test_sync_batchnorm_without_a_group_is_batchnorm(torch) -> None:
    ag.manual_seed(0)
    ref = nn.BatchNorm2d(3)
    sync = nn.SyncBatchNorm(3)
    x = ag.randn(4, 3, 5, 5, requires_grad=True)
    x2 = ag.tensor(x.numpy(), requires_grad=True)
    (ref(x) * ag.arange(5.0)).sum().backward()
    (sync(x2) * ag.arange(5.0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ref.running_var.numpy(), sync.running_var.numpy(), rtol=1e-6)
    t = torch.nn.SyncBatchNorm(3)
    assert list(t.state_dict()) == list(sync.state_dict())


def test_convert_sync_batchnorm_shares_parameters_and_buffers() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Sequential(nn.Flatten(), nn.BatchNorm1d(4 * 4 * 4)),
    )
    model.eval()
    bn = model[1]
    keys = list(model.state_dict())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert type(model[1]) is nn.SyncBatchNorm and type(model[3][1]) is nn.SyncBatchNorm
    assert model[1].weight is bn.weight and model[1].running_mean is bn.running_mean
    assert not model[1].training
    assert list(model.state_dict()) == keys
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2))
    assert isinstance(single, nn.SyncBatchNorm)


def test_sync_batchnorm_checks_its_input() -> None:
    with pytest.raises(ag.ShapeError, match="SyncBatchNorm"):
        nn.SyncBatchNorm(3)(ag.randn(4, 2))
    with pytest.raises(ValueError, match="default process group"):
        nn.SyncBatchNorm(3, process_group=object())


def test_ddp_without_mpi4py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_nn.nn.parallel import DistributedDataParallel

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"autograd-nn\[distributed\]"):
        DistributedDataParallel(nn.Linear(2, 2))
    import autograd_nn.distributed as dist

    assert not dist.is_available()
    with pytest.raises(ImportError, match="mpi4py"):
        dist.init_process_group()


def test_ddp_and_collectives_without_a_process_group() -> None:
    pytest.importorskip("mpi4py")
    import autograd_nn.distributed as dist
    from autograd_nn.nn.parallel import DistributedDataParallel

    assert not dist.is_initialized()
    with pytest.raises(DistributedError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(DistributedError, match="init_process_group"):
        dist.all_reduce(ag.ones(2))
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group("nccl")


def test_import_autograd_nn_never_imports_mpi4py() -> None:
    code = (
        "import sys, autograd_nn, autograd_nn.nn.parallel, autograd_nn.distributed, "
        "autograd_nn.data; from autograd_nn.nn import SyncBatchNorm; "
        "print('mpi4py' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_each_rank_takes_its_share_of_the_cores() -> None:
    from autograd_nn.distributed.threads import share_of_cores

    assert share_of_cores({0, 1}, [{0, 1}, {0, 1}]) == 1  # 2 ranks, 2 cores, not bound
    assert share_of_cores({0, 1, 2, 3}, [{0, 1, 2, 3}] * 2) == 2
    assert share_of_cores({0}, [{0}, {1}]) == 1  # bound to a core each (mpirun --bind-to core)
    assert share_of_cores({0, 1}, [{0, 1}, {2, 3}]) == 2  # bound to a socket each
    assert share_of_cores({0, 1}, [{0, 1}] * 3) == 1  # oversubscribed: never below one


def test_main_job_refuses_nproc_for_single_process_examples() -> None:
    from autograd_nn.__main__ import main

    assert main(["--example", "mlp", "--nproc", "2"]) == 2
