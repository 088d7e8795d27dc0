"""Running the PyTorch scripts of tests/port_programs/ twice, under PyTorch and under autograd_nn
with only their imports changed, and recording what they computed.

- `ported_source(text)` rewrites the import lines (`import torch` -> `import autograd_nn as torch`,
  `from torch.utils.data import X` -> `from autograd_nn.utils.data import X`, ...); nothing else.
- `run_script(path, library)` executes a script as `__main__` in a temporary directory (scripts
  write checkpoints), with every `backward()` root's value recorded (the loss curve), and returns
  its globals, its printed output and the losses.
- `numpy_rng_for_torch()` makes PyTorch draw its random numbers (initial weights, dropout masks,
  shuffling, `randn`, `multinomial`, distribution samples, ...) from a NumPy generator in the same
  order and the same way autograd_nn does, so two runs of one script see the same numbers and can be
  compared step by step. It patches PyTorch's Python-level functions only for the duration.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

PROGRAMS = Path(__file__).parent / "port_programs"

_IMPORT = re.compile(r"^(\s*)(import|from)\s+torch(\.[\w.]+)?\b(.*)$")


def ported_source(text: str) -> str:
    """`text` with every `torch` import pointed at `autograd_nn` (the only change a port makes)."""
    out = []
    for line in text.splitlines():
        m = _IMPORT.match(line)
        if m is None:
            out.append(line)
            continue
        indent, kind, sub, rest = m.group(1), m.group(2), m.group(3) or "", m.group(4)
        if kind == "from":
            out.append(f"{indent}from autograd_nn{sub}{rest}")
        elif rest.strip().startswith("as "):
            out.append(f"{indent}import autograd_nn{sub}{rest}")
        elif not sub:
            out.append(f"{indent}import autograd_nn as torch{rest}")
        else:  # `import torch.nn` binds `torch`
            out.append(f"{indent}import autograd_nn{sub}{rest}; import autograd_nn as torch")
    return "\n".join(out) + "\n"


@contextlib.contextmanager
def _recording_backward(tensor_cls: Any, losses: list) -> Iterator[None]:
    original = tensor_cls.backward

    def backward(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.numel() == 1:
            losses.append(float(self.detach().reshape(()).item()))
        return original(self, *args, **kwargs)

    tensor_cls.backward = backward
    try:
        yield
    finally:
        tensor_cls.backward = original


def run_script(path: Path, library: str) -> dict:
    """Run `path` under 'torch' or 'autograd_nn'; returns {'globals', 'stdout', 'losses'}."""
    text = path.read_text()
    source = text if library == "torch" else ported_source(text)
    losses: list = []
    namespace: dict = {"__name__": "__main__", "__file__": str(path)}
    buffer = io.StringIO()
    if library == "torch":
        import torch

        tensor_cls, rng = torch.Tensor, numpy_rng_for_torch()
    else:
        import autograd_nn

        tensor_cls, rng = autograd_nn.Tensor, contextlib.nullcontext()
        autograd_nn.manual_seed(0)
    cwd = os.getcwd()
    lib = __import__(library)
    default_dtype = lib.get_default_dtype()
    with (
        tempfile.TemporaryDirectory() as tmp,
        contextlib.redirect_stdout(buffer),
        rng,
        _recording_backward(tensor_cls, losses),
    ):
        os.chdir(tmp)
        try:
            exec(compile(source, str(path), "exec"), namespace)
        finally:
            os.chdir(cwd)
            lib.set_default_dtype(default_dtype)
    return {"globals": namespace, "stdout": buffer.getvalue(), "losses": losses}


# ---- PyTorch drawing from NumPy, as autograd_nn does ---------------------------------------------
@contextlib.contextmanager
def numpy_rng_for_torch() -> Iterator[None]:
    import torch
    import torch.distributions.multivariate_normal as mvn_module
    import torch.distributions.normal as normal_module
    import torch.nn.functional as tf
    import torch.utils.data as tud
    import torch.utils.data.dataset as tud_dataset

    from autograd_nn._tensor.sampling import inverse_cdf

    state = {"gen": np.random.default_rng(0)}
    streams: dict = {}  # id(torch.Generator) -> (the generator, its NumPy stream)

    def gen(generator: Any = None) -> np.random.Generator:
        """The shared stream, or the one an explicit torch.Generator stands for (seeded as
        `autograd_nn.Generator` seeds itself, from the generator's seed)."""
        if generator is None:
            return state["gen"]
        entry = streams.get(id(generator))
        if entry is None or entry[0] is not generator:
            entry = streams[id(generator)] = (generator, np.random.default_rng(generator.initial_seed()))
        return entry[1]

    def dtype_of(dtype: Any) -> Any:
        return torch.get_default_dtype() if dtype is None else dtype

    def shape_of(size: tuple, kw: dict) -> tuple:
        if "size" in kw:
            size = (kw.pop("size"),)
        if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
            size = tuple(size[0])
        return tuple(int(s) for s in size)

    def finish(arr: np.ndarray, dtype: Any, kw: dict) -> Any:
        t = torch.from_numpy(np.ascontiguousarray(arr)).to(dtype)
        return t.requires_grad_() if kw.get("requires_grad") else t

    def manual_seed(seed: int) -> Any:
        state["gen"] = np.random.default_rng(int(seed))
        return originals["manual_seed"](seed)

    def randn(*size: Any, **kw: Any) -> Any:
        shape = shape_of(size, kw)
        return finish(gen(kw.get("generator")).standard_normal(shape), dtype_of(kw.get("dtype")), kw)

    def rand(*size: Any, **kw: Any) -> Any:
        shape = shape_of(size, kw)
        return finish(gen(kw.get("generator")).random(shape), dtype_of(kw.get("dtype")), kw)

    def randint(*args: Any, **kw: Any) -> Any:
        low, high, size = kw.pop("low", 0), kw.pop("high", None), kw.pop("size", None)
        args = list(args)
        if size is None and args and isinstance(args[-1], (tuple, list, torch.Size)):
            size = args.pop()
        if len(args) == 2:
            low, high = args
        elif len(args) == 1:
            high = args[0]
        draws = gen(kw.get("generator")).integers(int(low), int(high), size=tuple(size))
        return finish(draws, kw.get("dtype") or torch.int64, {})

    def randperm(n: int, **kw: Any) -> Any:
        order = gen(kw.get("generator")).permutation(int(n)).astype(np.int64)
        return torch.from_numpy(order).to(kw.get("dtype") or torch.int64)

    def randn_like(x: Any, **kw: Any) -> Any:
        return randn(tuple(x.shape), dtype=kw.get("dtype") or x.dtype)

    def rand_like(x: Any, **kw: Any) -> Any:
        return rand(tuple(x.shape), dtype=kw.get("dtype") or x.dtype)

    def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, **kw: Any) -> Any:
        m = mean.detach().numpy() if isinstance(mean, torch.Tensor) else np.asarray(mean, np.float64)
        s = std.detach().numpy() if isinstance(std, torch.Tensor) else np.asarray(std, np.float64)
        shape = tuple(size) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
        like = mean if isinstance(mean, torch.Tensor) else std if isinstance(std, torch.Tensor) else None
        dtype = kw.get("dtype") or (like.dtype if like is not None else torch.get_default_dtype())
        return finish(gen().standard_normal(shape) * s + m, dtype, {})

    def bernoulli(input: Any, p: Any = None, **kw: Any) -> Any:
        prob = input.detach().numpy() if p is None else p
        arr = gen().random(tuple(input.shape)) < prob
        return finish(arr, input.dtype if input.is_floating_point() else torch.get_default_dtype(), {})

    def multinomial(input: Any, num_samples: int, replacement: bool = False, **kw: Any) -> Any:
        w = input.detach().double().numpy().reshape(-1, input.shape[-1])
        if not (replacement or num_samples == 1):
            raise NotImplementedError("the bridge draws with replacement (or one sample) only")
        idx = inverse_cdf(w, gen(kw.get("generator")).random((w.shape[0], num_samples)))
        return torch.from_numpy(idx.reshape(tuple(input.shape[:-1]) + (num_samples,)))

    def uniform_(self: Any, a: float = 0.0, b: float = 1.0, **kw: Any) -> Any:
        with torch.no_grad():
            return self.copy_(torch.from_numpy(gen(kw.get("generator")).uniform(a, b, tuple(self.shape))))

    def normal_(self: Any, mean: float = 0.0, std: float = 1.0, **kw: Any) -> Any:
        with torch.no_grad():
            draws = gen(kw.get("generator")).normal(mean, std, tuple(self.shape))
            return self.copy_(torch.from_numpy(draws))

    def bernoulli_(self: Any, p: Any = 0.5, **kw: Any) -> Any:
        with torch.no_grad():
            return self.copy_(torch.from_numpy(gen().random(tuple(self.shape)) < p))

    def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
        if not training or p == 0.0:
            return input
        return _apply_mask(input, tuple(input.shape), p, inplace)

    def _apply_mask(input: Any, shape: tuple, p: float, inplace: bool) -> Any:
        np_dtype = {torch.float32: np.float32, torch.float64: np.float64}[input.dtype]
        if p == 1.0:
            mask = np.zeros(shape, np_dtype)
        else:
            mask = ((gen().random(shape) >= p).astype(np_dtype) * (1.0 / (1.0 - p))).astype(np_dtype)
        mask_t = torch.from_numpy(mask)
        return input.mul_(mask_t) if inplace else input * mask_t

    def feature_dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
        if not training or p == 0.0:
            return input
        lead = 2 if input.dim() in (3, 4, 5) else 1
        shape = tuple(input.shape[:lead]) + (1,) * (input.dim() - lead)
        return _apply_mask(input, shape, p, inplace)

    def standard_normal(shape: Any, dtype: Any, device: Any) -> Any:
        return finish(gen().standard_normal(tuple(shape)), dtype, {})

    def random_sampler_iter(self: Any) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement or self._num_samples is not None:
            raise NotImplementedError("the bridge shuffles whole datasets only")
        return iter(gen(self.generator).permutation(n).tolist())

    originals = {"manual_seed": torch.manual_seed}
    patches = [
        (torch, "manual_seed", manual_seed),
        (torch, "randn", randn),
        (torch, "rand", rand),
        (torch, "randint", randint),
        (torch, "randperm", randperm),
        (torch, "randn_like", randn_like),
        (torch, "rand_like", rand_like),
        (torch, "normal", normal),
        (torch, "bernoulli", bernoulli),
        (torch, "multinomial", multinomial),
        (torch.Tensor, "uniform_", uniform_),
        (torch.Tensor, "normal_", normal_),
        (torch.Tensor, "bernoulli_", bernoulli_),
        (tf, "dropout", dropout),
        (tf, "dropout1d", feature_dropout),
        (tf, "dropout2d", feature_dropout),
        (tf, "dropout3d", feature_dropout),
        (normal_module, "_standard_normal", standard_normal),
        (mvn_module, "_standard_normal", standard_normal),
        (tud.RandomSampler, "__iter__", random_sampler_iter),
        (tud_dataset, "randperm", randperm),  # random_split's own import of randperm
    ]
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in patches]
    for owner, name, fn in patches:
        setattr(owner, name, fn)
    try:
        yield
    finally:
        for owner, name, fn in saved:
            if fn is None:  # inherited (a C method of the tensor base class): drop the override
                delattr(owner, name)
            else:
                setattr(owner, name, fn)
