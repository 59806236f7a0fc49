"""Figures of the gradient-flow lab (matplotlib, the optional ``plot`` extra).

Each ``plot_*`` function takes the numbers computed by ``rnn.analysis`` and returns a
``matplotlib.figure.Figure`` (built without pyplot, so no GUI backend is needed); save it with
``fig.savefig("name.png")`` or ``.svg``. ``write_lab_plots(out_dir)`` computes and writes them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnn import analysis
from rnn.network import RNN

INSTALL_HINT = "rnn.plots needs matplotlib: pip install tinygraph[plot]  (or pip install matplotlib)"


def new_figure(columns: int = 1, width: float = 6.0, height: float = 4.0) -> tuple[Any, list[Any]]:
    """A Figure with ``columns`` axes side by side; ImportError naming the extra if matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    fig = Figure(figsize=(width * columns, height), layout="constrained")
    axes = fig.subplots(1, columns, squeeze=False)[0]
    return fig, list(axes)


def plot_impulse_responses(ws: Sequence[float] = (0.5, 0.9, -0.9, 1.0, 1.1), steps: int = 30) -> Any:
    """h_t for a unit impulse through h_t = w h_(t−1) + x_t: signed values and |h_t| on a log scale."""
    fig, (signed, magnitude) = new_figure(2)
    t = np.arange(steps)
    for w in ws:
        response = analysis.impulse_response(w, steps)
        signed.plot(t, response, marker=".", label=f"w = {w:g}")
        magnitude.semilogy(t, np.abs(response), marker=".", label=f"|w| = {abs(w):g}" if w < 0 else
                           f"w = {w:g}")
    signed.set_ylim(-1.2, 3.0)
    signed.axhline(0.0, color="grey", linewidth=0.5)
    signed.set(title="impulse response h_t = w·h_(t−1) + x_t", xlabel="t", ylabel="h_t")
    magnitude.set(title="|h_t| on a log scale: |w| < 1 decays, |w| > 1 explodes", xlabel="t",
                  ylabel="|h_t|")
    signed.legend()
    magnitude.legend()
    return fig


def plot_lag_profile(profiles: Mapping[str, analysis.LagProfile]) -> Any:
    """Measured ||∂L/∂h_(T−k)|| (solid) and the prediction ρ^k Π f' (dashed) for each profile."""
    fig, (ax,) = new_figure(1, width=7.0)
    for label, profile in profiles.items():
        lags = np.arange(len(profile.norms))
        (line,) = ax.semilogy(lags, profile.norms, marker="o", markersize=3, linestyle="none",
                              label=f"{label}: measured")
        if profile.predicted is not None:
            ax.semilogy(lags, profile.predicted, linestyle="--", color=line.get_color(),
                        label=f"{label}: ρ^k·Π tanh' (ρ = {profile.spectral_radius:.2f})")
    ax.set(title="Elman cell: gradient reaching h_(T−k), measured vs predicted", xlabel="lag k",
           ylabel="||∂(Σ h_T)/∂h_(T−k)||")
    ax.legend(fontsize="small")
    return fig


def plot_sweep(sweep: analysis.SweepResult) -> Any:
    """One panel per nonlinearity: gradient norm by lag, one line per spectral radius ρ(W_hh)."""
    fig, axes = new_figure(len(sweep.nonlinearities), width=4.5)
    try:
        from matplotlib import colormaps
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    colours = colormaps["coolwarm"](np.linspace(0.0, 1.0, len(sweep.radii)))
    lags = np.arange(sweep.norms.shape[2])
    for i, (ax, name) in enumerate(zip(axes, sweep.nonlinearities)):
        for j, radius in enumerate(sweep.radii):
            ax.semilogy(lags, sweep.norms[i, j], color=colours[j], label=f"ρ = {radius:g}")
        ax.set(title=f"{name}", xlabel="lag k")
    axes[0].set_ylabel("||∂(Σ h_T)/∂h_(T−k)||")
    axes[-1].legend(fontsize="small")
    fig.suptitle("Elman cell, W_hh = ρ·(orthogonal): gradient norm by lag")
    return fig


def plot_cells(norms: Mapping[str, np.ndarray], mark_lag: int = 50) -> Any:
    """Gradient norm by lag for several cells on one log plot, with the values at ``mark_lag``."""
    fig, (ax,) = new_figure(1, width=7.5, height=4.5)
    for label, row in norms.items():
        lags = np.arange(len(row))
        (line,) = ax.semilogy(lags, row, label=f"{label}: {row[mark_lag]:.1e} at k = {mark_lag}")
        ax.plot([mark_lag], [row[mark_lag]], marker="o", color=line.get_color())
    ax.axvline(mark_lag, color="grey", linewidth=0.5)
    ax.set(title="same input, default initialisation: gradient reaching h_(T−k)", xlabel="lag k",
           ylabel="||∂(Σ h_T)/∂h_(T−k)||")
    ax.legend(fontsize="small")
    return fig


def plot_clipping(runs: Mapping[str, analysis.ClippingRun], ceiling: float = 1e8) -> Any:
    """Loss and gradient norm (before clipping) per SGD update, with and without clipping.

    Values above ``ceiling`` (a diverging run) are drawn at the ceiling as ▲, labelled with
    their true value.
    """
    fig, axes = new_figure(2)
    for label, run in runs.items():
        clip = "" if run.max_norm is None else f", max_norm = {run.max_norm:g}"
        text = f"{label}: lr = {run.lr:g}{clip}"
        colour = None
        for ax, values in zip(axes, (run.losses, run.grad_norms)):
            updates = np.arange(len(values))
            shown = np.isfinite(values)
            (line,) = ax.semilogy(updates[shown], np.minimum(values[shown], ceiling), marker=".",
                                  color=colour, label=text)
            colour = line.get_color()
            for k in np.flatnonzero(np.isfinite(values) & (values > ceiling)):
                ax.plot([k], [ceiling], marker="^", color=colour)
                ax.annotate(f"{values[k]:.0e}", (k, ceiling), textcoords="offset points", xytext=(6, -12),
                            color=colour, fontsize="small")
            if run.diverged_at is not None:
                ax.annotate(f"NaN at update {run.diverged_at}", (run.diverged_at, ceiling),
                            textcoords="offset points", xytext=(6, -26), color=colour, fontsize="small")
    axes[0].set(title="loss per update", xlabel="SGD update", ylabel="MSE")
    axes[1].set(title="gradient norm before clipping", xlabel="SGD update", ylabel="||∇||")
    for ax in axes:
        ax.set_ylim(top=ceiling * 10)
        ax.legend(fontsize="small", loc="upper right")
    fig.suptitle("exploding case: linear Elman cell, ρ(W_hh) = 1.2, T = 20")
    return fig


def plot_memory_task(runs: Mapping[str, Any], mark_lag: int = 50, symbols: int = 4) -> Any:
    """The memory task (``rnn.memory_task``): gradient norm by lag and training loss per cell.

    Left: ||∂L/∂h_(T−k)|| on a log scale, untrained (dashed) and trained (solid), with the
    ratio of the second run to the first at ``mark_lag`` written beside the line; right: the
    training loss per Adam update beside chance, ln K for K = ``symbols``, with each run's
    held-out accuracy in the legend.
    """
    fig, (lags_ax, loss_ax) = new_figure(2, width=6.5, height=4.5)
    first, second = list(runs.values())[:2]
    names = [run.label.split()[0].rstrip(",") for run in (second, first)]
    for run in runs.values():
        lags = np.arange(len(run.lag_norms_init))
        (line,) = lags_ax.semilogy(lags, run.lag_norms_trained, label=f"{run.label}, trained")
        colour = line.get_color()
        lags_ax.semilogy(lags, run.lag_norms_init, linestyle="--", color=colour,
                         label=f"{run.label}, untrained")
        for norms in (run.lag_norms_init, run.lag_norms_trained):
            lags_ax.plot([mark_lag], [norms[mark_lag]], marker="o", color=colour)
        loss_ax.plot(np.arange(len(run.losses)), run.losses, color=colour,
                     label=f"{run.label}: held-out accuracy {run.accuracy:.2f}")
    lags_ax.axvline(mark_lag, color="grey", linewidth=0.5)
    for norms_of, text, offset in ((lambda r: r.lag_norms_init, "untrained", 0.30),
                                   (lambda r: r.lag_norms_trained, "trained", 0.18)):
        ratio = norms_of(second)[mark_lag] / norms_of(first)[mark_lag]
        lags_ax.text(0.02, offset, f"lag {mark_lag}, {text}: {names[0]} / {names[1]} = {ratio:.1e}",
                     transform=lags_ax.transAxes, fontsize="small")
    lags_ax.set(title="gradient of the task's loss reaching h_(T−k)", xlabel="lag k",
                ylabel="||∂L/∂h_(T−k)||")
    lags_ax.legend(fontsize="small", loc="lower left", bbox_to_anchor=(0.0, 0.35))
    loss_ax.axhline(np.log(symbols), color="grey", linewidth=0.5, linestyle=":",
                    label=f"chance: ln {symbols} = {np.log(symbols):.2f}")
    loss_ax.set(title="training loss (mean cross-entropy per batch)", xlabel="Adam update",
                ylabel="loss")
    loss_ax.legend(fontsize="small")
    return fig


def write_lab_plots(out_dir: str | Path = "docs/images", formats: Sequence[str] = ("png",)) -> list[Path]:
    """Compute every lab figure with ``rnn.analysis`` and save it as out_dir/lab_<name>.<format>."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    xs = np.random.default_rng(0).standard_normal((1, 60, 4))
    scalar_x = 0.3 * np.random.default_rng(1).standard_normal((1, 40, 1))
    profiles = {}
    for label, radius, size, inputs in (("scalar tanh, w = 0.95", 0.95, 1, scalar_x),
                                        ("H = 32 tanh", 1.0, 32, xs)):
        cell = analysis.elman_with_radius(radius, "tanh", inputs.shape[2], size, rng=3)
        profiles[label] = analysis.lag_profile(RNN(cell=cell), inputs)
    figures = {
        "impulse": plot_impulse_responses(),
        "lag_profile": plot_lag_profile(profiles),
        "sweep": plot_sweep(analysis.spectral_radius_sweep()),
        "cells": plot_cells(analysis.lag_norms_by_cell(analysis.standard_cells(4, 32, seed=0), xs)),
        "clipping": plot_clipping(analysis.clipping_demo()),
    }
    written = []
    for name, fig in figures.items():
        for fmt in formats:
            path = out / f"lab_{name}.{fmt}"
            fig.savefig(path, dpi=110)
            written.append(path)
    return written
