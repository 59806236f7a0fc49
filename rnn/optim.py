"""Optimisers (SGD with momentum, Adam), gradient-norm clipping and zero_grad.

Updates replace each parameter's array (``p.data = p.data − step``) rather than writing into
it, so arrays saved by a graph recorded earlier are never changed behind its back. The new
array keeps the parameter's dtype (a float32 parameter stays float32 whatever its gradient's
dtype), and so do the optimizer's state arrays.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError


def zero_grad(params: Iterable[tg.Tensor]) -> None:
    """Forget every parameter's accumulated gradient (``p.grad = None``)."""
    for p in params:
        p.grad = None


def clip_grad_norm(params: Iterable[tg.Tensor], max_norm: float) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

    n = sqrt(Σ_p ||g_p||²); if n > max_norm every g_p becomes g_p · max_norm / n.
    Returns n, the norm before clipping (parameters without a gradient are skipped).
    """
    if not max_norm > 0:
        raise ConfigError(f"clip_grad_norm: max_norm must be > 0, got {max_norm!r}")
    grads = [p for p in params if p.grad is not None]
    norm = float(np.sqrt(sum(float(np.sum(p.grad * p.grad)) for p in grads)))
    if not np.isfinite(norm):
        raise tg.NumericsError(f"clip_grad_norm: the gradient norm is {norm}")
    if norm > max_norm:
        scale = max_norm / norm
        for p in grads:
            p.grad = p.grad * scale
    return norm


class Optimizer:
    """Base class: holds the parameter list; ``zero_grad()`` and ``step()``."""

    def __init__(self, params: Iterable[tg.Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ConfigError(f"{type(self).__name__}: the parameter list is empty")
        if not lr > 0:
            raise ConfigError(f"{type(self).__name__}: lr must be > 0, got {lr!r}")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        zero_grad(self.params)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """v ← μ v + g;  θ ← θ − lr · v  (plain SGD when momentum μ = 0, PyTorch's convention)."""

    def __init__(self, params: Iterable[tg.Tensor], lr: float = 0.1, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """θ ← θ − lr · v with v ← μ v + g."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _grad_in_dtype(p)
            v = g if self.velocity[i] is None else self.momentum * self.velocity[i] + g
            if self.momentum:
                self.velocity[i] = v
            p.data = p.data - self.lr * v


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g²,
    θ ← θ − lr · m̂ / (√v̂ + ε) with m̂ = m / (1−β1^k), v̂ = v / (1−β2^k) at step k.
    """

    def __init__(
        self,
        params: Iterable[tg.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.steps = [0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = _grad_in_dtype(p)
            self.steps[i] += 1
            k = self.steps[i]
            self.m[i] = self.beta1 * self.m[i] + (1.0 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1.0 - self.beta2) * g * g
            m_hat = self.m[i] / (1.0 - self.beta1**k)
            v_hat = self.v[i] / (1.0 - self.beta2**k)
            p.data = p.data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _grad_in_dtype(p: tg.Tensor) -> np.ndarray:
    """The parameter's gradient in the parameter's own dtype."""
    return p.grad.astype(p.data.dtype, copy=False)
