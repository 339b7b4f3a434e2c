"""Copies stay apart: two regions that are mirror images or translated copies of each other are two parts.

A pair of glasses has two rims joined by a bridge; a table two legs joined by a rail. Each pair is two
instances of one part: people name them apart however smoothly the surface runs between them. Two
halves of one body cut along its symmetry plane, or a bar cut in its middle, are copies too, but they
meet along a seam as long as their cross-section; copies meet at a neck thinner than themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from ..mesh.graph import region_boundary_lengths

COPY_POINTS = 1500  # vertices each region is compared on
MIN_AREA_RATIO = 0.6  # copies have nearly the same area
COPY_DISTANCE = 0.12  # mean distance between a region's points and its copy's, over the region's radius


@dataclass
class CopyVeto:
    """Refuses merging two regions that are copies of each other joined by a short boundary.

    vertices: (n, 3), faces: (m, 3), areas: (n,) area per vertex. Two regions (given as (n,) bool masks)
    are copies when their areas are within ``MIN_AREA_RATIO`` and one, mirrored in the plane halfway
    between their centroids or moved onto the other's centroid, lies within ``COPY_DISTANCE`` of the
    other (mean of both directions' nearest-point distances over the second region's RMS radius). The
    merge is refused when they are copies and their shared boundary is shorter than ``neck`` times their
    girth (2 pi times the smaller of their middle principal spreads), but not when it is zero: separate
    pieces that only touch (a kitbashed asset's boards) are merged or kept apart by the pieces' rules.
    Where they meet a bar's halves share its whole cross-section: sqrt 2 = 1.41 girths for a round bar,
    1.56 for a square one (spreads of the surface); a rim meets the other at a bridge. Only the convex
    merge asks (near-final regions): the weak-cut merge has already joined halves with no cut between
    them. Points are drawn with ``seed``.
    """

    vertices: np.ndarray
    faces: np.ndarray
    areas: np.ndarray
    neck: float
    seed: int
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def __call__(self, first: np.ndarray, second: np.ndarray) -> bool:
        first_area, second_area = float(self.areas[first].sum()), float(self.areas[second].sum())
        if min(first_area, second_area) < MIN_AREA_RATIO * max(first_area, second_area):
            return False
        labels = np.where(first, 0, np.where(second, 1, 2))
        seam = region_boundary_lengths(labels, self.faces, self.vertices, 3)[0, 1]
        if seam == 0.0:
            return False  # separate pieces that touch are left to the pieces' own rules
        first_points, second_points = self._points(first), self._points(second)
        girth = 2.0 * np.pi * min(_middle_spread(first_points), _middle_spread(second_points))
        return seam < self.neck * girth and copy_distance(first_points, second_points) < COPY_DISTANCE

    def _points(self, members: np.ndarray) -> np.ndarray:
        indices = np.flatnonzero(members)
        if len(indices) > COPY_POINTS:
            indices = self._rng.choice(indices, COPY_POINTS, replace=False)
        return self.vertices[indices]


def _middle_spread(points: np.ndarray) -> float:
    """The middle principal standard deviation of (p, 3) points (a bar's width, a disc's radius over 2)."""
    centred = points - points.mean(axis=0)
    return float(np.sqrt(max(np.linalg.eigvalsh(centred.T @ centred / len(points))[1], 0.0)))


def copy_distance(first: np.ndarray, second: np.ndarray) -> float:
    """How far (p, 3) points are from being a copy of (q, 3) points: the smaller of their mirror image's
    and their translate's symmetric mean nearest-point distance to ``second``, over its RMS radius."""
    first_centre, second_centre = first.mean(axis=0), second.mean(axis=0)
    offset = second_centre - first_centre
    gap = float(np.linalg.norm(offset))
    radius = float(np.sqrt(((second - second_centre) ** 2).sum(axis=1).mean()))
    if gap < 1e-9 or radius < 1e-12:
        return np.inf
    normal = offset / gap
    mirrored = first - 2.0 * ((first - 0.5 * (first_centre + second_centre)) @ normal)[:, None] * normal
    second_tree = cKDTree(second)
    distances = []
    for copy in (mirrored, first + offset):
        distances.append(0.5 * (second_tree.query(copy)[0].mean() + cKDTree(copy).query(second)[0].mean()))
    return min(distances) / radius
