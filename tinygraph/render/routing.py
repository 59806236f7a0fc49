"""Edge routes: polylines from box to box that pass through no other box.

An edge is first tried as the straight line between the two boxes' borders. When that line
crosses a box, the route is the shortest polyline through corners of the boxes nearby (each
corner moved out by a margin), found by A* on their visibility graph, a bend costing a little
extra so that straight routes win. The search only looks at boxes near the two ends (a
:class:`~tinygraph.render.geometry.Grid`), and routes already found for the same geometry are
reused, so a long unroll, whose steps repeat, costs little more than one step.

A gradient runs beside its forward edge: the same route moved a few points to its right,
reversed, with its ends put back on the boxes' borders (:func:`beside`).
"""

from __future__ import annotations

import heapq
import math

from tinygraph.render.geometry import (
    Box,
    Grid,
    Point,
    boundary_point,
    entry_point,
    offset_polyline,
    segment_hits_box,
)

CLEARANCE = 3.0   # an edge keeps this far from boxes it passes
CORNER = 8.0      # a bend passes this far from the corner it turns around
BEND = 12.0       # what a bend costs, in points of length: fewer bends win
REGION = 80.0     # how far beyond the two boxes a route may go


class Router:
    """Routes edges among the boxes of one picture."""

    def __init__(self, boxes: dict[str, Box]) -> None:
        self.boxes = boxes
        self.grid = Grid()
        for key, box in boxes.items():
            if not key.startswith("band"):
                self.grid.add_box(box.grown(CLEARANCE), key)
        self.cache: dict[tuple, list[Point] | None] = {}

    def route(self, src: str, dst: str) -> list[Point]:
        """A polyline from the border of box ``src`` to the border of box ``dst``."""
        a, b = self.boxes[src], self.boxes[dst]
        straight = [boundary_point(a, (b.x, b.y)), boundary_point(b, (a.x, a.y))]
        blocker = self._first_blocker(straight[0], straight[1], (src, dst))
        if blocker is None:
            return straight
        key = self._signature(src, dst, a, b)
        if key in self.cache:
            found = self.cache[key]
            return straight if found is None else [(x + a.x, y + a.y) for x, y in found]
        path = self._detour(src, dst, a, b)
        self.cache[key] = None if path is None else [(x - a.x, y - a.y) for x, y in path]
        return straight if path is None else path

    def _signature(self, src: str, dst: str, a: Box, b: Box) -> tuple:
        """The geometry a route depends on, relative to the source: the two boxes and every
        box in the rectangle they span (rounded), so repeated steps share one search."""
        x0, x1 = min(a.x0, b.x0) - 60.0, max(a.x1, b.x1) + 60.0
        y0, y1 = min(a.y0, b.y0) - 60.0, max(a.y1, b.y1) + 60.0
        near = sorted((round(box.x - a.x, 1), round(box.y - a.y, 1), round(box.w, 1),
                       round(box.h, 1)) for box, key in self.grid.boxes_near(x0, y0, x1, y1)
                      if key not in (src, dst))
        return (round(b.x - a.x, 1), round(b.y - a.y, 1), a.w, a.h, a.round, b.w, b.h, b.round,
                tuple(near))

    def _first_blocker(self, p: Point, q: Point, ends: tuple[str, str]) -> Box | None:
        """The box nearest to ``p`` that the segment p–q passes through (not the ends)."""
        hits = []
        for box, key in self.grid.boxes_near(min(p[0], q[0]), min(p[1], q[1]),
                                             max(p[0], q[0]), max(p[1], q[1])):
            if key not in ends and segment_hits_box(p, q, box):
                hits.append((math.dist(p, (box.x, box.y)), key, box))
        return min(hits)[2] if hits else None

    def _clear(self, p: Point, q: Point, ends: tuple[str, str]) -> bool:
        return self._first_blocker(p, q, ends) is None

    def _detour(self, src: str, dst: str, a: Box, b: Box) -> list[Point] | None:
        """The shortest route through corners of the boxes near the straight line (A* over
        the visibility graph of those corners; each bend costs BEND points extra)."""
        ends = (src, dst)
        x0, x1 = min(a.x, b.x) - REGION, max(a.x, b.x) + REGION
        y0, y1 = min(a.y, b.y) - REGION, max(a.y, b.y) + REGION
        near = [box for box, key in self.grid.boxes_near(x0, y0, x1, y1) if key not in ends]
        corners = []
        for box in near:
            for c in _corners(box.grown(CORNER - CLEARANCE)):
                if x0 <= c[0] <= x1 and y0 <= c[1] <= y1 and not any(o.contains(c) for o in near):
                    corners.append(c)
        start, goal = (a.x, a.y), (b.x, b.y)
        best = {start: 0.0}
        parent: dict[Point, Point] = {}
        heap = [(math.dist(start, goal), 0.0, start)]
        while heap:
            _, cost, here = heapq.heappop(heap)
            if here == goal:
                break
            if cost > best.get(here, math.inf):
                continue
            for there in (goal, *corners):
                if there == here:
                    continue
                step = math.dist(here, there) + (BEND if there != goal else 0.0)
                if cost + step >= best.get(there, math.inf):
                    continue
                leg = (boundary_point(a, there) if here == start else here,
                       boundary_point(b, here) if there == goal else there)
                if not self._clear(leg[0], leg[1], ends):
                    continue
                best[there] = cost + step
                parent[there] = here
                heapq.heappush(heap, (cost + step + math.dist(there, goal), cost + step, there))
        if goal not in parent:
            return None
        bends = []
        point = parent[goal]
        while point != start:
            bends.append(point)
            point = parent[point]
        bends.reverse()
        return [boundary_point(a, bends[0]), *bends, boundary_point(b, bends[-1])]


def _corners(box: Box) -> list[Point]:
    return [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]


def beside(route: list[Point], distance: float, src: Box, dst: Box) -> list[Point]:
    """The route moved ``distance`` points to its right, ends back on the borders of ``src``
    (where it starts) and ``dst`` (where it ends)."""
    moved = offset_polyline(route, distance)
    moved[0] = _onto(src, moved[0], moved[1])
    moved[-1] = _onto(dst, moved[-1], moved[-2])
    return moved


def _onto(box: Box, end: Point, toward: Point) -> Point:
    """``end`` moved along the line from ``toward`` so that it lies on ``box``'s border
    (unchanged when that line misses the box)."""
    dx, dy = end[0] - toward[0], end[1] - toward[1]
    n = math.hypot(dx, dy) or 1.0
    reach = (box.w + box.h) / n
    hit = entry_point(box, toward, (end[0] + dx * reach, end[1] + dy * reach))
    return end if hit is None else hit
