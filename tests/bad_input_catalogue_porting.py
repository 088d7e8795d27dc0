"""Bad-input cases for the API that ported PyTorch code reaches for (devices, dtypes, in-place ops,
sparse tensors, distributions, ...): (name, what, call, expectation), appended to the catalogue's
CASES by tests/bad_input_catalogue.py."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
import autograd_nn.nn.functional as F
from autograd_nn import nn

_ro = np.ones((2, 3), np.float32)
_ro.flags.writeable = False


def raises(exc: type, *fragments: str) -> tuple:
    return ("raises", exc, fragments)


def ok(check=None) -> tuple:
    return ("ok", check)


def _shape(*shape):
    def check(out):
        assert tuple(out.shape) == shape, out.shape

    return check


_m = ag.ones(2, 3)
_v = ag.ones(3)
_b = ag.ones(2, 3, 4)

PORTING_CASES = [
    (
        "ag.randint_like",
        "high <= low",
        lambda: ag.randint_like(ag.zeros(3), 5, 2),
        raises(ValueError, "randint"),
    ),
    ("ag.randint_like", "one bound is high", lambda: ag.randint_like(ag.zeros(2, 3), 4), ok(_shape(2, 3))),
    # ---- in-place activations (F.*_) ---------------------------------------------------------------
    *[
        (
            f"F.{n}",
            "leaf that requires grad",
            (lambda n, args: lambda: getattr(F, n)(ag.ones(3, requires_grad=True), *args))(n, args),
            raises(RuntimeError, "leaf"),
        )
        for n, args in (
            ("relu_", ()),
            ("elu_", ()),
            ("selu_", ()),
            ("celu_", ()),
            ("leaky_relu_", ()),
            ("hardtanh_", ()),
            ("threshold_", (0.5, 0.0)),
        )
    ],
    *[
        (
            f"F.{n}",
            "int tensor",
            (lambda n, args: lambda: getattr(F, n)(ag.tensor([-1, 2]), *args))(n, args),
            raises(RuntimeError, "cast"),
        )
        for n, args in (("elu_", ()), ("selu_", ()), ("celu_", ()), ("leaky_relu_", ()))
    ],
    ("F.relu_", "read-only", lambda: F.relu_(ag.as_tensor(_ro)), raises(ValueError, "read-only")),
    (
        "F.hardtanh_",
        "min above max",
        lambda: F.hardtanh_(ag.ones(2), 1.0, -1.0),
        raises(ValueError, "hardtanh"),
    ),
    (
        "F.threshold_",
        "view of a graph tensor",
        lambda: F.threshold_((ag.ones(2, 2, requires_grad=True) * 2)[0], 0.5, 0.0),
        raises(RuntimeError, "view"),
    ),
    # ---- typed tensors, Size, dtype helpers ----------------------------------------------------------
    *[
        (f"ag.{n}", "negative size", (lambda n: lambda: getattr(ag, n)(2, -1))(n), raises(ValueError, "-1"))
        for n in (
            "FloatTensor",
            "DoubleTensor",
            "HalfTensor",
            "LongTensor",
            "IntTensor",
            "ShortTensor",
            "CharTensor",
            "ByteTensor",
            "BoolTensor",
        )
    ],
    ("ag.LongTensor", "ragged data", lambda: ag.LongTensor([[1], [2, 3]]), raises(ValueError, "Tensor")),
    ("ag.Size", "numel", lambda: ag.Size([2, 3]).numel(), ok(lambda n: n == 6 or ag.Size.fail())),
    (
        "ag.set_default_tensor_type",
        "int type",
        lambda: ag.set_default_tensor_type("torch.LongTensor"),
        raises(TypeError, "floating"),
    ),
    ("ag.finfo", "int dtype", lambda: ag.finfo(ag.long), raises(TypeError, "int64")),
    ("ag.iinfo", "float dtype", lambda: ag.iinfo(ag.float32), raises(TypeError, "float32")),
    ("ag.promote_types", "not a dtype", lambda: ag.promote_types("x", ag.float32), raises(TypeError, "x")),
    (
        "ag.can_cast",
        "bfloat16",
        lambda: ag.can_cast(ag.bfloat16, ag.float32),
        raises(RuntimeError, "bfloat16"),
    ),
    ("ag.result_type", "complex", lambda: ag.result_type(ag.ones(2), 1j), raises(TypeError, "complex")),
    (
        "ag.is_floating_point",
        "not a tensor",
        lambda: ag.is_floating_point([1.0]),
        raises(TypeError, "is_floating_point"),
    ),
    ("ag.is_complex", "plain tensor", lambda: ag.is_complex(ag.ones(1)), ok(lambda r: r is False or 1 / 0)),
    ("ag.is_nonzero", "two elements", lambda: ag.is_nonzero(ag.ones(2)), raises(RuntimeError, "is_nonzero")),
    ("ag.is_tensor", "a list", lambda: ag.is_tensor([1]), ok(lambda r: r is False or 1 / 0)),
    ("ag.numel", "not a tensor", lambda: ag.numel(3), raises(TypeError, "numel")),
    # ---- devices, generators, switches ---------------------------------------------------------------
    (
        "ag.set_default_device",
        "cuda",
        lambda: ag.set_default_device("cuda"),
        raises(RuntimeError, "CPU only"),
    ),
    (
        "ag.get_default_device",
        "is the CPU",
        lambda: ag.get_default_device(),
        ok(lambda d: d.type == "cpu" or 1 / 0),
    ),
    ("ag.DeviceError", "is a RuntimeError", lambda: ag.zeros(1).cuda(), raises(ag.DeviceError, "cuda")),
    ("ag.Generator", "negative seed", lambda: ag.Generator().manual_seed(-1), raises(ValueError, "seed")),
    ("ag.Generator", "on cuda", lambda: ag.Generator("cuda"), raises(RuntimeError, "CPU only")),
    ("ag.seed", "returns the new seed", lambda: ag.seed(), ok(lambda s: s >= 0 or 1 / 0)),
    (
        "ag.initial_seed",
        "after manual_seed",
        lambda: (ag.manual_seed(5), ag.initial_seed())[1],
        ok(lambda s: s == 5 or 1 / 0),
    ),
    ("ag.get_rng_state", "round trip", lambda: ag.set_rng_state(ag.get_rng_state()), ok()),
    ("ag.set_rng_state", "not a state", lambda: ag.set_rng_state(3), raises(TypeError, "state")),
    ("ag.set_num_threads", "zero", lambda: ag.set_num_threads(0), raises(ValueError, "set_num_threads")),
    ("ag.get_num_threads", "positive", lambda: ag.get_num_threads(), ok(lambda n: n >= 1 or 1 / 0)),
    (
        "ag.set_num_interop_threads",
        "zero",
        lambda: ag.set_num_interop_threads(0),
        raises(ValueError, "set_num_interop_threads"),
    ),
    (
        "ag.get_num_interop_threads",
        "positive",
        lambda: ag.get_num_interop_threads(),
        ok(lambda n: n >= 1 or 1 / 0),
    ),
    (
        "ag.set_float32_matmul_precision",
        "unknown",
        lambda: ag.set_float32_matmul_precision("x"),
        raises(ValueError, "set_float32_matmul_precision"),
    ),
    (
        "ag.get_float32_matmul_precision",
        "default",
        lambda: ag.get_float32_matmul_precision(),
        ok(lambda p: p in ("highest", "high", "medium") or 1 / 0),
    ),
    ("ag.use_deterministic_algorithms", "on", lambda: ag.use_deterministic_algorithms(False), ok()),
    (
        "ag.are_deterministic_algorithms_enabled",
        "off",
        lambda: ag.are_deterministic_algorithms_enabled(),
        ok(),
    ),
    ("ag.compile", "not callable", lambda: ag.compile(3), raises(TypeError, "compile")),
    (
        "ag.autocast",
        "cuda is disabled",
        lambda: ag.autocast("cuda").enabled,
        ok(lambda e: e is False or 1 / 0),
    ),
    # ---- matrix products ---------------------------------------------------------------------------
    ("ag.mm", "batch", lambda: ag.mm(_b, _b), raises(RuntimeError, "mm")),
    ("ag.mm", "inner sizes", lambda: ag.mm(_m, _m), raises(RuntimeError, "(2, 3)")),
    ("ag.bmm", "batch sizes", lambda: ag.bmm(_b, ag.ones(3, 4, 2)), raises(RuntimeError, "batch")),
    ("ag.bmm", "matrix", lambda: ag.bmm(_m, _m), raises(RuntimeError, "bmm")),
    ("ag.mv", "matrix as vector", lambda: ag.mv(_m, _m), raises(RuntimeError, "vec")),
    ("ag.dot", "lengths", lambda: ag.dot(_v, ag.ones(2)), raises(RuntimeError, "dot")),
    ("ag.vdot", "matrix", lambda: ag.vdot(_m, _m), raises(RuntimeError, "dot")),
    ("ag.outer", "matrix", lambda: ag.outer(_m, _v), raises(RuntimeError, "outer")),
    ("ag.ger", "matrix", lambda: ag.ger(_v, _m), raises(RuntimeError, "outer")),
    ("ag.addmm", "inner sizes", lambda: ag.addmm(_m, _m, _m), raises(RuntimeError, "addmm")),
    ("ag.addmv", "vector size", lambda: ag.addmv(ag.ones(2), _m, ag.ones(2)), raises(RuntimeError, "mv")),
    ("ag.addbmm", "not batches", lambda: ag.addbmm(_m, _m, _m), raises(RuntimeError, "bmm")),
    ("ag.baddbmm", "not batches", lambda: ag.baddbmm(_b, _m, _m), raises(RuntimeError, "bmm")),
    ("ag.matmul", "inner sizes", lambda: ag.matmul(_m, _m), raises(RuntimeError, "MatMul")),
    ("ag.t", "3-D", lambda: ag.t(_b), raises(RuntimeError, "transpose")),
    # ---- writes ------------------------------------------------------------------------------------
    (
        "ag.scatter",
        "index out of range",
        lambda: ag.scatter(_m, 1, ag.tensor([[5]]), 1.0),
        raises(IndexError, "scatter"),
    ),
    (
        "ag.scatter",
        "float index",
        lambda: ag.scatter(_m, 1, ag.tensor([[0.5]]), 1.0),
        raises(TypeError, "scatter"),
    ),
    (
        "ag.scatter",
        "src and value",
        lambda: ag.scatter(_m, 1, ag.tensor([[0]]), _m, value=1.0),
        raises(TypeError, "scatter"),
    ),
    (
        "ag.index_fill",
        "index out of range",
        lambda: ag.index_fill(_m, 0, ag.tensor([2]), 0.0),
        raises(IndexError, "index_fill"),
    ),
    (
        "ag.index_copy",
        "source shape",
        lambda: ag.index_copy(_m, 0, ag.tensor([0]), ag.ones(1, 2)),
        raises(RuntimeError, "index_copy"),
    ),
    (
        "ag.index_put",
        "accumulate with ints",
        lambda: ag.index_put(_m, (0, ag.tensor([0])), ag.ones(1), accumulate=True),
        raises(RuntimeError, "index_put_"),
    ),
    # ---- sampling and counting -----------------------------------------------------------------------
    (
        "ag.multinomial",
        "negative weight",
        lambda: ag.multinomial(ag.tensor([1.0, -1.0]), 1),
        raises(ValueError, "multinomial"),
    ),
    (
        "ag.multinomial",
        "too many without replacement",
        lambda: ag.multinomial(ag.tensor([1.0, 0.0]), 2),
        raises(ValueError, "multinomial"),
    ),
    ("ag.multinomial", "3-D", lambda: ag.multinomial(_b, 1), raises(RuntimeError, "multinomial")),
    ("ag.bernoulli", "p above 1", lambda: ag.bernoulli(ag.tensor([1.5])), raises(ValueError, "bernoulli")),
    ("ag.poisson", "negative rate", lambda: ag.poisson(ag.tensor([-1.0])), raises(ValueError, "poisson")),
    ("ag.normal", "negative std", lambda: ag.normal(0.0, -1.0, (2,)), raises(ValueError, "normal")),
    ("ag.normal", "size with tensors", lambda: ag.normal(_v, 1.0, (3,)), raises(TypeError, "normal")),
    ("ag.unique", "dim out of range", lambda: ag.unique(_m, dim=5), raises(IndexError, "unique")),
    (
        "ag.unique_consecutive",
        "dim",
        lambda: ag.unique_consecutive(_m, dim=0),
        raises(RuntimeError, "unique_consecutive"),
    ),
    ("ag.bincount", "float input", lambda: ag.bincount(_v), raises(TypeError, "bincount")),
    ("ag.bincount", "negative", lambda: ag.bincount(ag.tensor([-1])), raises(ValueError, "bincount")),
    ("ag.histc", "bins 0", lambda: ag.histc(_v, bins=0), raises(ValueError, "bins")),
    # ---- sparse ------------------------------------------------------------------------------------
    (
        "ag.sparse_coo_tensor",
        "3-row indices",
        lambda: ag.sparse_coo_tensor(ag.zeros(3, 2, dtype=ag.long), ag.ones(2)),
        raises(RuntimeError, "sparse_coo_tensor"),
    ),
    (
        "ag.sparse_coo_tensor",
        "index outside size",
        lambda: ag.sparse_coo_tensor(ag.tensor([[0, 5], [0, 0]]), ag.ones(2), (2, 2)),
        raises(RuntimeError, "outside"),
    ),
    (
        "ag.sparse_coo_tensor",
        "values per index",
        lambda: ag.sparse_coo_tensor(ag.tensor([[0, 1], [0, 0]]), ag.ones(3), (2, 2)),
        raises(RuntimeError, "values"),
    ),
    ("ag.spmm", "dense input", lambda: ag.spmm(_m, _m), raises(TypeError, "spmm")),
    (
        "ag.spmm",
        "shapes",
        lambda: ag.spmm(ag.sparse_coo_tensor(ag.tensor([[0], [1]]), ag.ones(1), (2, 2)), _m.t()),
        raises(RuntimeError, "sparse.mm"),
    ),
    # ---- data: samplers and datasets -----------------------------------------------------------------
    (
        "data.BatchSampler",
        "batch_size 0",
        lambda: ag.data.BatchSampler(range(3), 0, False),
        raises(ValueError, "batch_size"),
    ),
    (
        "data.RandomSampler",
        "num_samples 0",
        lambda: ag.data.RandomSampler(range(3), num_samples=0),
        raises(ValueError, "num_samples"),
    ),
    (
        "data.WeightedRandomSampler",
        "negative weight",
        lambda: ag.data.WeightedRandomSampler([1, -1], 2),
        raises(ValueError, "weights"),
    ),
    (
        "data.WeightedRandomSampler",
        "too many without replacement",
        lambda: ag.data.WeightedRandomSampler([1, 0], 2, replacement=False),
        raises(ValueError, "replacement"),
    ),
    (
        "data.SubsetRandomSampler",
        "is a permutation",
        lambda: sorted(ag.data.SubsetRandomSampler([3, 5])),
        ok(lambda r: r == [3, 5] or 1 / 0),
    ),
    (
        "data.SequentialSampler",
        "no length",
        lambda: ag.data.SequentialSampler(None),
        raises(TypeError, "len"),
    ),
    ("data.Sampler", "abstract", lambda: iter(ag.data.Sampler()), raises(NotImplementedError, "Sampler")),
    ("data.ConcatDataset", "empty", lambda: ag.data.ConcatDataset([]), raises(ValueError, "ConcatDataset")),
    (
        "data.ConcatDataset",
        "index out of range",
        lambda: ag.data.ConcatDataset([[1], [2]])[5],
        raises(IndexError, "ConcatDataset"),
    ),
    (
        "data.IterableDataset",
        "indexed",
        lambda: ag.data.IterableDataset()[0],
        raises(TypeError, "IterableDataset"),
    ),
    (
        "data.default_convert",
        "arrays become tensors",
        lambda: ag.data.default_convert((np.ones(2), 1)),
        ok(lambda r: isinstance(r[0], ag.Tensor) or 1 / 0),
    ),
    (
        "data.get_worker_info",
        "main process",
        lambda: ag.data.get_worker_info(),
        ok(lambda r: r is None or 1 / 0),
    ),
    # ---- distances, DataParallel ---------------------------------------------------------------------
    (
        "F.pairwise_distance",
        "shapes",
        lambda: F.pairwise_distance(_m, ag.ones(4, 3)),
        raises(RuntimeError, "Sub"),
    ),
    (
        "ag.pairwise_distance",
        "shapes",
        lambda: ag.pairwise_distance(_m, ag.ones(2, 4)),
        raises(RuntimeError, "Sub"),
    ),
    (
        "F.cosine_similarity",
        "dim out of range",
        lambda: F.cosine_similarity(_m, _m, dim=3),
        raises(IndexError, "norm"),
    ),
    (
        "ag.cosine_similarity",
        "dim out of range",
        lambda: ag.cosine_similarity(_v, _v, dim=1),
        raises(IndexError, "norm"),
    ),
    ("F.cdist", "feature sizes", lambda: F.cdist(_m, ag.ones(2, 4)), raises(RuntimeError, "cdist")),
    ("ag.cdist", "vector", lambda: ag.cdist(_v, _m), raises(RuntimeError, "cdist")),
    ("F.pdist", "3-D", lambda: F.pdist(_b), raises(RuntimeError, "pdist")),
    ("ag.pdist", "vector", lambda: ag.pdist(_v), raises(RuntimeError, "pdist")),
    (
        "F.triplet_margin_loss",
        "reduction",
        lambda: F.triplet_margin_loss(_m, _m, _m, reduction="x"),
        raises(ValueError, "triplet_margin_loss"),
    ),
    (
        "nn.TripletMarginLoss",
        "shapes",
        lambda: nn.TripletMarginLoss()(_m, _m, ag.ones(4, 3)),
        raises(RuntimeError, "Sub"),
    ),
    (
        "nn.PairwiseDistance",
        "shapes",
        lambda: nn.PairwiseDistance()(_m, ag.ones(4, 3)),
        raises(RuntimeError, "Sub"),
    ),
    (
        "nn.CosineSimilarity",
        "dim out of range",
        lambda: nn.CosineSimilarity(dim=4)(_m, _m),
        raises(IndexError, "norm"),
    ),
    (
        "nn.DataParallel",
        "GPU ids",
        lambda: nn.DataParallel(nn.Linear(2, 2), device_ids=[0]),
        raises(RuntimeError, "CPU only"),
    ),
    ("nn.DataParallel", "passes through", lambda: nn.DataParallel(nn.Linear(3, 2))(_m), ok(_shape(2, 2))),
    # ---- more functions, inference mode, schedulers ------------------------------------------------
    ("F.gumbel_softmax", "dim out of range", lambda: F.gumbel_softmax(_m, dim=4), raises(IndexError, "dim")),
    ("ag.addcmul", "shapes", lambda: ag.addcmul(_m, _m, ag.ones(4)), raises(RuntimeError, "Mul")),
    ("ag.addcdiv", "shapes", lambda: ag.addcdiv(_m, ag.ones(4), _m), raises(RuntimeError, "Div")),
    ("ag.nonzero", "0-d", lambda: ag.nonzero(ag.tensor(2.0)), ok(_shape(1, 0))),
    ("ag.argwhere", "not a tensor", lambda: ag.argwhere([[0, 1]]), ok(_shape(1, 2))),
    ("ag.logit", "int input", lambda: ag.logit(ag.tensor([0, 1])), ok(_shape(2))),
    ("ag.diff", "dim out of range", lambda: ag.diff(_m, dim=3), raises(IndexError, "diff")),
    (
        "ag.cross",
        "no size-3 dim",
        lambda: ag.cross(ag.ones(2, 2), ag.ones(2, 2)),
        raises(RuntimeError, "cross"),
    ),
    ("ag.cross", "dim size", lambda: ag.cross(_m, _m, dim=0), raises(RuntimeError, "cross")),
    ("ag.deg2rad", "int input", lambda: ag.deg2rad(ag.tensor([180])), ok(_shape(1))),
    ("ag.rad2deg", "list", lambda: ag.rad2deg([1.0]), ok(_shape(1))),
    ("ag.logspace", "negative steps", lambda: ag.logspace(0, 1, -1), raises(ValueError, "steps")),
    (
        "ag.searchsorted",
        "rows differ",
        lambda: ag.searchsorted(ag.ones(2, 3), ag.ones(3, 2)),
        raises(RuntimeError, "searchsorted"),
    ),
    (
        "ag.bucketize",
        "2-D boundaries",
        lambda: ag.bucketize(_v, ag.ones(2, 2)),
        raises(RuntimeError, "bucketize"),
    ),
    ("ag.inference_mode", "records nothing", lambda: _inference_mode_check(), ok()),
    (
        "ag.is_inference_mode_enabled",
        "outside",
        lambda: ag.is_inference_mode_enabled(),
        ok(lambda r: r is False or 1 / 0),
    ),
    (
        "lr_scheduler.CosineAnnealingWarmRestarts",
        "T_0 zero",
        lambda: _sched("CosineAnnealingWarmRestarts", 0),
        raises(ValueError, "T_0"),
    ),
    (
        "lr_scheduler.CyclicLR",
        "no momentum",
        lambda: _sched("CyclicLR", 0.01, 0.1, optimizer="adagrad"),
        raises(ValueError, "momentum"),
    ),
    (
        "lr_scheduler.PolynomialLR",
        "total_iters 0",
        lambda: _sched("PolynomialLR", 0),
        raises(ValueError, "total_iters"),
    ),
    (
        "lr_scheduler.MultiplicativeLR",
        "not callable",
        lambda: _sched("MultiplicativeLR", 0.9),
        raises(ValueError, "callables"),
    ),
]


def _inference_mode_check():
    with ag.inference_mode():
        y = ag.ones(2, requires_grad=True) * 2
    assert not y.requires_grad


def _sched(name, *args, optimizer="sgd"):
    params = [ag.nn.Parameter(ag.zeros(2))]
    opt = ag.optim.Adagrad(params) if optimizer == "adagrad" else ag.optim.SGD(params, lr=0.1, momentum=0.9)
    return getattr(ag.optim.lr_scheduler, name)(opt, *args)
