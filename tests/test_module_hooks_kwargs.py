"""Forward hooks with `with_kwargs=True` and `prepend=True`, as in PyTorch's Module."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn


class Scale(nn.Module):
    def forward(self, x: ag.Tensor, factor: float = 1.0) -> ag.Tensor:
        return x * factor


def test_pre_hook_with_kwargs_sees_and_replaces_the_keyword_arguments():
    module, seen = Scale(), []

    def pre(m, args, kwargs):
        seen.append(dict(kwargs))
        return args, {**kwargs, "factor": 3.0}

    handle = module.register_forward_pre_hook(pre, with_kwargs=True)
    out = module(ag.ones(2), factor=2.0)
    assert seen == [{"factor": 2.0}] and np.all(out.numpy() == 3.0)
    handle.remove()
    assert np.all(module(ag.ones(2), factor=2.0).numpy() == 2.0)


def test_forward_hook_with_kwargs_gets_the_kwargs_and_may_replace_the_output():
    module, seen = Scale(), []

    def post(m, args, kwargs, out):
        seen.append((len(args), kwargs))
        return out + 1.0

    module.register_forward_hook(post, with_kwargs=True)
    assert np.all(module(ag.ones(2), factor=5.0).numpy() == 6.0)
    assert seen == [(1, {"factor": 5.0})]


def test_prepend_runs_first_and_plain_hooks_still_work():
    module, order = Scale(), []
    module.register_forward_pre_hook(lambda m, a: order.append("plain"))
    module.register_forward_pre_hook(lambda m, a, k: order.append("kwargs"), with_kwargs=True, prepend=True)
    module.register_forward_hook(lambda m, a, o: order.append("post"))
    module.register_forward_hook(
        lambda m, a, k, o: order.append("first post"), with_kwargs=True, prepend=True
    )
    module(ag.ones(1))
    assert order == ["kwargs", "plain", "first post", "post"]


def test_pre_hook_with_kwargs_must_return_args_and_kwargs():
    module = Scale()
    module.register_forward_pre_hook(lambda m, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match="new_args, new_kwargs"):
        module(ag.ones(1))


def test_hooks_with_kwargs_match_pytorch(torch):
    class TorchScale(torch.nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    calls = {}
    for lib, module in (("ours", Scale()), ("torch", TorchScale())):
        log = calls.setdefault(lib, [])
        module.register_forward_pre_hook(
            lambda m, a, k, log=log: (log.append(sorted(k)), (a, {"factor": 4.0}))[1], with_kwargs=True
        )
        module.register_forward_hook(lambda m, a, k, o, log=log: log.append(sorted(k)), with_kwargs=True)
        x = ag.ones(2) if lib == "ours" else torch.ones(2)
        log.append(float(module(x, factor=2.0)[0]))
    assert calls["ours"] == calls["torch"] == [["factor"], ["factor"], 4.0]
