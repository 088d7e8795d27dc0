"""Run under mpirun: every collective against NumPy, on odd sizes and several dtypes.

Each rank's input is a seeded function of (case, rank), so every rank can compute every other's
input and the NumPy answer locally. Reports {"rank", "size", "failures": [...], "checked": n} per rank
(see report.py). test_distributed_mpi.py launches it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from report import report

import autograd_nn as ag
import autograd_nn.distributed as dist

SHAPES = [(), (1,), (7,), (3, 5), (2, 3, 4), (0,)]
DTYPES = [np.float32, np.float64, np.int32, np.int64, np.int8, np.uint8, np.bool_]


def data(case: int, rank: int, shape: tuple, dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(1000 * case + rank)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind == "f":
        return rng.normal(size=shape).astype(dtype)
    return rng.integers(0, 4, size=shape).astype(dtype)  # small: products of 3 ranks fit in int8


REDUCE = {
    dist.ReduceOp.SUM: lambda xs: xs.sum(0) if xs.dtype != np.bool_ else xs.any(0),
    dist.ReduceOp.PRODUCT: lambda xs: xs.prod(0) if xs.dtype != np.bool_ else xs.all(0),
    dist.ReduceOp.MAX: lambda xs: xs.max(0),
    dist.ReduceOp.MIN: lambda xs: xs.min(0),
    dist.ReduceOp.AVG: lambda xs: xs.sum(0) / len(xs),
}


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checked = 0

    def close(self, name: str, got: np.ndarray, want: np.ndarray) -> None:
        self.checked += 1
        got, want = np.asarray(got), np.asarray(want)
        if got.shape != want.shape or got.dtype != want.dtype:
            self.failures.append(f"{name}: got {got.shape} {got.dtype}, want {want.shape} {want.dtype}")
            return
        tol = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-14}.get(got.dtype, 0.0)
        if tol:
            ok = np.allclose(got, want, rtol=tol, atol=tol)
        else:
            ok = np.array_equal(got, want)
        if not ok:
            self.failures.append(f"{name}: got {got.ravel()[:5]}, want {want.ravel()[:5]}")

    def raises(self, name: str, error: type, fn: Callable[[], Any]) -> None:
        self.checked += 1
        try:
            fn()
        except error:
            return
        except Exception as err:
            self.failures.append(f"{name}: raised {type(err).__name__}: {err}, want {error.__name__}")
            return
        self.failures.append(f"{name}: did not raise {error.__name__}")


def main() -> None:
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    check = Checker()
    case = 0
    for dtype in DTYPES:
        for shape in SHAPES:
            case += 1
            everyone = np.stack([data(case, r, shape, dtype) for r in range(size)])
            for op, reference in REDUCE.items():
                if op is dist.ReduceOp.AVG and np.dtype(dtype).kind != "f":
                    continue
                name = f"all_reduce {op.name} {np.dtype(dtype)} {shape}"
                t = ag.tensor(data(case, rank, shape, dtype))
                version = t._version
                dist.all_reduce(t, op)
                check.close(name, t.numpy(), reference(everyone).astype(dtype))
                if t._version == version:
                    check.failures.append(f"{name}: the tensor's version was not bumped")
            src = case % size
            t = ag.tensor(data(case, rank, shape, dtype))
            dist.broadcast(t, src=src)
            check.close(f"broadcast from {src} {np.dtype(dtype)} {shape}", t.numpy(), everyone[src])
            dst = size - 1
            t = ag.tensor(data(case, rank, shape, dtype))
            dist.reduce(t, dst=dst, op=dist.ReduceOp.SUM)
            want = REDUCE[dist.ReduceOp.SUM](everyone).astype(dtype) if rank == dst else everyone[rank]
            check.close(f"reduce to {dst} {np.dtype(dtype)} {shape}", t.numpy(), want)
            outs = [ag.tensor(np.zeros(shape, dtype)) for _ in range(size)]
            dist.all_gather(outs, ag.tensor(data(case, rank, shape, dtype)))
            check.close(
                f"all_gather {np.dtype(dtype)} {shape}", np.stack([o.numpy() for o in outs]), everyone
            )
            stacked = ag.tensor(np.zeros((size,) + shape, dtype))
            dist.all_gather_into_tensor(stacked, ag.tensor(data(case, rank, shape, dtype)))
            check.close(f"all_gather_into_tensor {np.dtype(dtype)} {shape}", stacked.numpy(), everyone)
            if shape:
                flat = ag.tensor(np.zeros((size * shape[0],) + shape[1:], dtype))
                dist.all_gather_into_tensor(flat, ag.tensor(data(case, rank, shape, dtype)))
                check.close(
                    f"all_gather_into_tensor (concatenated) {np.dtype(dtype)} {shape}",
                    flat.numpy(),
                    np.concatenate(list(everyone)),
                )
    # async_op: start two collectives, wait for them later, in order
    a, b = ag.full((5,), float(rank + 1)), ag.full((3,), float(rank))
    works = [
        dist.all_reduce(a, dist.ReduceOp.SUM, async_op=True),
        dist.all_reduce(b, dist.ReduceOp.MAX, async_op=True),
    ]
    for w in works:
        w.wait()
        check.close("async completed", np.array(w.is_completed()), np.array(True))
    check.close("async all_reduce SUM", a.numpy(), np.full(5, size * (size + 1) / 2, np.float32))
    check.close("async all_reduce MAX", b.numpy(), np.full(3, size - 1, np.float32))
    dist.barrier()
    # bad input is refused on the spot, before any rank enters MPI
    check.raises("non-contiguous", ag.ShapeError, lambda: dist.all_reduce(ag.ones(4, 4).T))
    check.raises("float16", ag.DTypeError, lambda: dist.all_reduce(ag.ones(3, dtype=ag.float16)))
    check.raises("AVG on ints", ag.DTypeError, lambda: dist.all_reduce(ag.tensor([1, 2]), dist.ReduceOp.AVG))
    check.raises("bitwise on floats", ag.DTypeError, lambda: dist.all_reduce(ag.ones(2), dist.ReduceOp.BAND))
    check.raises("bad src", ValueError, lambda: dist.broadcast(ag.ones(2), src=size))
    check.raises(
        "wrong list length", ValueError, lambda: dist.all_gather([ag.ones(2)] * (size + 1), ag.ones(2))
    )
    check.raises("not a tensor", TypeError, lambda: dist.all_reduce(np.ones(2)))
    check.raises("twice", dist.DistributedError, lambda: dist.init_process_group())
    import numba

    report(
        rank,
        {
            "rank": rank,
            "size": size,
            "failures": check.failures,
            "checked": check.checked,
            "threads": dist.process_group.group().threads,
            "numba_threads": numba.get_num_threads(),
        },
    )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
    sys.exit(0)
