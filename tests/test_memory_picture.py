"""The picture of memory: show_saved labels from the ledger, and a checkpointed segment as one box."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from expect_error import expect
from explore_pages import page_data, svg_keys

import rnn
import tinygraph as tg
from tinygraph.memory import human

T, B, D, H = 4, 1, 2, 3


def loss_of(every: int | None, layers: int = 1) -> tg.Tensor:
    net = rnn.RNN(D, H, num_layers=layers, rng=0, checkpoint_every=every)
    hs, _ = net(np.ones((B, T, D)))
    return sum((h * h).sum() for h in hs)


def cluster_labels(text: str) -> list[str]:
    return re.findall(r'^    graph \[label="([^"]*)"', text, flags=re.MULTILINE)


def test_each_step_label_shows_its_total_from_the_ledger():
    loss = loss_of(None)
    ledger = tg.saved_bytes(loss)
    labels = cluster_labels(tg.to_dot(loss, show_saved=True))
    assert labels == [f"t = {t} · {human(ledger.by_step[t])}" for t in range(T)]
    # 4 outputs of 1x3 (24 bytes each) and the readout's mul (24); x_t is a view of the
    # sequence's one copy, charged once, to step 0's matmul
    assert ledger.by_step[1] == 120
    assert cluster_labels(tg.to_dot(loss)) == [f"t = {t}" for t in range(T)]


def test_each_tensor_label_shows_what_its_producer_holds():
    loss = loss_of(None)
    text = tg.to_dot(loss, show_saved=True)
    edges = re.findall(r"^  (n\d+) -> \w+ \[(?:label=<(.*?)>, |.*?tooltip=\"(.*?)\")", text,
                       flags=re.MULTILINE)
    held = {node: (label or tip).rsplit("· ", 1)[1] for node, label, tip in edges}
    # step 0's input matmul holds its (1, 3) output (24 B) and the sequence's one copy of x
    # (1·4·2·8 = 64 B), of which every x_t is a view; the h0 matmul its output and the zero h0
    assert (held["n0"], held["n1"], held["n5"]) == ("88 B", "48 B", "24 B")
    tanh = [n for n in tg.saved_bytes(loss).nodes if n.node.op.name == "tanh"]
    assert tanh and all(row.bytes == 24 for row in tanh)  # each keeps its (1, 3) output
    assert "parameters 120 B" in text  # W_xh (48) and W_hh (72), kept by the matmuls
    assert "holds 24 B for backward" in text  # the tooltip of the tanh boxes
    assert " · " not in tg.to_dot(loss).replace("·‖", "")


def test_show_saved_is_checked_and_only_where_tensors_are_drawn():
    loss = loss_of(None)
    expect(tg.ConfigError, lambda: tg.to_dot(loss, "backward", show_saved=True),
           "to_dot: show_saved=True changes nothing in the 'backward' view; it applies to the "
           "views forward, both")
    expect(tg.ConfigError, lambda: tg.to_dot(loss, show_saved="yes"),
           "to_dot: show_saved must be True or False, got 'yes'")
    assert "· 24 B" in tg.to_dot(loss, "both", show_saved=True)


def test_a_checkpointed_segment_is_one_box_in_the_column_of_its_last_step():
    loss = loss_of(2, layers=2)
    text = tg.to_dot(loss, show_saved=True)
    boxes = [line for line in text.splitlines() if "checkpoint[" in line and "label=" in line]
    assert len(boxes) == 2
    assert all('peripheries="2"' in line for line in boxes)
    assert "label=<checkpoint[t=0..1] ↻>" in boxes[0]
    assert "tanh" not in text and "matmul" not in text  # no step of a segment is kept
    assert cluster_labels(text)[:2] == [f"t = 1 · {human(tg.saved_bytes(loss).by_step[1])}",
                                        f"t = 3 · {human(tg.saved_bytes(loss).by_step[3])}"]
    assert 'label="checkpoints"' in text  # the band the boxes sit in
    assert "orange double box ↻: tg.checkpoint" in text


def test_the_checkpointed_picture_renders(tmp_path):
    pytest.importorskip("graphviz")
    import shutil

    if shutil.which("neato") is None:
        pytest.skip("Graphviz's neato is not installed")
    path = tg.render(loss_of(2), str(tmp_path / "segments.svg"), show_saved=True, view="both")
    assert "checkpoint[t=0..1] ↻" in open(path, encoding="utf-8").read()


def recomputed_frames(loss: tg.Tensor) -> tuple[list[dict], list[dict], list]:
    """The explorer's frames of ``loss``, those of recomputed steps, and the trace."""
    from tinygraph.render.explore.captions import RECOMPUTED, frames
    from tinygraph.render.explore.graph import explored_graph

    trace = tg.trace_backward(loss)
    every = frames(explored_graph(loss, trace))
    inside = [f for f in every if f["cap"][-1] == [RECOMPUTED]]
    return every, inside, trace


def test_the_explorer_shows_a_recomputed_step_inside_its_checkpoint_box():
    loss = loss_of(2)
    every, inside, trace = recomputed_frames(loss)
    assert len(every) == len(trace)
    recomputed = [s for s in trace if s.scope.get("recomputed")]
    # per segment: its pack, the 5 ops of each of its 2 steps and the Σ of the state between
    assert len(inside) == len(recomputed) == 2 * 12
    boxes = {f["cur"][0]: f["t"] for f in every if f["cap"][0][0].startswith("checkpoint[")}
    assert len(boxes) == 2
    assert all(len(f["cur"]) == 1 and boxes[f["cur"][0]] == f["t"] for f in inside)
    first = every.index(inside[0])
    assert every[first - 1]["cap"][0][0].startswith("checkpoint[t=2..3]")
    assert every[first - 1]["cap"][2][0].startswith("sends nothing itself: it runs its segment")
    assert every[first]["cap"][0] == ["pack", " at t = 3, recomputed"]
    page = tg.stepthrough_html(loss)
    assert page_data(page)["frames"] == json.loads(json.dumps(every))
    assert set(boxes) <= svg_keys(page)


def test_a_recomputed_step_of_a_folded_checkpoint_opens_on_the_checkpoints_step():
    net = rnn.RNN(D, H, rng=0, checkpoint_every=2)
    hs, _ = net(np.ones((B, 8, D)))  # segments end at t = 1, 3, 5, 7
    loss = sum((h * h).sum() for h in hs)
    every, inside, _ = recomputed_frames(loss)
    columns = {f["t"] for f in inside}
    assert columns == {0, 1, 2, 3}  # one column per segment: the page opens its fold there
    page = tg.explore(loss, max_steps=2).html
    assert page_data(page)["frames"] == json.loads(json.dumps(every))
