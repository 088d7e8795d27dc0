"""autograd_nn.data: datasets, a DataLoader, pre-processing, and built-in datasets (no downloads)."""

from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .digits import load_digits
from .distributed import DistributedSampler
from .graphs import GraphData, stochastic_block_model
from .loader import DataLoader, default_collate, default_convert, get_worker_info
from .mnist import load_mnist, read_idx, write_idx
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .text import CharCorpus, stdlib_docstrings
from .toy import make_circles, make_gaussian_mixture, make_moons, make_spirals, make_xor
from .transforms import Standardizer, one_hot, standardize

__all__ = [
    "CharCorpus",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "GraphData",
    "Standardizer",
    "Subset",
    "TensorDataset",
    "ConcatDataset",
    "IterableDataset",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "default_convert",
    "get_worker_info",
    "default_collate",
    "load_digits",
    "load_mnist",
    "make_circles",
    "make_gaussian_mixture",
    "make_moons",
    "make_spirals",
    "make_xor",
    "one_hot",
    "random_split",
    "read_idx",
    "standardize",
    "stdlib_docstrings",
    "stochastic_block_model",
    "write_idx",
]
