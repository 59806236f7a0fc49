"""tg.gradcheck: a planted wrong backward is caught, located and named; inputs come back intact."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygraph as tg
from planted_ops import PlantedTanh


def make_inputs(dtype: type = np.float64) -> tuple[tg.Tensor, tg.Tensor, tg.Tensor]:
    rng = np.random.default_rng(1)
    x = tg.Tensor(rng.standard_normal((2, 3)).astype(dtype), name="x")
    W = tg.Tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=True, name="W")
    b = tg.Tensor(rng.standard_normal(4).astype(dtype), requires_grad=True, name="b")
    return x, W, b


def test_planted_error_caught_in_full_mode_at_its_entry() -> None:
    rng = np.random.default_rng(0)
    z = tg.Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="z")
    report = tg.gradcheck(lambda: PlantedTanh()(z).sum(), [z])
    assert not report.ok
    row = report.rows[0]
    assert row.label == "z"
    assert row.worst_index == (0, 1)
    assert row.max_abs_error == pytest.approx(1e-2, rel=1e-6)
    assert row.analytic - row.numerical == pytest.approx(1e-2, rel=1e-6)
    assert row.numerical == pytest.approx(1 - np.tanh(z.data[0, 1]) ** 2, rel=1e-8)
    assert report.culprit == "planted_tanh"
    text = str(report)
    assert "FAIL" in text and "(0, 1)" in text and "planted_tanh" in text


def test_planted_error_named_with_scope_in_full_and_directional_mode() -> None:
    x, W, b = make_inputs()

    def loss() -> tg.Tensor:
        h = tg.tanh(x @ W)
        with tg.scope(t=3, layer=1):
            y = PlantedTanh()(h + b)
        return (y * y).sum()

    for mode in ("full", "directional"):
        report = tg.gradcheck(loss, [W, b], mode=mode)
        assert not report.ok, mode
        assert [row.ok for row in report.rows] == [False, False]
        assert report.culprit == "planted_tanh (t=3, layer=1)"
        assert "planted_tanh (t=3, layer=1)" in str(report)


def test_directional_mode_reports_direction_values() -> None:
    rng = np.random.default_rng(0)
    z = tg.Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="z")
    report = tg.gradcheck(lambda: PlantedTanh()(z).sum(), [z], mode="directional", directions=4)
    row = report.rows[0]
    assert not row.ok
    assert isinstance(row.worst_index, int) and 0 <= row.worst_index < 4
    # the projections differ by exactly 1e-2 · v[0, 1] for the worst direction v
    directions = np.random.default_rng(0)
    vs = [directions.standard_normal((2, 3)) for _ in range(4)]
    expected = 1e-2 * vs[row.worst_index][0, 1]
    assert row.analytic - row.numerical == pytest.approx(expected, rel=1e-5)
    assert "v" + str(row.worst_index) in str(report)


def test_correct_function_passes_and_grad_untouched() -> None:
    x, W, b = make_inputs()
    W.grad = np.full(W.shape, 7.0)
    report = tg.gradcheck(lambda: tg.tanh(x @ W + b).sum(), [W, b])
    assert report.ok and bool(report)
    assert all(row.max_abs_error < 1e-8 for row in report.rows)
    assert np.array_equal(W.grad, np.full(W.shape, 7.0))
    assert b.grad is None
    assert report.culprit is None
    assert "FAIL" not in str(report)
    assert report.value == pytest.approx(float(np.tanh(x.data @ W.data + b.data).sum()))


def test_raise_on_fail_carries_the_table() -> None:
    rng = np.random.default_rng(0)
    z = tg.Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="z")
    with pytest.raises(tg.NumericsError) as info:
        tg.gradcheck(lambda: PlantedTanh()(z).sum(), [z], raise_on_fail=True)
    assert str(info.value) == str(info.value.report)
    assert "max abs err" in str(info.value) and "planted_tanh" in str(info.value)


def test_inputs_restored_bit_exactly_when_f_raises() -> None:
    W = tg.Tensor(np.array([[0.1, -0.0], [np.pi, 1e-300]]), requires_grad=True, name="W")
    original = W.data
    before = W.data.copy()
    calls = 0

    def f() -> tg.Tensor:
        nonlocal calls
        calls += 1
        if calls == 6:  # in the middle of perturbing entries
            raise RuntimeError("boom")
        return (W * W).sum()

    with pytest.raises(RuntimeError, match="boom") as info:
        tg.gradcheck(f, [W])
    assert W.data is original
    assert W.data.tobytes() == before.tobytes()  # -0.0 and 1e-300 bit for bit
    assert any("restored" in note for note in info.value.__notes__)


def test_inputs_restored_after_a_normal_check() -> None:
    x, W, b = make_inputs()
    before = (W.data.tobytes(), b.data.tobytes())
    tg.gradcheck(lambda: tg.tanh(x @ W + b).sum(), [W, b], mode="full")
    tg.gradcheck(lambda: tg.tanh(x @ W + b).sum(), [W, b], mode="directional")
    assert (W.data.tobytes(), b.data.tobytes()) == before


def test_float32_input_warns_and_is_checked_in_float64() -> None:
    x, W, b = make_inputs(np.float32)
    original = W.data
    before = W.data.tobytes()
    with pytest.warns(RuntimeWarning) as caught:
        report = tg.gradcheck(lambda: tg.tanh(x @ W + b).sum(), [W, b])
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert messages[0].startswith("gradcheck: input 0 (tensor 'W', shape (3, 4)) is float32")
    assert caught[0].filename == __file__  # points at the caller's line
    assert report.ok  # would fail in float32 arithmetic with eps = 1e-6
    assert W.data is original and W.data.dtype == np.float32 and W.data.tobytes() == before


def test_float64_inputs_do_not_warn() -> None:
    x, W, b = make_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.gradcheck(lambda: tg.tanh(x @ W + b).sum(), [W, b])


def test_directional_cost_does_not_grow_with_size() -> None:
    calls = 0
    for size in (3, 300):
        calls = 0
        W = tg.Tensor(np.linspace(-1, 1, size), requires_grad=True)

        def f(W: tg.Tensor = W) -> tg.Tensor:
            nonlocal calls
            calls += 1
            return tg.tanh(W).sum()

        assert tg.gradcheck(f, [W], mode="directional", directions=3).ok
        assert calls == 2 + 2 * 3  # analytic, determinism check, 2 per direction


def test_function_that_bypasses_the_graph_is_caught_and_explained() -> None:
    W = tg.Tensor(np.array([0.5, -1.0]), requires_grad=True, name="W")

    def f() -> tg.Tensor:  # the second term reads .data: the engine cannot see it
        return (W * W).sum() + tg.Tensor(np.sum(W.data**3))

    report = tg.gradcheck(f, [W])
    assert not report.ok
    assert report.rows[0].max_abs_error == pytest.approx(3 * 1.0**2, rel=1e-6)
    assert report.culprit is None
    assert "outside the graph" in str(report)


def test_non_deterministic_function_is_flagged() -> None:
    W = tg.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    rng = np.random.default_rng(0)
    report = tg.gradcheck(lambda: (W * rng.standard_normal(2)).sum(), [W])
    assert not report.ok
    assert "not deterministic" in str(report)


def test_errors_name_the_mistake() -> None:
    W = tg.Tensor(np.ones(3), requires_grad=True, name="W")
    c = tg.Tensor(np.ones(3), name="c")
    with pytest.raises(tg.DTypeError, match="zero-argument function"):
        tg.gradcheck((W * W).sum(), [W])
    with pytest.raises(tg.ShapeError, match=r"scalar Tensor, got shape \(3,\)"):
        tg.gradcheck(lambda: W * W, [W])
    with pytest.raises(tg.DTypeError, match="got a float"):
        tg.gradcheck(lambda: float((W.data**2).sum()), [W])
    with pytest.raises(tg.GraphStateError,
                       match=r"input 1 \(tensor 'c', shape \(3,\)\) does not require grad"):
        tg.gradcheck(lambda: (W * c).sum(), [W, c])
    with pytest.raises(tg.DTypeError, match=r"not a tg\.Tensor"):
        tg.gradcheck(lambda: (W * W).sum(), [W.data])
    with pytest.raises(tg.GraphStateError, match="same Tensor object twice"):
        loss = (W * W).sum()
        tg.gradcheck(lambda: loss, [W])
    with pytest.raises(tg.GraphStateError, match="not a leaf"):
        h = W * 2.0
        tg.gradcheck(lambda: (h * h).sum(), [h])
    with pytest.raises(tg.ConfigError, match="mode must be"):
        tg.gradcheck(lambda: (W * W).sum(), [W], mode="fast")
    with pytest.raises(tg.ConfigError, match="eps must be a positive"):
        tg.gradcheck(lambda: (W * W).sum(), [W], eps=0.0)
    assert isinstance(W.data, np.ndarray) and np.array_equal(W.data, np.ones(3))


def test_nan_gradient_fails_with_a_note() -> None:
    W = tg.Tensor(np.array([1.0, -1.0]), requires_grad=True, name="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = tg.gradcheck(lambda: tg.log(W).sum(), [W])
    assert not report.ok
    assert report.rows[0].verdict == "FAIL (nan/inf)"
    assert "f itself is nan" in str(report)


def test_an_input_that_f_does_not_use_gets_a_note() -> None:
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="W")
    b = tg.Tensor(np.ones(2), requires_grad=True, name="b")
    x = tg.Tensor(np.ones((1, 2)))
    report = tg.gradcheck(lambda: (x @ W).sum(), [W, b])
    assert report.ok
    assert "f does not depend on b" in str(report)
    assert "depend on W" not in str(report)
