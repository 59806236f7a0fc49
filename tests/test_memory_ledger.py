"""tg.saved_bytes: totals against a hand count, shared memory counted once, where bytes are charged."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.memory import human


def small_graph(dtype: type = np.float64) -> tuple[tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor]:
    """loss = Σ tanh(x @ W + b), x (2, 3) constant, W (3, 4), b (4,), under scope t=0."""
    x = tg.Tensor(np.ones((2, 3), dtype=dtype), name="x")
    W = tg.Tensor(np.full((3, 4), 0.1, dtype=dtype), requires_grad=True, name="W")
    b = tg.Tensor(np.zeros(4, dtype=dtype), requires_grad=True, name="b")
    with tg.scope(t=0, layer=0):
        y = tg.tanh(x @ W + b)
    return y.sum(), x, W, b


def test_the_totals_of_tanh_x_w_plus_b_match_a_hand_count():
    loss, *_ = small_graph()
    report = tg.saved_bytes(loss)
    # matmul keeps x (2·3·8 = 48) and W (3·4·8 = 96, a parameter) and its output (2·4·8 = 64);
    # add keeps only its output (64); tanh its output (64); sum its 0-d output (8).
    assert report.by_op == {"matmul": 48 + 64, "add": 64, "tanh": 64, "sum": 8}
    assert report.parameter_bytes == {"W [3x4]": 96}
    assert (report.activations, report.parameters, report.total) == (248, 96, 344)
    assert report.by_scope == {"t=0, layer=0": 240, "": 8}
    assert report.by_step == {0: 240, None: 8}
    assert report.by_layer == {0: 240, None: 8}
    assert [(row.node.op.name, row.bytes, row.arrays) for row in report.nodes] == [
        ("matmul", 112, 2), ("add", 64, 1), ("tanh", 64, 1), ("sum", 8, 1)]


def test_edges_add_the_arrays_no_op_saved():
    loss, *_ = small_graph()
    report = tg.saved_bytes(loss, edges=True)
    # b (4·8 = 32) is read by add, which does not keep its inputs: only the edge holds it.
    assert report.parameter_bytes == {"W [3x4]": 96, "b [4]": 32}
    assert report.total == 344 + 32


def test_float32_halves_every_count():
    loss, *_ = small_graph(np.float32)
    report = tg.saved_bytes(loss)
    assert (report.activations, report.parameters) == (248 // 2, 96 // 2)
    assert report.by_op["sum"] == 4


def test_views_of_one_buffer_count_once_at_its_full_size():
    W = tg.Tensor(np.ones((3, 4)), requires_grad=True, name="W")
    P = tg.Tensor(np.ones((5, 3))) @ W  # (5, 4): 160 bytes
    rows = [tg.tanh(P[t]) for t in range(5)]  # each P[t] a view of P's buffer
    loss = tg.stack(rows).sum()
    report = tg.saved_bytes(loss)
    assert report.by_op["getitem"] == 0  # charged to the matmul that made the buffer
    assert report.by_op["matmul"] == 5 * 3 * 8 + 160
    assert report.by_op["tanh"] == 5 * 4 * 8
    assert report.by_op["stack"] == 5 * 4 * 8
    transposed = (P.T * 2.0).sum()  # the transpose's output is a view of P too
    assert tg.saved_bytes(transposed).by_op["transpose"] == 0


def test_an_array_read_by_many_ops_counts_once_charged_to_its_producer():
    W = tg.Tensor(np.ones((4, 4)), requires_grad=True, name="W")
    h = tg.tanh(tg.Tensor(np.ones((1, 4))) @ W)  # h: 32 bytes, made by tanh
    loss = ((h @ W) + (h * h) + (h @ W)).sum()
    report = tg.saved_bytes(loss)
    tanh = next(row for row in report.nodes if row.node.op.name == "tanh")
    assert (tanh.bytes, tanh.arrays) == (32, 1)
    assert report.parameter_bytes == {"W [4x4]": 128}
    # the three readers of h each add only their own output
    readers = [row for row in report.nodes if any(t is h for t in row.node.inputs)]
    assert [row.bytes for row in readers] == [32, 32, 32]


class HoldsViews(tg.Op):
    """y = x; holds two views of one foreign buffer (as a mask made with np.frombuffer)."""

    keeps_inputs = False

    def __init__(self) -> None:
        raw = bytearray(64)
        self.first = np.frombuffer(raw, dtype=np.float64)[:4]
        self.second = np.frombuffer(raw, dtype=np.float64)[4:]

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 1.0

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad,)


def test_views_of_a_foreign_buffer_count_once_and_ndarray_attributes_are_counted():
    x = tg.Tensor(np.ones(2), requires_grad=True)
    y = HoldsViews()(x)
    report = tg.saved_bytes(y)
    assert report.by_op == {"holdsviews": 16 + 64}  # its output and the 64-byte bytearray, once


def test_saved_arrays_of_cross_entropy_are_counted():
    logits = tg.Tensor(np.zeros((3, 5)), requires_grad=True)
    loss = tg.cross_entropy(logits, np.array([0, 1, 2]))
    # probs (3·5·8 = 120), rows and cols (3 int64 each: 24 + 24) and the 0-d output (8)
    assert tg.saved_bytes(loss).by_op == {"cross_entropy": 120 + 24 + 24 + 8}


def test_the_ledger_grows_linearly_with_the_steps_of_a_chain():
    def chain(steps: int) -> tg.MemoryReport:
        W = tg.Tensor(np.eye(4) * 0.5, requires_grad=True, name="W")
        h = tg.Tensor(np.zeros((1, 4)))
        for t in range(steps):
            with tg.scope(t=t):
                h = tg.tanh(h @ W + np.ones((1, 4)))
        return tg.saved_bytes(h.sum())

    small, large = chain(50), chain(100)
    per_step = set(small.by_step[t] for t in range(1, 50))
    assert per_step == {32 + 32 + 32}  # matmul, add and tanh outputs (add keeps no input)
    assert large.activations - small.activations == 50 * 96
    assert large.parameters == small.parameters == 128


def test_a_long_chain_is_walked_without_recursion():
    W = tg.Tensor(np.eye(2) * 0.5, requires_grad=True)
    h = tg.Tensor(np.zeros((1, 2)))
    for _ in range(20_000):
        h = tg.tanh(h @ W)
    report = tg.saved_bytes(h)
    assert report.activations == 20_000 * (16 + 16) + 16  # matmul out, tanh out; the first h


def test_a_graph_freed_by_a_pass_holds_nothing():
    loss, _, W, b = small_graph()
    tg.grad(loss, [W, b], retain_graph=False)
    assert tg.saved_bytes(loss).total == 0
    # the edges still hold x, W, b and the outputs of matmul, add and tanh
    assert tg.saved_bytes(loss, edges=True).total == 48 + 96 + 32 + 3 * 64


def test_a_leaf_or_a_constant_holds_nothing():
    assert tg.saved_bytes(tg.Tensor(np.ones(3), requires_grad=True)).total == 0
    with tg.no_grad():
        y = tg.tanh(tg.Tensor(np.ones(3), requires_grad=True))
    assert tg.saved_bytes(y).total == 0


def test_the_report_prints_as_a_table():
    loss, *_ = small_graph()
    text = str(tg.saved_bytes(loss))
    lines = text.splitlines()
    assert lines[0] == ("memory held for backward (saved arrays): 344 bytes (344 B); "
                        "activations 248, parameters 96")
    assert lines[1].split() == ["scope", "nodes", "arrays", "bytes"]
    assert lines[3].split() == ["t=0,", "layer=0", "3", "4", "240"]
    assert lines[5].split() == ["parameter", "W", "[3x4]", "96"]
    assert lines[-1].split() == ["total", "4", "344"]
    html = tg.saved_bytes(loss)._repr_html_()
    assert "<table>" in html and "<td>parameter W [3x4]</td>" in html


def test_the_html_table_escapes_names_and_scopes():
    x = tg.Tensor(np.ones(3), requires_grad=True, name='a<b&"c">')
    with tg.scope(t="<&>"):
        loss = (x * 2).sum()
    html = tg.saved_bytes(loss)._repr_html_()
    assert "<td>t=&lt;&amp;&gt;</td>" in html
    assert '<td>parameter a&lt;b&amp;"c"&gt; [3]</td>' in html  # quotes stay as they are


def test_a_long_table_shows_its_ends():
    W = tg.Tensor(np.eye(2), requires_grad=True)
    h = tg.Tensor(np.zeros((1, 2)))
    for t in range(100):
        with tg.scope(t=t):
            h = tg.tanh(h @ W)
    text = str(tg.saved_bytes(h))
    assert "... 81 more rows ..." in text  # 100 steps and the first h's row, 20 shown
    assert "t=0 " in text and "t=99 " in text and "t=50 " not in text


def test_human_sizes():
    assert [human(n) for n in (512, 1536, 3 * 2**20, 2**31)] == ["512 B", "1.5 KiB", "3.0 MiB",
                                                                 "2.0 GiB"]


def test_saved_bytes_needs_a_tensor():
    with pytest.raises(tg.DTypeError, match=r"saved_bytes: output must be a tg\.Tensor, got ndarray"):
        tg.saved_bytes(np.ones(3))
