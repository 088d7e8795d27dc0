"""The API surface ported PyTorch code reaches for, feature by feature: each test runs one small
PyTorch-style program under autograd_nn and under PyTorch (the `torch` fixture; skipped without it)
and compares the outputs and gradients. Finite-difference gradchecks of the new differentiable
operations never skip."""

import io
import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import distributions as D
from autograd_nn import nn
from tests.helpers import RNG


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def _same(ours, theirs, rtol=1e-10, atol=1e-12):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b, rtol, atol)
        return
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


def _run_both(torch, program, *arrays, rtol=1e-10):
    """`program(lib, *tensors)` under both libraries, float64 inputs that require grad: the outputs
    agree, and so do the gradients of sum(outputs) with respect to each input."""
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_a, out_t = program(ag, *ours), program(torch, *theirs)
    _same(out_a, out_t, rtol)
    outs_a = out_a if isinstance(out_a, (tuple, list)) else [out_a]
    outs_t = out_t if isinstance(out_t, (tuple, list)) else [out_t]
    graded = [(a, t) for a, t in zip(outs_a, outs_t) if getattr(t, "requires_grad", False)]
    if not graded:
        return
    sum(a.sum() for a, _ in graded).backward()
    sum(t.sum() for _, t in graded).backward()
    for a, t in zip(ours, theirs):
        if t.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy())
        else:
            _same(a.grad, t.grad, rtol)


# ---- devices and dtypes -------------------------------------------------------------------------------
def test_device_program(torch):
    def program(lib):
        device = lib.device("cuda" if lib.cuda.is_available() else "cpu")
        x = lib.ones(2, 3, device=device, dtype=lib.float64)
        m = lib.nn.Linear(3, 2, device=device, dtype=lib.float64)
        m.to(device)
        y = m(x.to(device)).cpu()
        return (
            str(y.device),
            y.is_cuda,
            x.to(lib.float32).dtype == lib.float32,
            x.type(),
            x.long().type(),
            x.new_zeros(2).dtype == lib.float64,
            lib.cuda.device_count(),
            lib.backends.mps.is_available(),
            lib.backends.cudnn.is_available(),
            x.to("cpu", lib.float32).dtype == lib.float32,
            x.to(lib.zeros(1, dtype=lib.int64)).dtype == lib.int64,
            y.shape == (2, 2),
            isinstance(x.float(), lib.FloatTensor),
            isinstance(x, lib.FloatTensor),
            lib.is_floating_point(x),
            lib.finfo(lib.float32).eps,
            lib.iinfo(lib.int32).max,
        )

    assert program(ag) == program(torch)


def test_cuda_is_refused_clearly():
    for make in (
        lambda: ag.zeros(2, device="cuda"),
        lambda: ag.zeros(2).cuda(),
        lambda: ag.zeros(2).to("cuda:0"),
        lambda: nn.Linear(2, 2).cuda(),
        lambda: nn.Linear(2, 2, device="mps"),
        lambda: ag.cuda.synchronize(),
    ):
        with pytest.raises(RuntimeError, match="CPU only"):
            make()
    with pytest.raises(AssertionError):  # what a CPU-only PyTorch build raises for CUDA calls
        ag.cuda.current_device()
    with pytest.raises(RuntimeError, match="bfloat16"):
        ag.ones(2).to(ag.bfloat16)
    assert ag.device("cuda").type == "cuda"  # describing a device is fine, as in PyTorch


def test_factories_take_pytorchs_keywords(torch):
    def program(lib):
        g = lib.Generator().manual_seed(0)
        return [
            t.shape
            for t in (
                lib.empty(size=(2, 3)),
                lib.zeros(2, 3, dtype=lib.float64, device="cpu", requires_grad=True),
                lib.ones((2,), layout=lib.strided, pin_memory=False),
                lib.full((2, 2), 1.5),
                lib.arange(5, device="cpu"),
                lib.randn(2, 2, generator=g),
                lib.rand(3, dtype=lib.float64),
                lib.randint(10, (4,)),
                lib.randint(2, 10, (4,)),
                lib.randint(0, 10, size=(2, 2)),
                lib.randint(low=0, high=3, size=(5,)),
                lib.randperm(4, generator=g),
                lib.eye(3, device="cpu"),
                lib.linspace(0, 1, 5, device="cpu"),
                lib.zeros_like(lib.ones(2), device="cpu"),
            )
        ]

    assert program(ag) == [tuple(s) for s in program(torch)]
    assert ag.full((2,), 3).dtype == np.int64 and ag.full((2,), True).dtype == np.bool_


def test_legacy_constructor_and_typed_tensors(torch):
    a64 = np.arange(3.0)
    a32 = np.arange(3.0, dtype=np.float32)
    for lib in (ag, torch):
        assert tuple(lib.Tensor(2, 3).shape) == (2, 3) and tuple(lib.Tensor().shape) == (0,)
        assert lib.Tensor([1, 2]).dtype == lib.float32 and lib.Tensor(a64).dtype == lib.float32
        assert lib.LongTensor([1, 2]).dtype == lib.int64 and tuple(lib.FloatTensor(4).shape) == (4,)
        shared = lib.Tensor(a32)
        a32[0] = 9.0
        assert shared[0].item() == 9.0  # a float32 array is shared, as PyTorch does
        a32[0] = 0.0
        x = lib.zeros(2)
        assert lib.Tensor(x) is x or lib.Tensor(x).data_ptr() == x.data_ptr()


def test_module_dtype_conversions(torch):
    def program(lib):
        torch_like = lib.manual_seed(0)
        del torch_like
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4))
        kinds = [
            m.double()[0].weight.dtype == lib.float64,
            m.float()[0].weight.dtype == lib.float32,
            m.to(lib.float64)[1].running_mean.dtype == lib.float64,
            m[1].num_batches_tracked.dtype == lib.int64,
            m.cpu() is m,
            m.to("cpu") is m,
        ]
        return kinds

    assert program(ag) == program(torch)


# ---- .data and in-place updates --------------------------------------------------------------------
def test_data_updates_like_old_optimizer_code(torch):
    def program(lib, w0):
        w = lib.nn.Parameter(w0.detach().clone())
        for _ in range(3):
            loss = ((w * w).sum() - 1) ** 2
            loss.backward()
            w.data.add_(w.grad, alpha=-0.05)
            w.data.mul_(0.99).clamp_(-0.9, 0.9)
            w.grad.data.zero_()
        m = lib.nn.Linear(3, 2).double()
        m.weight.data.normal_(0, 0.02)
        m.weight.data.copy_(lib.ones(2, 3, dtype=lib.float64))
        m.bias.data.fill_(0.5)
        return w.detach(), m.weight.detach(), m.bias.detach()

    _run_both(torch, program, RNG.standard_normal(3))


def test_assigning_data_then_stepping(torch):
    pre = RNG.standard_normal((5, 3))

    def program(lib):
        emb = lib.nn.Embedding(5, 3).double()
        emb.weight.data = lib.from_numpy(pre.copy())  # loading pretrained embeddings
        opt = lib.optim.SGD(emb.parameters(), lr=0.1)
        loss = emb(lib.tensor([0, 2, 2])).pow(2).sum()
        loss.backward()
        opt.step()
        return emb.weight.detach()

    _same(program(ag), program(torch))


def test_inplace_family_values(torch):
    def program(lib, x, y):
        h = x.detach().clone()
        h.add_(y, alpha=2).sub_(1).mul_(y).div_(3).abs_().neg_().exp_()
        h = h * 1.0  # exp_ saved its result for backward: write the next changes into a copy
        h.addcmul_(x, y, value=0.5).addcdiv_(x, y.abs() + 1, value=2).lerp_(y, 0.25)
        h.clamp_min_(-0.5).clamp_max_(2).masked_fill_(h > 1.5, 0.0)
        h.index_fill_(1, lib.tensor([0]), -1.0).scatter_(1, lib.tensor([[1], [2]]), 7.0)
        k = h.clone().t_().unsqueeze_(0).squeeze_(0)
        return h, k

    _run_both(torch, program, RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)))


def test_detach_shares_the_version_and_data_does_not(torch):
    for lib in (ag, torch):
        x = lib.ones(3, requires_grad=True, dtype=lib.float64)
        y = x.sigmoid()
        y.detach().mul_(2)
        with pytest.raises(RuntimeError):
            y.sum().backward()
        z = x.sigmoid()
        z.data.mul_(1)
        z.sum().backward()


# ---- matrix products, t(), sparse -------------------------------------------------------------------
def test_matrix_products(torch):
    def program(lib, a, b, c, v, w, bat):
        return (
            lib.mm(a, b),
            a.mm(b),
            lib.bmm(bat, bat.transpose(1, 2)),
            lib.mv(a, v),
            a.mv(v),
            lib.dot(v, v),
            lib.outer(v, w),
            lib.addmm(c, a, b, beta=0.5, alpha=2.0),
            lib.addmv(w, b.t(), v, alpha=3.0),
            a.t(),
            lib.matmul(bat, b),
            lib.t(v),
            lib.baddbmm(bat.bmm(bat.transpose(1, 2)), bat, bat.transpose(1, 2), beta=0.5),
            lib.addbmm(a.mm(a.t()), bat, bat.transpose(1, 2)),
        )

    _run_both(
        torch,
        program,
        RNG.standard_normal((2, 3)),
        RNG.standard_normal((3, 4)),
        RNG.standard_normal((2, 4)),
        RNG.standard_normal(3),
        RNG.standard_normal(4),
        RNG.standard_normal((5, 2, 3)),
    )


def test_matrix_products_gradcheck():
    a, b, v = (ag.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((2, 3), (3, 4), (3,)))
    assert ag.gradcheck(lambda a, b, v: ag.addmm(a @ b, a, b) + ag.outer(a.mv(v), a.mv(v))[:, :1], (a, b, v))


def test_sparse_dense_product(torch):
    idx = np.array([[0, 1, 1, 2, 2], [1, 0, 2, 2, 0]])
    vals = RNG.standard_normal(5)

    def program(lib, values, x):
        adj = lib.sparse_coo_tensor(lib.tensor(idx), values, (3, 3))
        return (
            lib.spmm(adj, x),
            lib.sparse.mm(adj, x),
            lib.mm(adj, x),
            adj.to_dense(),
            adj.t().to_dense(),
            (x @ x.t()).to_sparse().to_dense(),
        )

    _run_both(torch, program, vals, RNG.standard_normal((3, 2)))


def test_sparse_gradcheck():
    idx = ag.tensor([[0, 1, 1, 2], [1, 0, 2, 2]])
    v = ag.tensor(RNG.standard_normal(4), requires_grad=True)
    x = ag.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    assert ag.gradcheck(lambda v, x: ag.spmm(ag.sparse_coo_tensor(idx, v, (3, 3)), x), (v, x))
    assert ag.gradgradcheck(lambda v, x: ag.sparse.mm(ag.sparse_coo_tensor(idx, v, (3, 3)), x), (v, x))


# ---- small conveniences -------------------------------------------------------------------------------
def test_format_tensor_of_tensors_and_indexed_assignment(torch):
    def program(lib, x):
        loss = (x**2).mean()
        text = f"{loss:.4f} {x.sum():.2e} {x.numel():d}"
        stacked = lib.tensor([loss.item(), x.sum().item()]) + lib.tensor([lib.tensor(1.0), lib.tensor(2.0)])
        y = lib.zeros(3, 4, dtype=lib.float64)
        y[lib.tensor([0, 2]), 1] = x[0, :2]
        y[y > 0] = 5.0
        y[1] = x[1]
        y[:, lib.tensor([True, False, True, False])] *= 2
        return text, stacked, y

    text_a, *rest_a = program(ag, ag.tensor(RNG.standard_normal((2, 4))))
    x = RNG.standard_normal((2, 4))
    text_a, *rest_a = program(ag, ag.tensor(x))
    text_t, *rest_t = program(torch, torch.tensor(x))
    assert text_a == text_t
    _same(rest_a, rest_t)
    with pytest.raises(TypeError):
        format(ag.ones(2), ".2f")


def test_multinomial_and_randint_draws():
    ag.manual_seed(0)
    probs = ag.tensor([[0.1, 0.0, 0.9], [0.5, 0.5, 0.0]])
    draws = probs.multinomial(2000, replacement=True)
    assert draws.shape == (2, 2000) and set(draws[0].tolist()) <= {0, 2} and set(draws[1].tolist()) <= {0, 1}
    assert abs((draws[0] == 2).float().mean().item() - 0.9) < 0.03
    no_repeat = ag.tensor([1.0, 1.0, 1.0, 1.0]).multinomial(4)
    assert sorted(no_repeat.tolist()) == [0, 1, 2, 3]
    assert ag.randint(3, (1000,)).unique().tolist() == [0, 1, 2]


# ---- distributions -------------------------------------------------------------------------------------
def test_categorical_policy_gradient(torch):
    def program(lib, logits, probs_raw):
        cat = lib.distributions.Categorical(logits=logits)
        actions = lib.tensor([[0, 3], [1, 2], [2, 0]])  # (sample, batch)
        by_probs = lib.distributions.Categorical(probs=probs_raw.abs() + 0.1)
        return (
            cat.log_prob(actions),
            cat.entropy(),
            cat.probs,
            by_probs.log_prob(lib.tensor([1, 0])),
            by_probs.entropy(),
            lib.distributions.kl_divergence(cat, by_probs),
        )

    _run_both(torch, program, RNG.standard_normal((2, 4)), RNG.standard_normal((2, 4)))


def test_normal_bernoulli_uniform(torch):
    def program(lib, loc, log_scale, logits, value):
        normal = lib.distributions.Normal(loc, log_scale.exp())
        other = lib.distributions.Normal(loc * 0.5, log_scale.exp() + 1)
        bern = lib.distributions.Bernoulli(logits=logits)
        uni = lib.distributions.Uniform(loc - 2, loc + 3)
        return (
            normal.log_prob(value),
            normal.entropy(),
            normal.mean,
            normal.stddev,
            normal.cdf(value),
            lib.distributions.kl_divergence(normal, other),
            bern.log_prob((value > 0).double()),
            bern.entropy(),
            bern.mean,
            uni.log_prob(loc),
            uni.entropy(),
            lib.distributions.Independent(normal, 1).log_prob(value),
        )

    _run_both(torch, program, *(RNG.standard_normal(3) for _ in range(4)))


def test_multivariate_normal(torch):
    low = np.tril(RNG.standard_normal((3, 3))) + 2 * np.eye(3)

    def program(lib, loc, tril, x):
        full = lib.distributions.MultivariateNormal(loc, scale_tril=tril.tril())
        cov = tril.tril() @ tril.tril().t()
        by_cov = lib.distributions.MultivariateNormal(loc, covariance_matrix=cov)
        diag = lib.distributions.MultivariateNormal(loc, lib.diag(tril.diagonal() ** 2))
        return (
            full.log_prob(x),
            full.entropy(),
            by_cov.log_prob(x),
            diag.log_prob(x),
            diag.entropy(),
            full.variance,
            lib.distributions.kl_divergence(full, diag),
        )

    _run_both(torch, program, RNG.standard_normal(3), low, RNG.standard_normal((4, 3)), rtol=1e-9)


def test_rsample_gradients_and_sample_shapes():
    loc = ag.tensor(RNG.standard_normal(3), requires_grad=True)
    log_scale = ag.tensor(RNG.standard_normal(3), requires_grad=True)

    def rsampled(loc, log_scale):
        ag.manual_seed(7)
        return D.Normal(loc, log_scale.exp()).rsample((2,))

    assert ag.gradcheck(rsampled, (loc, log_scale))
    tril = ag.tensor(np.tril(RNG.standard_normal((2, 2))) + 2 * np.eye(2), requires_grad=True)

    def mvn(loc, tril):
        ag.manual_seed(7)
        dist = D.MultivariateNormal(loc[:2], scale_tril=tril.tril())
        return dist.rsample((3,)).sum() + dist.log_prob(loc[1:]).sum()

    assert ag.gradcheck(mvn, (loc, tril))
    assert D.Categorical(logits=ag.zeros(4, 5)).sample((2, 3)).shape == (2, 3, 4)
    assert D.Bernoulli(probs=ag.full((3,), 0.5)).sample((2,)).shape == (2, 3)
    assert D.Uniform(0.0, 1.0).sample((5,)).shape == (5,)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(NotImplementedError):
        D.Categorical(logits=ag.zeros(3)).rsample()


def test_linalg_gradchecks():
    m = RNG.standard_normal((3, 3))
    spd = ag.tensor(m @ m.T + 3 * np.eye(3), requires_grad=True)
    assert ag.gradcheck(lambda a: ag.linalg.cholesky((a + a.mT) * 0.5), (spd,))
    assert ag.gradcheck(lambda a: ag.linalg.inv(a), (spd,))
    low = ag.tensor(np.tril(RNG.standard_normal((3, 3))) + 3 * np.eye(3), requires_grad=True)
    b = ag.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    assert ag.gradcheck(lambda low, b: ag.linalg.solve_triangular(low, b, upper=False), (low, b))
    assert ag.gradcheck(
        lambda low, b: ag.linalg.solve_triangular(low.mT, b, upper=True, left=False),
        (low, ag.tensor(RNG.standard_normal((2, 3)), requires_grad=True)),
    )


# ---- modules, data, checkpoints, exceptions --------------------------------------------------------
def test_pytorch_import_paths_exist():
    import autograd_nn.backends.cudnn as cudnn
    import autograd_nn.nn.parallel
    import autograd_nn.onnx
    from autograd_nn.nn.modules.loss import _Loss  # noqa: F401
    from autograd_nn.nn.modules.module import Module
    from autograd_nn.nn.parameter import Parameter  # noqa: F401
    from autograd_nn.utils.checkpoint import checkpoint
    from autograd_nn.utils.data import DataLoader, Dataset, TensorDataset  # noqa: F401

    cudnn.benchmark, cudnn.deterministic = True, True
    assert Module is nn.Module and autograd_nn.nn.parallel.DataParallel is nn.DataParallel
    assert ag.utils.data is ag.data
    x = ag.ones(2, requires_grad=True)
    checkpoint(lambda t: (t * 3).sum(), x, use_reentrant=False).backward()
    assert x.grad.tolist() == [3.0, 3.0]
    wrapped = nn.DataParallel(nn.Linear(2, 1))
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]


def test_save_load_take_torch_arguments(tmp_path):
    m = nn.Linear(3, 2)
    ag.save({"model": m.state_dict(), "epoch": 4}, tmp_path / "ckpt.pt")
    ckpt = ag.load(tmp_path / "ckpt.pt", map_location=ag.device("cpu"), weights_only=True)
    ckpt = ag.load(tmp_path / "ckpt.pt", map_location={"cuda:0": "cpu"})
    ckpt = ag.load(tmp_path / "ckpt.pt", map_location=lambda storage, loc: storage)
    m2 = nn.Linear(3, 2)
    m2.load_state_dict(ckpt["model"])
    np.testing.assert_array_equal(m2.weight.numpy(), m.weight.numpy())
    buffer = io.BytesIO()
    ag.save(m.state_dict(), buffer)
    buffer.seek(0)
    assert set(ag.load(buffer)) == {"weight", "bias"}
    with pytest.raises(RuntimeError, match="CPU only"):
        ag.load(tmp_path / "ckpt.pt", map_location="cuda")


def test_errors_are_what_pytorch_raises(torch):
    cases = [
        lambda lib: lib.ones(2, 3) @ lib.ones(2, 3),
        lambda lib: lib.ones(2).view(3),
        lambda lib: lib.ones(2) + lib.ones(3),
        lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(),
        lambda lib: lib.ones(2)[5],
        lambda lib: lib.ones(2).sum(dim=3),
        lambda lib: lib.nn.Linear(2, 3).load_state_dict({}),
        lambda lib: lib.cat([lib.ones(2), lib.ones(2, 2)]),
        lambda lib: lib.ones(2).add_(lib.ones(3)),
    ]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            case(torch)
        with pytest.raises(Exception) as ours:
            case(ag)
        builtin = next(c for c in type(theirs.value).__mro__ if c.__module__ == "builtins")
        assert isinstance(ours.value, builtin), (ours.value, theirs.value)


def test_dataloader_signature_and_samplers(torch):
    def program(lib):
        data = lib.utils.data.TensorDataset(lib.arange(10.0).unsqueeze(1), lib.arange(10))
        g = lib.Generator().manual_seed(3)
        loaders = [
            lib.utils.data.DataLoader(
                data, batch_size=4, shuffle=False, num_workers=0, pin_memory=False, drop_last=True
            ),
            lib.utils.data.DataLoader(data, batch_size=None),
            lib.utils.data.DataLoader(
                data,
                batch_sampler=lib.utils.data.BatchSampler(lib.utils.data.SequentialSampler(data), 3, False),
            ),
            lib.utils.data.DataLoader(
                data, sampler=lib.utils.data.SubsetRandomSampler([1, 2], generator=g), batch_size=5
            ),
        ]
        out = [len(loader) for loader in loaders]
        out += [[tuple(b[0].shape) for b in loaders[0]], [tuple(b[1].shape) for b in loaders[2]]]
        out.append(sorted(loaders[3].__iter__().__next__()[1].tolist()))
        x0, y0 = data[0]
        out.append((tuple(x0.shape), int(y0)))
        concat = lib.utils.data.ConcatDataset([data, data])
        out.append((len(concat), int(concat[12][1])))
        return out

    assert program(ag) == program(torch)


def test_amp_and_compile_run_at_full_precision(torch):
    model = nn.Linear(2, 2)
    assert ag.compile(model) is model
    scaler = ag.cuda.amp.GradScaler(enabled=False)
    with ag.autocast("cpu", enabled=False):
        loss = model(ag.ones(1, 2)).sum()
    scaler.scale(loss).backward()
    opt = ag.optim.SGD(model.parameters(), lr=0.1)
    scaler.step(opt)
    scaler.update()
    assert not scaler.is_enabled() and math.isfinite(loss.item())


def test_custom_autograd_function(torch):
    def program(lib, x, w):
        class GradReverse(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, alpha):
                ctx.alpha = alpha
                return x.view_as(x)

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output.neg() * ctx.alpha, None

        class ScaledSquare(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                return x * x * w, x + w

            @staticmethod
            def backward(ctx, g_square, g_sum):
                x, w = ctx.saved_tensors
                return 2 * x * w * g_square + g_sum, x * x * g_square + g_sum

        a, b = ScaledSquare.apply(GradReverse.apply(x, 0.5), w)
        return a * 2 + b.exp(), lib.autograd.Variable(x.detach(), requires_grad=False)

    _run_both(torch, program, RNG.standard_normal(3), RNG.standard_normal(3))


def test_custom_autograd_function_gradchecks():
    class Cube(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    x = ag.tensor(RNG.standard_normal(4), requires_grad=True)
    assert ag.autograd.gradcheck(Cube.apply, (x,))
    assert ag.autograd.gradgradcheck(Cube.apply, (x,))


@pytest.mark.parametrize(
    "mode, bidirectional", [("LSTM", False), ("LSTM", True), ("GRU", True), ("RNN", False)]
)
def test_packed_sequences_through_recurrent_layers(torch, mode, bidirectional):
    weights = {}

    def program(lib, x, h0):
        rnn = getattr(lib.nn, mode)(3, 4, num_layers=2, bidirectional=bidirectional).double()
        if not weights:
            weights.update({k: v.detach().numpy().copy() for k, v in rnn.state_dict().items()})
        rnn.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in weights.items()})
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, [3, 5, 2], enforce_sorted=False)
        hx = (h0, h0 * 0.5) if mode == "LSTM" else h0
        out, hidden = rnn(packed, hx)
        padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, padding_value=-1.0)
        h_n = hidden[0] if mode == "LSTM" else hidden
        return padded, h_n, out.data, lengths.double()

    dirs = 2 if bidirectional else 1
    _run_both(torch, program, RNG.standard_normal((5, 3, 3)), RNG.standard_normal((2 * dirs, 3, 4)))


def test_pad_and_pack_sequence(torch):
    seqs = [RNG.standard_normal((n, 2)) for n in (4, 2, 3)]

    def program(lib, a, b, c):
        padded = lib.nn.utils.rnn.pad_sequence([a, b, c], batch_first=True, padding_value=0.5)
        packed = lib.nn.utils.rnn.pack_sequence([a, c, b])
        return padded, packed.data, packed.batch_sizes.double()

    _run_both(torch, program, *seqs)


@pytest.mark.parametrize(
    "name, args",
    [
        ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01)),
        ("CyclicLR", dict(base_lr=0.01, max_lr=0.2, step_size_up=3, mode="triangular2")),
        (
            "CyclicLR",
            dict(base_lr=0.01, max_lr=0.2, step_size_up=2, step_size_down=4, mode="exp_range", gamma=0.9),
        ),
        ("PolynomialLR", dict(total_iters=8, power=2.0)),
        ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.9)),
    ],
)
def test_more_schedulers_match_pytorch(torch, name, args):
    def program(lib, optimizer_name):
        p = lib.nn.Parameter(lib.zeros(2))
        opt = (
            lib.optim.SGD([p], lr=0.1, momentum=0.9)
            if optimizer_name == "sgd"
            else lib.optim.Adam([p], lr=0.1)
        )
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **args)
        trace = []
        for _ in range(20):
            opt.step()
            sched.step()
            group = opt.param_groups[0]
            trace.append((group["lr"], group.get("momentum", group.get("betas", (0.0,))[0])))
        return trace

    for optimizer_name in ("sgd", "adam"):
        np.testing.assert_allclose(program(ag, optimizer_name), program(torch, optimizer_name), rtol=1e-12)


def test_more_functions(torch):
    def program(lib, x, y, s):
        return (
            lib.addcmul(x, x, y, value=0.5),
            lib.addcdiv(x, y, x.abs() + 1, value=2),
            lib.logit(s, eps=1e-3),
            lib.diff(x, dim=1),
            lib.diff(x, n=2, dim=0, append=y),
            lib.cross(x, y, dim=1),
            lib.deg2rad(x),
            lib.rad2deg(y),
            x.nonzero().double(),
            (x > 0).nonzero(as_tuple=True)[1].double(),
            lib.searchsorted(lib.tensor([0.1, 0.5, 0.9]), s.detach()).double(),
            lib.bucketize(s.detach(), lib.tensor([0.2, 0.6]), right=True).double(),
            lib.logspace(-1, 1, 4, dtype=lib.float64),
            x.new([1.0, 2.0]),
            x.new(2, 3).shape == (2, 3),
        )

    _run_both(
        torch, program, RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3)), RNG.uniform(0.05, 0.95, 4)
    )
    with ag.inference_mode():
        assert not (ag.ones(2, requires_grad=True) * 2).requires_grad
    ag.manual_seed(0)
    y = ag.nn.functional.gumbel_softmax(ag.zeros(4, 6), tau=0.5, hard=True)
    assert np.all(y.sum(-1).numpy() == 1.0) and set(np.unique(y.numpy())) <= {0.0, 1.0}


def test_import_paths_are_aliases_not_copies():
    """`autograd_nn.nn.functional` is the functional module itself (one module, one set of names),
    and `nn.modules.<file>` are the nn modules, as ported `torch.nn.modules...` imports expect."""
    import autograd_nn.functional
    import autograd_nn.nn.functional as F
    from autograd_nn.nn.functional import relu
    from autograd_nn.nn.modules.module import Module

    assert F is autograd_nn.functional and nn.functional is F and relu is F.relu
    assert Module is nn.Module and nn.modules.loss.MSELoss is nn.MSELoss
