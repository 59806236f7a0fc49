"""Optimisers (SGD with momentum, Adam), gradient-norm clipping and zero_grad.

Updates replace each parameter's array (``p.data = p.data − step``) rather than writing into
it, so arrays saved by a graph recorded earlier are never changed behind its back. The new
array keeps the parameter's dtype (a float32 parameter stays float32 whatever its gradient's
dtype), and so do the optimizer's state arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.checks import check_fraction, check_positive
from rnn.errors import ConfigError


def parameter_list(params: Any, where: str) -> list[tg.Tensor]:
    """The parameters as a list of distinct Tensors, or an error saying what to pass.

    A module (an RNN, a Linear: anything with ``.parameters()``) or a single Tensor is refused
    with the fix; a parameter listed twice is refused too, since it would be updated twice and
    counted twice in a gradient norm.
    """
    if isinstance(params, tg.Tensor) or (hasattr(params, "parameters")
                                         and not isinstance(params, (list, tuple))):
        fix = "[tensor]" if isinstance(params, tg.Tensor) else "net.parameters()"
        raise tg.DTypeError(
            f"{where}: params is an object of type {type(params).__name__}, not a list of "
            f"parameters; pass {fix}"
        )
    try:
        found = list(params)
    except TypeError:
        raise tg.DTypeError(
            f"{where}: params must be a list of Tensors (e.g. net.parameters()), got "
            f"{type(params).__name__}"
        ) from None
    seen: set[int] = set()
    for idx, p in enumerate(found):
        if not isinstance(p, tg.Tensor):
            raise tg.DTypeError(
                f"{where}: parameter {idx} is of type {type(p).__name__}, not a tg.Tensor"
            )
        if id(p) in seen:
            raise ConfigError(
                f"{where}: parameter {idx} ({p.name or 'unnamed'}, shape {p.shape}) appears twice "
                "in the list; give each parameter once"
            )
        seen.add(id(p))
    return found


def zero_grad(params: Iterable[tg.Tensor]) -> None:
    """Forget every parameter's accumulated gradient (``p.grad = None``)."""
    for p in parameter_list(params, "zero_grad"):
        p.grad = None


def clip_grad_norm(params: Iterable[tg.Tensor], max_norm: float) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

    n = sqrt(Σ_p ||g_p||²); if n > max_norm every g_p becomes g_p · max_norm / n.
    Returns n, the norm before clipping (parameters without a gradient are skipped).
    """
    max_norm = check_positive(max_norm, "max_norm", "clip_grad_norm")
    return clip_unchecked(parameter_list(params, "clip_grad_norm"), max_norm)


def clip_unchecked(params: list[tg.Tensor], max_norm: float) -> float:
    """``clip_grad_norm`` without its checks, for a list and a bound checked once up front (an
    optimizer's ``params``, a training loop's ``clip_norm``): it runs at every update."""
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
        where = type(self).__name__
        self.params = parameter_list(params, where)
        if not self.params:
            raise ConfigError(f"{where}: the parameter list is empty")
        self.lr = check_positive(lr, "lr", where)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (the list was checked when it was given)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """v ← μ v + g;  θ ← θ − lr · v  (plain SGD when momentum μ = 0, PyTorch's convention)."""

    def __init__(self, params: Iterable[tg.Tensor], lr: float = 0.1, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = check_fraction(momentum, "momentum", "SGD")
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
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise tg.DTypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = check_fraction(betas[0], "betas[0]", "Adam")
        self.beta2 = check_fraction(betas[1], "betas[1]", "Adam")
        self.eps = check_positive(eps, "eps", "Adam")
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
