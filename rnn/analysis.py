"""The gradient-flow lab: vanishing and exploding gradients, measured (numbers only, no plots).

* ``impulse_response``: the IIR filter h_t = w h_(t−1) + x_t, the one-line model of a recurrence.
* ``gradient_norms_by_lag`` / ``lag_profile``: ||∂L/∂h_(T−k)|| for every lag k, from a real
  backward pass, beside the prediction ρ(W_hh)^k · Π f' of the linearised recurrence.
* ``spectral_radius_sweep``: the lag profile of Elman cells whose W_hh has spectral radius
  0.5 … 1.5, for tanh, relu and identity.
* ``lag_norms_by_cell`` / ``standard_cells``: Elman, LSTM and GRU cells on the same sequence.
* ``clipping_demo``: SGD on an exploding linear RNN with and without ``rnn.clip_grad_norm``.

Why gradients vanish or explode: in an Elman cell h_s = f(x_s W_xh + h_(s−1) W_hh + b_h), so
(row vectors) ∂L/∂h_(s−1) = (∂L/∂h_s ⊙ f'(a_s)) W_hhᵀ. Going back k steps multiplies k such
factors; their size is about ρ(W_hh) · f' per step (exactly, for a scalar cell), so the gradient
shrinks or grows geometrically with the lag.

Plots of these numbers live in ``rnn.plots``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.cell import ElmanCell, RngLike, make_rng
from rnn.errors import ConfigError
from rnn.gru import GRUCell
from rnn.linear import Linear
from rnn.losses import mse_loss
from rnn.lstm import LSTMCell
from rnn.network import RNN
from rnn.optim import SGD, clip_grad_norm

LossFn = Callable[[list[tg.Tensor]], tg.Tensor]


def impulse_response(w: Any, steps: int, impulse: Any = None) -> np.ndarray:
    """The response of h_t = w h_(t−1) + x_t to a unit impulse x_0, x_t = 0 for t > 0.

    For a scalar w: the array [1, w, w², …, w^(steps−1)] (signed: w = −0.9 oscillates).
    For a square matrix W (row vectors, h_t = h_(t−1) W + x_t): the norms ||x_0 W^t|| for
    t = 0 … steps−1, with x_0 = ``impulse`` (default: the unit vector (1, …, 1)/√H).
    |w| < 1 (spectral radius < 1) decays, |w| > 1 explodes.
    """
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigError(f"impulse_response: steps must be a positive int, got {steps!r}")
    W = np.asarray(w, dtype=np.float64)
    if W.ndim == 0:
        return W.item() ** np.arange(steps, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise tg.ShapeError(f"impulse_response: w must be a scalar or a square matrix, got {W.shape}")
    H = W.shape[0]
    h = np.full(H, 1.0 / np.sqrt(H)) if impulse is None else np.asarray(impulse, dtype=np.float64)
    if h.shape != (H,):
        raise tg.ShapeError(f"impulse_response: impulse has shape {h.shape}, expected ({H},)")
    norms = np.empty(steps)
    for t in range(steps):
        norms[t] = np.linalg.norm(h)
        h = h @ W
    return norms


def spectral_radius(W: Any) -> float:
    """ρ(W) = max |λ_i|, the largest eigenvalue modulus of a square matrix."""
    W = np.asarray(W.data if isinstance(W, tg.Tensor) else W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise tg.ShapeError(f"spectral_radius: expected a square matrix, got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def activation_derivative(nonlinearity: str, h: np.ndarray) -> np.ndarray:
    """f'(a) written with the output h = f(a): tanh 1 − h², sigmoid h(1 − h), relu [h > 0], identity 1."""
    if nonlinearity == "tanh":
        return 1.0 - h * h
    if nonlinearity == "sigmoid":
        return h * (1.0 - h)
    if nonlinearity == "relu":
        return (h > 0).astype(np.float64)
    if nonlinearity == "identity":
        return np.ones_like(h)
    raise ConfigError(f"activation_derivative: unknown nonlinearity {nonlinearity!r}")


@dataclass
class LagProfile:
    """Measured and predicted gradient norms by lag k = 0 … T−1.

    Attributes:
        norms: ||∂L/∂h_(T−k)||, Frobenius norm over batch and units, from one backward pass.
        spectral_radius: ρ(W_hh) of the top layer (None unless it is an ElmanCell).
        derivative_product: Π_(j<k) mean f'(a_(T−j)), the product of the nonlinearity's slope
            along the path back to lag k (mean over batch and units per step; None unless Elman).
    """

    norms: np.ndarray
    spectral_radius: float | None = None
    derivative_product: np.ndarray | None = None

    @property
    def predicted(self) -> np.ndarray | None:
        """norms[0] · ρ^k · Π f': exact for a scalar linear cell, a first-order estimate otherwise."""
        if self.spectral_radius is None or self.derivative_product is None:
            return None
        lags = np.arange(len(self.norms))
        return self.norms[0] * self.spectral_radius ** lags * self.derivative_product


def hidden_state_gradients(net: RNN, xs: Any, loss: LossFn | None = None) -> tuple[
        list[tg.Tensor], list[np.ndarray]]:
    """Run ``net(xs)`` and return the top layer's h_t and ∂L/∂h_t for every t (one backward pass).

    L = Σ h_T (the sum of the last step's top-layer output) unless ``loss(hs)`` is given.
    """
    hs, _ = net(xs)
    total = hs[-1].sum() if loss is None else loss(hs)
    if not isinstance(total, tg.Tensor) or total.data.size != 1:
        shape = total.shape if isinstance(total, tg.Tensor) else type(total).__name__
        raise tg.ShapeError(f"gradient_norms_by_lag: the loss must be a scalar Tensor, got {shape}")
    return hs, tg.grad(total, hs)


def gradient_norms_by_lag(net: RNN, xs: Any, loss: LossFn | None = None) -> np.ndarray:
    """norms[k] = ||∂L/∂h_(T−k)|| for k = 0 … T−1 (top layer; L = Σ h_T by default).

    h_(T−k) is hs[T−1−k]; the norm is taken over the whole (B, H) gradient. ``loss`` is a
    function of the list of top-layer outputs hs returning a scalar Tensor.
    """
    _, grads = hidden_state_gradients(net, xs, loss)
    return np.array([np.linalg.norm(g) for g in reversed(grads)])


def lag_profile(net: RNN, xs: Any, loss: LossFn | None = None) -> LagProfile:
    """``gradient_norms_by_lag`` plus ρ(W_hh) and Π f' of the top layer, for the prediction.

    With an Elman top layer, derivative_product[k] = Π_(j=0)^(k−1) mean f'(a_(T−j)), f' read from
    the stored outputs h_t; for other cells only ``norms`` is filled.
    """
    hs, grads = hidden_state_gradients(net, xs, loss)
    norms = np.array([np.linalg.norm(g) for g in reversed(grads)])
    top = net.layers[-1]
    if not isinstance(top, ElmanCell):
        return LagProfile(norms)
    slopes = [float(np.mean(activation_derivative(top.nonlinearity, h.data))) for h in reversed(hs)]
    product = np.concatenate([[1.0], np.cumprod(slopes[:-1])])
    return LagProfile(norms, spectral_radius(top.W_hh), product)


def elman_with_radius(radius: float, nonlinearity: str, input_size: int, hidden_size: int,
                      rng: RngLike = None) -> ElmanCell:
    """An ElmanCell whose W_hh = ρ Q, Q a random orthogonal matrix: spectral radius exactly ρ.

    Every singular value of ρ Q is ρ too, so for the identity cell ||∂L/∂h_(T−k)|| = ρ^k ||∂L/∂h_T||.
    W_xh and b_h keep the default initialisation.
    """
    generator = make_rng(rng)
    cell = ElmanCell(input_size, hidden_size, nonlinearity, rng=generator)
    Q, R = np.linalg.qr(generator.standard_normal((hidden_size, hidden_size)))
    cell.W_hh.data = radius * Q * np.sign(np.diag(R))
    return cell


@dataclass
class SweepResult:
    """Gradient norms by lag for each (nonlinearity, spectral radius): norms[i, j, k]."""

    radii: np.ndarray
    nonlinearities: tuple[str, ...]
    norms: np.ndarray

    def at_lag(self, k: int) -> dict[str, np.ndarray]:
        """For each nonlinearity, the norm at lag k across the radii."""
        return {name: self.norms[i, :, k] for i, name in enumerate(self.nonlinearities)}


def spectral_radius_sweep(
    radii: Sequence[float] = (0.5, 0.75, 1.0, 1.25, 1.5),
    nonlinearities: Sequence[str] = ("tanh", "relu", "identity"),
    *,
    steps: int = 50,
    input_size: int = 4,
    hidden_size: int = 32,
    input_scale: float = 0.5,
    seed: int = 0,
) -> SweepResult:
    """Lag profiles of Elman cells with W_hh = ρ Q for every ρ in ``radii`` and each nonlinearity.

    One input sequence x ~ input_scale · N(0, 1), shape (1, steps, input_size), and one Q per
    ρ (seeded) are shared by every nonlinearity, so the rows differ only by f.
    """
    xs = input_scale * np.random.default_rng(seed).standard_normal((1, steps, input_size))
    names = tuple(nonlinearities)
    norms = np.empty((len(names), len(radii), steps))
    for i, name in enumerate(names):
        for j, radius in enumerate(radii):
            cell = elman_with_radius(radius, name, input_size, hidden_size, rng=seed + 1 + j)
            norms[i, j] = gradient_norms_by_lag(RNN(cell=cell), xs)
    return SweepResult(np.asarray(radii, dtype=np.float64), names, norms)


def standard_cells(input_size: int, hidden_size: int, seed: int = 0) -> dict[str, Any]:
    """Elman (tanh), LSTM, LSTM with forget bias 1 and GRU, all with PyTorch's default init."""
    return {
        "Elman (tanh)": ElmanCell(input_size, hidden_size, rng=seed),
        "LSTM": LSTMCell(input_size, hidden_size, rng=seed),
        "LSTM, forget bias 1": LSTMCell(input_size, hidden_size, forget_bias=1.0, rng=seed),
        "GRU": GRUCell(input_size, hidden_size, rng=seed),
    }


def lag_norms_by_cell(cells: Mapping[str, Any], xs: Any, loss: LossFn | None = None) -> dict[
        str, np.ndarray]:
    """``gradient_norms_by_lag`` of a one-layer RNN around each cell, on the same input."""
    return {name: gradient_norms_by_lag(RNN(cell=cell), xs, loss) for name, cell in cells.items()}


@dataclass
class ClippingRun:
    """One SGD run: the loss and the gradient norm before clipping at every update.

    ``diverged_at`` is the update at which the loss or gradient stopped being finite (or None).
    """

    lr: float
    max_norm: float | None
    losses: np.ndarray
    grad_norms: np.ndarray
    diverged_at: int | None


def clipping_demo(
    max_norm: float = 1.0,
    *,
    updates: int = 60,
    radius: float = 1.2,
    steps: int = 20,
    hidden_size: int = 8,
    batch: int = 16,
    lr: float = 0.01,
    small_lr: float | None = 1e-4,
    seed: int = 0,
) -> dict[str, ClippingRun]:
    """SGD on an exploding case: plain, clipped at ``max_norm``, and plain with a smaller step.

    The model: a linear Elman cell (f = identity) with W_hh = ρ Q, ρ = ``radius`` > 1, and a
    Linear readout of h_T; the task: output the mean of the scalar inputs x_1 … x_T (MSE).
    Since ∂h_T/∂h_(T−k) = (W_hhᵀ)^k, the gradient grows like ρ^T; a plain SGD step of that size
    throws W_hh further out and the loss diverges. Clipping rescales the whole gradient to norm
    ≤ max_norm, so every step has length ≤ lr · max_norm. All runs start from the same weights.
    Returns {"unclipped": …, "clipped": …} and, unless ``small_lr`` is None,
    "unclipped, small lr" (plain SGD with lr = small_lr).
    """
    settings = {"unclipped": (lr, None), "clipped": (lr, max_norm)}
    if small_lr is not None:
        settings["unclipped, small lr"] = (small_lr, None)
    data = np.random.default_rng(seed)
    xs = data.standard_normal((batch, steps, 1))
    target = xs.mean(axis=1)
    runs = {}
    for label, (rate, clip) in settings.items():
        net = RNN(cell=elman_with_radius(radius, "identity", 1, hidden_size, rng=seed + 1))
        readout = Linear(hidden_size, 1, rng=seed + 2)
        params = net.parameters() + readout.parameters()
        optimiser = SGD(params, lr=rate)
        losses, norms, diverged = [], [], None
        for update in range(updates):
            optimiser.zero_grad()
            with np.errstate(over="ignore", invalid="ignore"):  # the unclipped run overflows
                hs, _ = net(xs)
                loss = mse_loss(readout(hs[-1]), target, reduction="mean")
                loss.backward()
                norm = float(np.sqrt(sum(float(np.sum(p.grad ** 2)) for p in params)))
            losses.append(loss.item())
            norms.append(norm)
            if not (np.isfinite(norm) and np.isfinite(losses[-1])):
                diverged = update
                break
            if clip is not None:
                clip_grad_norm(params, clip)
            optimiser.step()
        runs[label] = ClippingRun(rate, clip, np.array(losses), np.array(norms), diverged)
    return runs
