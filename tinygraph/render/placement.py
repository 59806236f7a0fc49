"""Edge labels placed beside their own edge, clear of every box, every other label and every
edge (their own included).

A label is tried at points along its edge (the middle first, then toward either end), on
its preferred side (the left of the edge's direction: a forward tensor's name left of it, the
gradient running beside it on the right, the gradient's label right of that), then on the
other side, where it also clears the twin edge; then a little further out. The first place
that touches nothing, and has no other edge nearer than its own (so it is read as the label
of its edge), wins; an edge too short for its label (to a parameter's copy) has it under or
over the box at one of its ends. Positions are centres of label rectangles, in points.
"""

from __future__ import annotations

from dataclasses import dataclass

from itertools import pairwise

from tinygraph.render.geometry import (
    Box,
    Grid,
    Point,
    left_normal,
    segment_box_distance,
    segment_hits_rect,
)

GAP = 2.5                 # clear space between a label and its edge
FRACTIONS = (0.5, 0.36, 0.64, 0.22, 0.78, 0.1, 0.9)
END_REACH = 16.0          # a label under or over an end box stays this near its edge


@dataclass
class Request:
    """A label to place: its size, its edge's route, the width of its twin beside it (on
    the right of the route, 0 without one), and the key its edge is registered under."""

    width: float
    height: float
    route: list[Point]
    twin: float
    key: object
    twin_key: object = None
    ends: tuple[Box, ...] = ()


def place_labels(requests: list[Request], boxes: list[Box], grid: Grid) -> list[Point | None]:
    """A centre for each request, in order (earlier requests choose first); None when no
    clear place exists (the label is then left out rather than drawn over something).

    ``grid`` holds every edge's segments (under their keys) and receives the labels placed.
    """
    for box in boxes:
        grid.add_box(box, "box")
    placed: list[Point | None] = []
    for request in requests:
        spot = _find(request, grid)
        placed.append(spot)
        if spot is not None:
            grid.add_box(Box(spot[0], spot[1], request.width, request.height), "label")
    return placed


def _find(request: Request, grid: Grid) -> Point | None:
    segments = sorted(pairwise(request.route),
                      key=lambda s: -((s[1][0] - s[0][0]) ** 2 + (s[1][1] - s[0][1]) ** 2))
    for ring in (0.0, 4.0, 8.0, 13.0):
        for a, b in segments:
            n = left_normal(a, b)
            for f in FRACTIONS:
                m = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
                for side in (1.0, -1.0):
                    support = abs(n[0]) * request.width / 2 + abs(n[1]) * request.height / 2
                    off = GAP + ring + support + (request.twin if side < 0 else 0.0)
                    centre = (m[0] + side * n[0] * off, m[1] + side * n[1] * off)
                    rect = Box(centre[0], centre[1], request.width, request.height)
                    if _free(rect, grid) and _nearest_is_own(rect, request, grid):
                        return centre
    found = []
    for box in request.ends:          # a short edge: under or over the box at one of its ends
        half = (request.width - box.w) / 2
        for y in (box.y0 - request.height / 2 - GAP, box.y1 + request.height / 2 + GAP):
            for x in (box.x, box.x + half, box.x - half):
                rect = Box(x, y, request.width, request.height)
                own = min(segment_box_distance(a, b, rect) for a, b in pairwise(request.route))
                if own <= END_REACH and _free(rect, grid) and _nearest_is_own(rect, request, grid, 3.0):
                    found.append((own, x, y))
    return min(found)[1:] if found else None


def _nearest_is_own(rect: Box, request: Request, grid: Grid, margin: float = 0.0) -> bool:
    """Whether no edge but the label's own (and its twin) comes nearer to it than its own
    (plus ``margin``)."""
    own = min(segment_box_distance(a, b, rect) for a, b in pairwise(request.route))
    reach = own + margin
    for a, b, key in grid.segments_near(rect.x0 - reach, rect.y0 - reach, rect.x1 + reach,
                                        rect.y1 + reach):
        if key not in (request.key, request.twin_key) and segment_box_distance(a, b, rect) < reach:
            return False
    return True


def _free(rect: Box, grid: Grid) -> bool:
    """Whether ``rect`` touches no box, label or edge segment."""
    x0, y0, x1, y1 = rect.x0, rect.y0, rect.x1, rect.y1
    for box, _ in grid.boxes_near(x0, y0, x1, y1):
        if rect.overlaps(box):
            return False
    for a, b, _ in grid.segments_near(x0, y0, x1, y1):
        if segment_hits_rect(a, b, rect):
            return False
    return True
