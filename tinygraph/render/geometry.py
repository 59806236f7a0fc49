"""Plane geometry for the pictures: boxes, segments, polylines, and a grid to find neighbours fast.

Coordinates are points, y up (Graphviz's convention). A :class:`Box` is an axis-aligned
rectangle given by its centre and size (a Σ circle is its bounding square, with ``round``
set so edges are clipped to the circle). A :class:`Grid` buckets boxes and segments into
square cells, so "what is near this segment" looks at a few cells instead of the whole
picture: routing and label placement stay linear in the size of the picture.
"""

from __future__ import annotations

import math
from itertools import pairwise
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

Point = tuple[float, float]
CELL = 48.0   # side of a grid cell, in points


@dataclass
class Box:
    """A rectangle by centre (x, y) and size (w, h); ``round`` for a circle of diameter w."""

    x: float
    y: float
    w: float
    h: float
    round: bool = False

    @property
    def x0(self) -> float:
        return self.x - self.w / 2

    @property
    def x1(self) -> float:
        return self.x + self.w / 2

    @property
    def y0(self) -> float:
        return self.y - self.h / 2

    @property
    def y1(self) -> float:
        return self.y + self.h / 2

    def grown(self, margin: float) -> Box:
        """The box with ``margin`` added on every side."""
        return Box(self.x, self.y, self.w + 2 * margin, self.h + 2 * margin, self.round)

    def overlaps(self, other: Box) -> bool:
        """Whether the two rectangles share interior points."""
        return (self.x0 < other.x1 and other.x0 < self.x1
                and self.y0 < other.y1 and other.y0 < self.y1)

    def contains(self, p: Point) -> bool:
        """Whether ``p`` lies strictly inside the rectangle."""
        return self.x0 < p[0] < self.x1 and self.y0 < p[1] < self.y1


def segment_hits_box(a: Point, b: Point, box: Box) -> bool:
    """Whether the segment a–b passes through the interior of ``box`` (Liang–Barsky clipping:
    the parameter range where the segment is inside both slabs is not empty)."""
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - box.x0), (dx, box.x1 - a[0]), (-dy, a[1] - box.y0), (dy, box.y1 - a[1])):
        if p == 0.0:
            if q <= 0.0:
                return False
            continue
        r = q / p
        if p < 0.0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 >= t1:
            return False
    return t1 - t0 > 1e-9


def segment_hits_rect(a: Point, b: Point, box: Box) -> bool:
    """Whether the segment a–b touches ``box`` (interior or an end inside)."""
    return box.contains(a) or box.contains(b) or segment_hits_box(a, b, box)


def point_segment_distance(p: Point, a: Point, b: Point) -> float:
    """The distance from ``p`` to the segment a–b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    n = dx * dx + dy * dy
    t = 0.0 if n == 0.0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / n))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def segment_box_distance(a: Point, b: Point, box: Box) -> float:
    """The distance between the segment a–b and the rectangle ``box`` (0 when they meet)."""
    if segment_hits_rect(a, b, box):
        return 0.0
    corners = ((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1))
    near = min(point_segment_distance(c, a, b) for c in corners)
    for p in (a, b):
        dx = max(box.x0 - p[0], 0.0, p[0] - box.x1)
        dy = max(box.y0 - p[1], 0.0, p[1] - box.y1)
        near = min(near, math.hypot(dx, dy))
    return near


def boundary_point(box: Box, toward: Point) -> Point:
    """Where the ray from the box's centre toward ``toward`` leaves the box (or circle)."""
    dx, dy = toward[0] - box.x, toward[1] - box.y
    if dx == 0.0 and dy == 0.0:
        return (box.x, box.y)
    if box.round:
        r = box.w / 2
        n = math.hypot(dx, dy)
        return (box.x + dx * r / n, box.y + dy * r / n)
    sx = (box.w / 2) / abs(dx) if dx else math.inf
    sy = (box.h / 2) / abs(dy) if dy else math.inf
    s = min(sx, sy)
    return (box.x + dx * s, box.y + dy * s)


def entry_point(box: Box, a: Point, b: Point) -> Point | None:
    """Where the segment a–b first meets the border of ``box`` (its circle when round), or
    None when it misses the box."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if box.round:
        fx, fy = a[0] - box.x, a[1] - box.y
        qa, qb, qc = dx * dx + dy * dy, 2 * (fx * dx + fy * dy), fx * fx + fy * fy - (box.w / 2) ** 2
        disc = qb * qb - 4 * qa * qc
        if qa == 0.0 or disc < 0.0:
            return None
        t = (-qb - math.sqrt(disc)) / (2 * qa)
        return (a[0] + dx * t, a[1] + dy * t) if 0.0 <= t <= 1.0 else None
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a[0] - box.x0), (dx, box.x1 - a[0]), (-dy, a[1] - box.y0), (dy, box.y1 - a[1])):
        if p == 0.0:
            if q < 0.0:
                return None
            continue
        r = q / p
        if p < 0.0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    return (a[0] + dx * t0, a[1] + dy * t0)


def offset_polyline(points: list[Point], d: float) -> list[Point]:
    """The polyline moved ``d`` points to the right of its direction (mitred corners)."""
    normals = []
    for (x0, y0), (x1, y1) in pairwise(points):
        n = math.hypot(x1 - x0, y1 - y0) or 1.0
        normals.append(((y1 - y0) / n, -(x1 - x0) / n))
    out = [(points[0][0] + normals[0][0] * d, points[0][1] + normals[0][1] * d)]
    for k in range(1, len(points) - 1):
        (ax, ay), (bx, by) = normals[k - 1], normals[k]
        mx, my = ax + bx, ay + by
        dot = mx * ax + my * ay or 1.0
        out.append((points[k][0] + mx * d / dot, points[k][1] + my * d / dot))
    out.append((points[-1][0] + normals[-1][0] * d, points[-1][1] + normals[-1][1] * d))
    return out


def left_normal(a: Point, b: Point) -> Point:
    """The unit normal to the left of the direction a → b."""
    n = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    return (-(b[1] - a[1]) / n, (b[0] - a[0]) / n)


class Grid:
    """Boxes and segments bucketed by CELL-sized squares, each with a key (who it belongs to)."""

    def __init__(self) -> None:
        self.boxes: dict[tuple[int, int], list[tuple[Box, object]]] = {}
        self.segments: dict[tuple[int, int], list[tuple[Point, Point, object]]] = {}

    @staticmethod
    def _cells(x0: float, y0: float, x1: float, y1: float) -> Iterator[tuple[int, int]]:
        for i in range(math.floor(x0 / CELL), math.floor(x1 / CELL) + 1):
            for j in range(math.floor(y0 / CELL), math.floor(y1 / CELL) + 1):
                yield (i, j)

    def add_box(self, box: Box, key: object) -> None:
        """Register ``box`` under ``key``."""
        for cell in self._cells(box.x0, box.y0, box.x1, box.y1):
            self.boxes.setdefault(cell, []).append((box, key))

    def add_segment(self, a: Point, b: Point, key: object) -> None:
        """Register the segment a–b under ``key`` (in every cell of its bounding box)."""
        for cell in self._cells(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])):
            self.segments.setdefault(cell, []).append((a, b, key))

    def add_polyline(self, points: Iterable[Point], key: object) -> None:
        """Register every segment of a polyline under ``key``."""
        pts = list(points)
        for a, b in pairwise(pts):
            self.add_segment(a, b, key)

    def boxes_near(self, x0: float, y0: float, x1: float, y1: float) -> list[tuple[Box, object]]:
        """Every registered box in the cells the rectangle touches (each once)."""
        boxes = self.boxes
        i0, i1 = math.floor(x0 / CELL), math.floor(x1 / CELL)
        j0, j1 = math.floor(y0 / CELL), math.floor(y1 / CELL)
        if i0 == i1 and j0 == j1:
            return list(boxes.get((i0, j0), ()))
        seen: dict[int, tuple[Box, object]] = {}
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                for item in boxes.get((i, j), ()):
                    seen[id(item[0])] = item
        return list(seen.values())

    def segments_near(self, x0: float, y0: float, x1: float, y1: float) -> list[tuple[Point, Point, object]]:
        """Every registered segment in the cells the rectangle touches (each once)."""
        seen: dict[tuple, tuple[Point, Point, object]] = {}
        for cell in self._cells(x0, y0, x1, y1):
            for item in self.segments.get(cell, ()):
                seen[(item[0], item[1], id(item[2]))] = item
        return list(seen.values())
