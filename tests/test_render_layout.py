"""The layout of tg.to_dot: no two drawn boxes overlap, whatever the labels' widths."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from dot_text import label, nodes
from render_graphs import build_rnn_loss

import rnn
import tinygraph as tg

POS = re.compile(r'pos="(?P<x>[-\d.]+),(?P<y>[-\d.]+)!"')


def boxes(text: str) -> list[tuple[str, str, float, float, float, float]]:
    """(id, label, x0, y0, x1, y1) of every op, junction, parameter copy and constant (every
    node is drawn at the fixed size it is given)."""
    found = []
    for name, body in nodes(text).items():
        if name.startswith(("legend", "band", "fold", "output")):
            continue
        x, y = (float(v) for v in POS.search(body).groups())
        w = float(re.search(r'width="([\d.]+)"', body).group(1)) * 72
        h = float(re.search(r'height="([\d.]+)"', body).group(1)) * 72
        found.append((name, label(body), x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    return found


def overlaps(text: str) -> list[tuple[str, str]]:
    """Pairs of boxes (by label) whose rectangles intersect."""
    pairs = []
    for a, b in itertools.combinations(boxes(text), 2):
        if a[2] < b[4] and b[2] < a[4] and a[3] < b[5] and b[3] < a[5]:
            pairs.append((f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}"))
    return pairs


def lstm_loss() -> tg.Tensor:
    net = rnn.RNN(cell=rnn.LSTMCell(2, 3, rng=0))
    hs, _ = net(np.ones((1, 3, 2)))
    return hs[-1].sum()


@pytest.mark.parametrize("view", ["forward", "backward", "both"])
def test_lstm_boxes_do_not_overlap(view):
    text = tg.to_dot(lstm_loss(), view)
    assert len(boxes(text)) > 60
    assert overlaps(text) == []


@pytest.mark.parametrize("view", ["forward", "backward"])
def test_elman_boxes_do_not_overlap(view):
    loss, _ = build_rnn_loss(3, 2)
    assert overlaps(tg.to_dot(loss, view)) == []


def test_wide_labels_widen_the_step_column():
    """Four long op labels in one row: they are spaced by width and the column grows."""
    h = tg.Tensor(np.ones((1, 12)), True, "h0")
    for t in range(2):
        with tg.scope(t=t, layer=0):
            parts = [tg.tanh(h[:, 3 * k:3 * k + 3]) for k in range(4)]
            h = tg.concat(parts, axis=1)
    text = tg.to_dot(h.sum(), "forward")
    assert overlaps(text) == []
    frames = [tuple(map(float, b)) for b in
              re.findall(r'label="t = \d+", bb="([\d.]+),[\d.]+,([\d.]+),', text)]
    getitems = [b for b in boxes(text) if b[1].startswith("[:, ")]
    assert len(getitems) == 8
    row = sum(b[4] - b[2] for b in getitems[:4])
    assert frames[0][1] - frames[0][0] > row + 3 * 16  # four labels and the gaps between
    for box in getitems:
        assert any(x0 <= box[2] and box[4] <= x1 for x0, x1 in frames)


def test_many_parameters_beside_one_op_do_not_overlap():
    params = [tg.Tensor(np.ones(2), True, f"weight_number_{k}") for k in range(5)]
    with tg.scope(t=0):
        out = tg.tanh(params[0])
        for p in params[1:]:
            out = out * p
    assert overlaps(tg.to_dot(out.sum(), "backward")) == []
