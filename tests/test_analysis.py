"""rnn.analysis: the IIR filter, gradient norms by lag against hand-derived values, the sweep,
the LSTM/GRU-vs-Elman comparison and the clipping demonstration."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg
from rnn import analysis


def scalar_rnn(w: float, nonlinearity: str = "identity") -> rnn.RNN:
    cell = rnn.ElmanCell(1, 1, nonlinearity, rng=0)
    cell.W_hh.data = np.array([[w]])
    return rnn.RNN(cell=cell)


# --- impulse response --------------------------------------------------------------------------

def test_impulse_response_of_minus_point_nine_oscillates_and_decays():
    np.testing.assert_allclose(analysis.impulse_response(-0.9, 4), [1.0, -0.9, 0.81, -0.729],
                               rtol=0, atol=1e-15)


def test_impulse_response_explodes_for_w_above_one():
    np.testing.assert_array_equal(analysis.impulse_response(2.0, 5), [1, 2, 4, 8, 16])


def test_impulse_response_of_a_matrix_is_the_norm_per_step():
    angle = 0.3
    rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    np.testing.assert_allclose(analysis.impulse_response(0.5 * rotation, 6), 0.5 ** np.arange(6),
                               rtol=1e-14)
    # diag(2, 0.5) with the impulse on unit 0 grows like 2^t, on unit 1 decays like 0.5^t
    W = np.diag([2.0, 0.5])
    np.testing.assert_array_equal(analysis.impulse_response(W, 4, impulse=[1.0, 0.0]), [1, 2, 4, 8])
    np.testing.assert_array_equal(analysis.impulse_response(W, 4, impulse=[0.0, 1.0]),
                                  [1, 0.5, 0.25, 0.125])


def test_impulse_response_rejects_bad_arguments():
    with pytest.raises(tg.ShapeError, match=r"square matrix, got \(2, 3\)"):
        analysis.impulse_response(np.ones((2, 3)), 3)
    with pytest.raises(rnn.ConfigError, match="steps must be a positive int, got 0"):
        analysis.impulse_response(0.5, 0)


def test_spectral_radius_is_the_largest_eigenvalue_modulus():
    assert analysis.spectral_radius([[0.0, -2.0], [2.0, 0.0]]) == pytest.approx(2.0)  # λ = ±2i
    assert analysis.spectral_radius(np.diag([0.3, -0.7])) == pytest.approx(0.7)


# --- gradient norms by lag ---------------------------------------------------------------------

def test_linear_scalar_rnn_gradient_at_lag_k_is_half_to_the_k():
    xs = np.random.default_rng(0).standard_normal((1, 12, 1))
    norms = analysis.gradient_norms_by_lag(scalar_rnn(0.5), xs)
    np.testing.assert_array_equal(norms, 0.5 ** np.arange(12))  # exact: each step multiplies by 0.5


def test_linear_scalar_rnn_prediction_equals_measurement():
    profile = analysis.lag_profile(scalar_rnn(0.5), np.ones((1, 8, 1)))
    assert profile.spectral_radius == 0.5
    np.testing.assert_array_equal(profile.derivative_product, np.ones(8))
    np.testing.assert_array_equal(profile.predicted, profile.norms)


def test_scalar_tanh_rnn_gradient_is_w_times_tanh_prime_per_step():
    xs = np.random.default_rng(1).standard_normal((1, 10, 1))
    net = scalar_rnn(0.9, "tanh")
    profile = analysis.lag_profile(net, xs)
    hs, _ = net(xs)
    slopes = [1 - h.item() ** 2 for h in reversed(hs)]
    by_hand = [np.prod([0.9 * s for s in slopes[:k]]) for k in range(10)]
    np.testing.assert_allclose(profile.norms, by_hand, rtol=1e-13)
    np.testing.assert_allclose(profile.predicted, by_hand, rtol=1e-13)
    assert profile.derivative_product[1] == pytest.approx(slopes[0], rel=1e-14)


def test_a_given_loss_replaces_the_default():
    # L = Σ_t h_t with h_t = 0.5 h_(t−1) + ...: ∂L/∂h_(T−k) = Σ_(j=0..k) 0.5^j = 2 − 0.5^k
    norms = analysis.gradient_norms_by_lag(scalar_rnn(0.5), np.ones((1, 6, 1)),
                                           loss=lambda hs: sum(h.sum() for h in hs))
    np.testing.assert_allclose(norms, 2 - 0.5 ** np.arange(6), rtol=1e-15)


def test_lag_norms_agree_with_the_junction_totals_of_trace_backward():
    # in a GRU h_(t−1) is read twice (recurrent matmul and z ⊙ h): a junction in the trace
    net = rnn.RNN(cell=rnn.GRUCell(2, 3, rng=0))
    xs = np.random.default_rng(2).standard_normal((2, 6, 2))
    norms = analysis.gradient_norms_by_lag(net, xs)
    hs, _ = net(xs)
    trace = tg.trace_backward(hs[-1].sum())
    for k in range(1, 6):
        step = next(s for s in trace.junctions() if s.tensor.name == "h" and s.scope.get("t") == 5 - k)
        assert len(step.contributions) >= 2
        assert np.linalg.norm(step.total) == pytest.approx(norms[k], rel=1e-12)


def test_lag_profile_of_a_gated_cell_has_no_prediction():
    profile = analysis.lag_profile(rnn.RNN(cell=rnn.LSTMCell(2, 3, rng=0)), np.ones((1, 4, 2)))
    assert profile.spectral_radius is None and profile.predicted is None
    assert profile.norms.shape == (4,)


def test_a_non_scalar_loss_is_rejected():
    with pytest.raises(tg.ShapeError, match=r"scalar Tensor, got \(1, 2\)"):
        analysis.gradient_norms_by_lag(scalar_rnn(0.5), np.ones((1, 3, 1)),
                                       loss=lambda hs: hs[-1] * np.ones(2))


# --- the spectral-radius sweep -----------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep():
    return analysis.spectral_radius_sweep(steps=30, hidden_size=16)


def test_sweep_identity_cell_decays_exactly_like_rho_to_the_k(sweep):
    identity = sweep.nonlinearities.index("identity")
    for j, radius in enumerate(sweep.radii):
        row = sweep.norms[identity, j]
        np.testing.assert_allclose(row, row[0] * radius ** np.arange(30), rtol=1e-9)


def test_sweep_tanh_and_relu_never_exceed_the_linear_bound(sweep):
    # |f'| ≤ 1 and every singular value of W_hh is ρ, so ||g_(T−k)|| ≤ ρ^k ||g_T||
    for name in ("tanh", "relu"):
        i = sweep.nonlinearities.index(name)
        for j, radius in enumerate(sweep.radii):
            row = sweep.norms[i, j]
            assert np.all(row <= row[0] * radius ** np.arange(30) * (1 + 1e-9))


def test_sweep_vanishes_below_one_and_identity_explodes_above(sweep):
    at_end = sweep.at_lag(29)
    assert np.all(sweep.norms[:, 0, 29] < 1e-8)  # ρ = 0.5: 0.5^29 ≈ 2e-9 at most
    assert at_end["identity"][-1] > 1e4  # ρ = 1.5: 1.5^29 · ||g_T||
    assert at_end["identity"][-1] > at_end["relu"][-1]


def test_elman_with_radius_has_that_spectral_radius():
    cell = analysis.elman_with_radius(1.25, "tanh", 3, 7, rng=0)
    assert analysis.spectral_radius(cell.W_hh) == pytest.approx(1.25, rel=1e-12)
    np.testing.assert_allclose(np.linalg.svd(cell.W_hh.data, compute_uv=False), 1.25, rtol=1e-12)


# --- LSTM and GRU beside Elman -----------------------------------------------------------------

def test_lstm_gradient_at_lag_50_is_orders_of_magnitude_larger_than_elman():
    # The numbers of docs/vanishing_gradients.md: T = 60, D = 4, H = 32, seed 0, default init.
    xs = np.random.default_rng(0).standard_normal((1, 60, 4))
    norms = analysis.lag_norms_by_cell(analysis.standard_cells(4, 32, seed=0), xs)
    at_50 = {name: row[50] for name, row in norms.items()}
    assert at_50["Elman (tanh)"] < 1e-11
    assert at_50["LSTM"] / at_50["Elman (tanh)"] > 100
    assert at_50["GRU"] / at_50["Elman (tanh)"] > 100
    assert at_50["LSTM, forget bias 1"] / at_50["Elman (tanh)"] > 1e7
    for row in norms.values():
        assert row[0] == pytest.approx(np.sqrt(32))  # ∂(Σ h_T)/∂h_T is all ones


# --- clipping ----------------------------------------------------------------------------------

def test_clipping_tames_an_exploding_linear_rnn():
    runs = analysis.clipping_demo(updates=40)
    plain, clipped = runs["unclipped"], runs["clipped"]
    assert plain.grad_norms[0] == clipped.grad_norms[0] > 1000  # same start, ρ^20-sized gradient
    assert plain.diverged_at is not None and plain.diverged_at <= 3
    assert clipped.diverged_at is None and len(clipped.losses) == 40
    assert clipped.losses[-1] < 0.01 * clipped.losses[0]


# --- plots (rnn.plots) -------------------------------------------------------------------------

def test_plots_without_matplotlib_name_the_extra(monkeypatch):
    import sys

    from rnn import plots

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install tinygraph\[plot\]"):
        plots.plot_impulse_responses()


def test_write_lab_plots_writes_every_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from rnn import plots

    paths = plots.write_lab_plots(tmp_path, formats=("png",))
    names = sorted(p.name for p in paths)
    assert names == ["lab_cells.png", "lab_clipping.png", "lab_impulse.png", "lab_lag_profile.png",
                     "lab_sweep.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
