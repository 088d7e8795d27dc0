"""Hand-written NumPy forward + backward baselines: what the same work costs with no autodiff at all.

Each baseline takes plain float32 arrays (copies of the weights the autograd_nn model starts from)
and returns a callable that does one step and returns something the harness can compare (a loss
or a gradient). Weights use PyTorch's layouts: Linear (out, in), Conv2d (out, in, kh, kw).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class MLP:
    """Fully connected net with tanh or relu between layers, MSE or cross-entropy loss, plain SGD."""

    def __init__(
        self, weights: list[np.ndarray], biases: list[np.ndarray], act: str, loss: str, lr: float
    ) -> None:
        self.w = [np.array(w, np.float32) for w in weights]
        self.b = [np.array(b, np.float32) for b in biases]
        self.act, self.loss, self.lr = act, loss, np.float32(lr)

    def _act(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z) if self.act == "tanh" else np.maximum(z, 0.0)

    def _act_grad(self, g: np.ndarray, h: np.ndarray) -> np.ndarray:
        return g * (1.0 - h * h) if self.act == "tanh" else g * (h > 0)

    def _loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n = out.shape[0]
        if self.loss == "mse":
            d = out - y
            return float((d * d).mean()), d * np.float32(2.0 / d.size)
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float((np.log(s[:, 0]) - z[np.arange(n), y]).mean())
        g = e / s
        g[np.arange(n), y] -= 1.0
        return loss, g * np.float32(1.0 / n)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        hs = [x]
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = hs[-1] @ w.T + b
            hs.append(z if i == len(self.w) - 1 else self._act(z))
        loss, g = self._loss(hs[-1], y)
        for i in reversed(range(len(self.w))):
            gw, gb = g.T @ hs[i], g.sum(axis=0)
            if i > 0:
                g = self._act_grad(g @ self.w[i], hs[i])
            self.w[i] -= self.lr * gw
            self.b[i] -= self.lr * gb
        return loss


class Conv2d:
    """3x3-style stride-1 convolution with zero padding: im2col + one GEMM each way, col2im by slices."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, padding: int) -> None:
        self.w, self.b, self.p = weight, bias, padding
        self.cols: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, _h, _w = x.shape
        o, _, kh, kw = self.w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (self.p, self.p), (self.p, self.p)))
        win = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, OH, OW, kh, kw)
        oh, ow = win.shape[2:4]
        self.cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        self.shape = x.shape
        out = self.cols @ self.w.reshape(o, -1).T + self.b  # (N*OH*OW, O)
        return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)

    def backward(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dx, dweight, dbias) for the last forward."""
        n, c, h, w = self.shape
        o, _, kh, kw = self.w.shape
        oh, ow = g.shape[2:]
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
        gw = (g2.T @ self.cols).reshape(self.w.shape)
        gb = g.sum(axis=(0, 2, 3))
        dcols = (g2 @ self.w.reshape(o, -1)).reshape(n, oh, ow, c, kh, kw)
        dxp = np.zeros((n, c, h + 2 * self.p, w + 2 * self.p), np.float32)
        for i in range(kh):
            for j in range(kw):
                dxp[:, :, i : i + oh, j : j + ow] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return dxp[:, :, self.p : self.p + h, self.p : self.p + w], gw, gb


def conv_forward(weight: np.ndarray, bias: np.ndarray, x: np.ndarray) -> Callable[[], np.ndarray]:
    conv = Conv2d(weight, bias, padding=1)
    return lambda: conv.forward(x)


def conv_forward_backward(
    weight: np.ndarray, bias: np.ndarray, x: np.ndarray, g: np.ndarray
) -> Callable[[], np.ndarray]:
    conv = Conv2d(weight, bias, padding=1)

    def step() -> np.ndarray:
        conv.forward(x)
        return conv.backward(g)[1]

    return step


def scalar_chain(n_ops: int) -> Callable[[], np.float32]:
    """x <- x * 1.0001 and x <- x + 0.001 alternately, recorded on a tape, then the reverse sweep."""
    mul, add = np.float32(1.0001), np.float32(0.001)

    def step() -> np.float32:
        x = np.float32(0.5)
        tape: list[np.float32 | None] = []
        for i in range(n_ops):
            if i % 2 == 0:
                tape.append(mul)
                x = x * mul
            else:
                tape.append(None)
                x = x + add
        g = np.float32(1.0)
        for factor in reversed(tape):
            if factor is not None:
                g = g * factor
        return g

    return step
