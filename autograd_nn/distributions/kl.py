"""`kl_divergence(p, q)`: KL(p || q) in closed form for pairs of the same family, as PyTorch's
registry has them; `register_kl` adds a pair."""

from __future__ import annotations

from collections.abc import Callable

from .. import linalg
from .._tensor import Tensor
from .categorical import Bernoulli, Categorical
from .distribution import Distribution
from .multivariate_normal import Independent, MultivariateNormal
from .normal import Normal, Uniform

_KL: dict = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: `@register_kl(P, Q) def kl(p, q): ...` makes `kl_divergence` use it."""

    def decorator(fn: Callable) -> Callable:
        _KL[(type_p, type_q)] = fn
        return fn

    return decorator


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    for (tp, tq), fn in _KL.items():
        if isinstance(p, tp) and isinstance(q, tq):
            return fn(p, q)
    raise NotImplementedError(
        f"kl_divergence: no closed form registered for {type(p).__name__} and {type(q).__name__}"
    )


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = t.masked_fill(q.probs.numpy() == 0, float("inf"))
    t = t.masked_fill(p.probs.numpy() == 0, 0.0)
    return t.sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    t1 = p.probs * ((-q.logits).softplus() - (-p.logits).softplus())
    t2 = (1 - p.probs) * (q.logits.softplus() - p.logits.softplus())
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low.numpy() > p.low.numpy()) | (q.high.numpy() < p.high.numpy())
    return result.masked_fill(outside, float("inf"))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    dim = p.event_shape[0]
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    shape = tuple(p.batch_shape) + (dim, dim)
    m = linalg.solve_triangular(lq.expand(*shape), lp.expand(*shape), upper=False)
    diff = (q.loc - p.loc).unsqueeze(-1)
    z = linalg.solve_triangular(lq.expand(*shape), diff, upper=False).squeeze(-1)
    return q._half_log_det() - p._half_log_det() + 0.5 * ((m**2).sum((-2, -1)) + (z**2).sum(-1) - dim)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent pairs must reinterpret the same dims")
    return p._sum(kl_divergence(p.base_dist, q.base_dist))
