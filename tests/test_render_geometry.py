"""Where things end up, checked on the positions Graphviz itself computes (``neato -n2
-Tjson``): no edge through a box, every label beside its own edge and on no other, no text
too small at the width a notebook shows."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from dot_text import drawn_items, font_sizes, geometry
from render_graphs import build_rnn_loss, stack_4_20_64

import rnn
import tinygraph as tg

pytestmark = pytest.mark.skipif(shutil.which("neato") is None,
                                reason="Graphviz's neato is not installed")


def rnn_net(cell=None, **kwargs) -> tg.Tensor:
    net = rnn.RNN(3, 4, num_layers=2, rng=0, **kwargs) if cell is None else rnn.RNN(cell=cell)
    width = 8 if kwargs.get("bidirectional") else 4
    readout = rnn.Linear(width, 3, rng=1)
    d = 3 if cell is None else cell.input_size
    hs, _ = net(np.random.default_rng(2).standard_normal((2, 4, d)))
    return rnn.sequence_cross_entropy([readout(h) for h in hs], [[0, 1, 2, 0], [2, 1, 0, 1]])


def many_to_one() -> tg.Tensor:
    net, readout = rnn.RNN(3, 4, num_layers=2, rng=0), rnn.Linear(4, 3, rng=1)
    hs, _ = net(np.random.default_rng(2).standard_normal((2, 5, 3)))
    return rnn.last_step_cross_entropy(readout(hs[-1]), [0, 2])


PICTURES = {
    "elman forward": lambda: tg.to_dot(build_rnn_loss(4, 2)[0], "forward", show_shapes=True),
    "elman backward": lambda: tg.to_dot(build_rnn_loss(4, 2)[0], "backward"),
    "elman both": lambda: tg.to_dot(build_rnn_loss(4, 2)[0], "both", show_grad_norms=True),
    "rnn package": lambda: tg.to_dot(rnn_net(), "backward"),
    "many to one": lambda: tg.to_dot(many_to_one(), "backward"),
    "folded": lambda: tg.to_dot(build_rnn_loss(24, 2)[0], "backward", max_steps=4),
    "grad norm": lambda: tg.to_dot(build_rnn_loss(8, 2, w_scale=0.25, loss_at="last")[0],
                                   "backward", color_by="grad_norm"),
    "lstm": lambda: tg.to_dot(rnn_net(rnn.LSTMCell(3, 4, rng=0)), "backward"),
    "gru": lambda: tg.to_dot(rnn_net(rnn.GRUCell(3, 4, rng=0)), "backward"),
    "bidirectional": lambda: tg.to_dot(rnn_net(bidirectional=True), "backward"),
    "one step": lambda: tg.to_dot(build_rnn_loss(4, 2)[0], "step", t=1),
    "rolled": lambda: tg.to_dot(build_rnn_loss(4, 2)[0], "rolled"),
    "by hand": lambda: tg.to_dot(stack_4_20_64()[0], "forward", show_values=True),
}


@pytest.fixture(scope="module", params=sorted(PICTURES))
def picture(request):
    return request.param, drawn_items(geometry(PICTURES[request.param]()))


def inside(p: tuple[float, float], box: tuple[float, float, float, float], margin: float) -> bool:
    return box[0] + margin < p[0] < box[2] - margin and box[1] + margin < p[1] < box[3] - margin


def distance(p: tuple[float, float], box: tuple[float, float, float, float]) -> float:
    dx = max(box[0] - p[0], 0.0, p[0] - box[2])
    dy = max(box[1] - p[1], 0.0, p[1] - box[3])
    return math.hypot(dx, dy)


def test_no_edge_passes_through_a_box(picture):
    name, (boxes, drawn) = picture
    crossing = []
    for tail, head, points, _ in drawn:
        for box_name, box in boxes.items():
            if box_name in (tail, head):
                continue
            if any(inside(p, box, 1.0) for p in points):
                crossing.append(f"{tail}->{head} through {box_name}")
    assert crossing == [], f"{name}: {crossing[:8]}"


def test_every_label_is_beside_its_own_edge_and_on_no_other(picture):
    """Each label: within 20 pt of its edge, nearer to it (or to the gradient beside it)
    than to any other edge, crossed by none (its own included), on no box."""
    name, (boxes, drawn) = picture
    faults = []
    labelled = [(k, d) for k, d in enumerate(drawn) if d[3] is not None]
    assert labelled
    for k, (tail, head, points, box) in labelled:
        near = min(distance(p, box) for p in points)
        if near > 20.0:
            faults.append(f"{tail}->{head}: label {near:.1f} pt from its edge")
        nearest = min((min(distance(p, box) for p in other), (t2, h2))
                      for t2, h2, other, _ in drawn)
        if nearest[1] not in ((tail, head), (head, tail)) and nearest[0] < near - 0.5:
            faults.append(f"{tail}->{head}: label nearer to edge {nearest[1]}")
        if any(inside(p, box, 0.6) for p in points):
            faults.append(f"{tail}->{head}: crossed by its own edge")
        for j, (t2, h2, other, _) in enumerate(drawn):
            if j != k and any(inside(p, box, 0.6) for p in other):
                faults.append(f"{tail}->{head}: label on edge {t2}->{h2}")
        for box_name, node in boxes.items():
            if (box[0] < node[2] - 0.6 and node[0] + 0.6 < box[2]
                    and box[1] < node[3] - 0.6 and node[1] + 0.6 < box[3]):
                faults.append(f"{tail}->{head}: label on box {box_name}")
    assert faults == [], f"{name}: {faults[:8]}"


def test_labels_do_not_overlap_each_other(picture):
    name, (_, drawn) = picture
    rects = [d[3] for d in drawn if d[3] is not None]
    clashes = [(a, b) for i, a in enumerate(rects) for b in rects[i + 1:]
               if a[0] < b[2] - 0.6 and b[0] < a[2] - 0.6 and a[1] < b[3] - 0.6 and b[1] < a[3] - 0.6]
    assert clashes == [], f"{name}: {clashes[:4]}"


def test_four_steps_of_two_layers_are_readable_at_a_notebook_width():
    """No text under 9 px when the picture is shown 1000 px wide (draw's default width)."""
    for view in ("forward", "backward", "both"):
        data = geometry(tg.to_dot(build_rnn_loss(4, 2)[0], view))
        width = float(data["bb"].split(",")[2])
        smallest = min(font_sizes(data))
        assert smallest * 1000 / width >= 9.0, (view, smallest, width)
