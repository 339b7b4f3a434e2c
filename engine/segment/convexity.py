"""Approximate convexity of surface regions (CoACD's concavity, on vertex sets).

The concavity of a set of surface points is, as in CoACD, the one-sided
Hausdorff distance from the surface of its convex hull to the points: how
far the hull bridges over empty space. Two adjacent regions whose union is
nearly convex (a collar on a rod, a rod on its foot) are one part; a rod
hanging from a slab, or two spheres meeting at a neck, are not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree

from ..mesh.sampling import sample_surface
from .instances import boundary_pairs, region_identity

MAX_HULL_POINTS = 20000
VETO_POINTS = 8192  # vertices the bridge veto measures on: it runs for every merge it is asked about


@dataclass
class SolidSide:
    """Which points lie off a closed surface, outside the solid: farther than ``margin`` from every
    vertex, on the side the nearest vertex's outward normal points to. A point on the surface is not
    outside: a flat region's hull spans notches of its outline, but over the solid's own face.
    On a surface of several pieces each piece is a solid of its own (kitbashed pieces run into each
    other): ``around(members)`` judges against the pieces a region lies on only.
    vertices: (n, 3); normals: (n, 3) outward vertex normals (``engine.mesh.graph.vertex_normals`` of faces
    wound outward, as the engine winds every mesh); pieces: (n,) piece ids (``engine.mesh.graph.piece_ids``).
    """

    vertices: np.ndarray
    normals: np.ndarray
    pieces: np.ndarray
    margin: float
    _trees: dict[tuple[int, ...], tuple[np.ndarray, cKDTree]] = field(default_factory=dict, init=False, repr=False)

    def around(self, members: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``outside`` against the pieces that hold the (n,) bool ``members``: (p, 3) points -> (p,) bool."""
        key = tuple(np.unique(self.pieces[members]).tolist())
        if key not in self._trees:
            rows = np.flatnonzero(np.isin(self.pieces, key))
            self._trees[key] = rows, cKDTree(self.vertices[rows])
        rows, tree = self._trees[key]

        def outside(points: np.ndarray) -> np.ndarray:
            distance, nearest = tree.query(points)
            nearest = rows[nearest]
            ahead = np.einsum("ij,ij->i", points - self.vertices[nearest], self.normals[nearest]) > 0.0
            return ahead & (distance > self.margin)

        return outside


def concavity(points: np.ndarray, rng: np.random.Generator, samples: int = 2000,
              outside: Callable[[np.ndarray], np.ndarray] | None = None) -> float:
    """Largest distance from the convex hull's surface to the (n, 3) points (about 0 for a convex set).

    The hull surface is sampled uniformly by area with ``samples`` points; the
    hull of a subsample (at most ``MAX_HULL_POINTS``) lies inside the true one,
    so subsampling can only lower the figure. Distances are measured to all
    points, so the result is floored by their spacing. With ``outside``, only hull
    points for which ``outside`` (``SolidSide.around``) holds count: the hull
    bridging empty space, not a shell's own open side (the flat base of a cap
    cut from a sphere lies inside it).
    """
    hull_points = points
    if len(points) > MAX_HULL_POINTS:
        hull_points = points[rng.choice(len(points), MAX_HULL_POINTS, replace=False)]
    try:
        hull = ConvexHull(hull_points)
    except (QhullError, ValueError):
        return 0.0  # flat or degenerate: nothing is bridged
    on_hull = sample_surface(hull_points, hull.simplices, samples, rng)
    if outside is not None:
        on_hull = on_hull[outside(on_hull)]
        if len(on_hull) == 0:
            return 0.0
    return float(cKDTree(points).query(on_hull)[0].max())


def merge_nearly_convex(
    regions: np.ndarray,
    edges: np.ndarray,
    vertices: np.ndarray,
    seed: int,
    threshold: float = np.inf,
    target: int = 1,
    covering: np.ndarray | None = None,
    pieces: np.ndarray | None = None,
    refuse: Callable[[np.ndarray, np.ndarray], bool] | None = None,
) -> np.ndarray:
    """Merge adjacent regions whose union is the most nearly convex, one pair at a time.

    regions: (n,) labels, edges: (e, 2), vertices: (n, 3) unit-cube positions; covering: (n,) int,
    the piece each vertex is hidden inside of or -1 (``engine.mesh.graph.covering_pieces``), or None:
    a vertex hidden inside a piece that is mostly in the union is not on the union's outer surface,
    and is left out of its concavity. pieces: (n,) piece id per vertex, given with ``covering``:
    regions of different pieces merge only when each holds its pieces whole (a fragment of a
    piece that holds several parts is not fused with a neighbouring piece because they touch).
    ``refuse(first, second)``, given two regions as (n,) bool masks, may veto a merge
    (``engine.segment.repetition.CopyVeto``): the next most nearly convex pair is tried, and a refused
    pair is not asked again while both regions are unchanged.
    Stops when no adjacent pair's union has concavity below ``threshold`` or
    when ``target`` regions remain. Returns (n,) labels renumbered 0..r-1.
    """
    regions = regions.copy()
    rng = np.random.default_rng(seed)
    cache: dict[tuple[int, int], float] = {}  # union concavity per region pair, or inf once refused
    while len(np.unique(regions)) > target:
        pairs, _ = boundary_pairs(regions, edges)
        if pieces is not None:
            pairs = pairs[_may_merge(pairs, regions, pieces)]
        if len(pairs) == 0:
            break
        scores = []
        for p, q in pairs:
            key = (int(p), int(q))
            if key not in cache:
                union = (regions == p) | (regions == q)
                cache[key] = concavity(vertices[union & ~_hidden_in(union, covering, pieces)], rng)
            scores.append(cache[key])
        best = int(np.argmin(scores))
        if scores[best] >= threshold:
            break
        keep, drop = (int(x) for x in pairs[best])
        if refuse is not None and refuse(regions == keep, regions == drop):
            cache[(keep, drop)] = np.inf  # not asked again while both regions stay as they are
            continue
        regions[regions == drop] = keep
        cache = {key: value for key, value in cache.items() if keep not in key and drop not in key}
    return np.unique(regions, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _may_merge(pairs: np.ndarray, regions: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """(p,) bool per (p, 2) region pair: they share a piece, or each holds all of every piece it touches."""
    region_piece = np.unique(np.stack([regions, pieces], axis=1), axis=0)  # (rp, 2) distinct pairs
    piece_sizes = np.bincount(pieces)
    held = np.bincount(region_piece[:, 0], weights=piece_sizes[region_piece[:, 1]], minlength=regions.max() + 1)
    whole = held == np.bincount(regions, minlength=regions.max() + 1)
    members = {}
    for region, piece in region_piece:
        members.setdefault(int(region), set()).add(int(piece))
    share = np.array([bool(members[int(p)] & members[int(q)]) for p, q in pairs], bool)
    return share | (whole[pairs[:, 0]] & whole[pairs[:, 1]])


def _hidden_in(union: np.ndarray, covering: np.ndarray | None, pieces: np.ndarray | None) -> np.ndarray:
    """(n,) bool: vertices hidden inside a piece most of whose vertices are in the (n,) bool ``union``."""
    if covering is None:
        return np.zeros(len(union), bool)
    share = np.bincount(pieces[union], minlength=pieces.max() + 1) / np.bincount(pieces)
    return (covering >= 0) & (share[np.maximum(covering, 0)] > 0.5)


@dataclass
class BridgeVeto:
    """Refuses a merge whose union bridges far more empty space than either region alone.

    Two handles of a pair of pliers each lie straight, but the two side by side form a V: the concavity
    of their union is several times either one's, where two pieces of one finger or a torso's fragments
    stay about as convex together as apart. A merge is refused when the union's concavity exceeds
    ``ratio`` times the larger of the two regions' own (at least ``floor``, the resolution's floor).
    With ``side`` (the solid's, ``SolidSide``) the ratio must also be exceeded by the concavity of hull
    points outside the solid only. Each measure alone is fooled somewhere: the whole hull counts a cap's
    own flat base (a sphere's k-means fragments would be kept apart at a ratio of 1.7); the outside points
    alone miss nothing there, but a few over a flat face (offset patches of a table top) still count where
    the side test is a coin toss, so the side keeps a margin and both must agree; a V bridges empty space by both
    (docs/design.md "Two sides of one wall, and the bridge veto judged
    outside the solid").
    vertices: (n, 3) unit-cube positions; regions are given as (n,) bool masks. Concavities are measured
    on at most ``VETO_POINTS`` vertices drawn with ``seed`` (union and parts alike, so their ratio keeps
    its meaning); each region's own is computed once (``region_identity``).
    """

    vertices: np.ndarray
    ratio: float
    floor: float
    seed: int
    side: SolidSide | None = None
    _own: dict[tuple[int, int, bool], float] = field(default_factory=dict, init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)
    _points: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        count = len(self.vertices)
        self._points = np.arange(count) if count <= VETO_POINTS else \
            np.sort(self._rng.choice(count, VETO_POINTS, replace=False))

    def __call__(self, first: np.ndarray, second: np.ndarray) -> bool:
        sides = (None,) if self.side is None else (None, self.side)
        return all(self._bridges(first, second, side) for side in sides)

    def _bridges(self, first: np.ndarray, second: np.ndarray, side: SolidSide | None) -> bool:
        union = self._measure(first | second, side)
        return union > self.ratio * max(self._concavity(first, side), self._concavity(second, side), self.floor)

    def _concavity(self, members: np.ndarray, side: SolidSide | None) -> float:
        key = (*region_identity(members), side is None)
        if key not in self._own:
            self._own[key] = self._measure(members, side)
        return self._own[key]

    def _measure(self, members: np.ndarray, side: SolidSide | None) -> float:
        points = self.vertices[self._points[members[self._points]]]
        if len(points) < 4:
            return 0.0
        return concavity(points, self._rng, outside=None if side is None else side.around(members))
