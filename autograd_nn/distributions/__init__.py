"""`autograd_nn.distributions`: probability distributions with PyTorch's interface (`sample`,
`rsample`, `log_prob`, `entropy`, `mean`, `stddev`, ...) and `kl_divergence`, for policy gradients
(Categorical, Bernoulli, Normal), VAEs (Normal.rsample, kl_divergence) and Gaussian policies
(MultivariateNormal, Independent)."""

from .categorical import Bernoulli, Categorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate_normal import Independent, MultivariateNormal
from .normal import Normal, Uniform

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Independent",
    "MultivariateNormal",
    "Normal",
    "Uniform",
    "kl_divergence",
    "register_kl",
]
