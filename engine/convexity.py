"""Approximate convexity of surface regions (CoACD's concavity, on vertex sets).

The concavity of a set of surface points is how deep the deepest point lies
inside the convex hull of the set. Two adjacent regions whose union is
nearly convex (a collar on a rod, a rod on its foot) are one part; a rod
hanging from a slab, or two spheres meeting at a neck, are not.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

MAX_POINTS = 1500


def concavity(points: np.ndarray, rng: np.random.Generator) -> float:
    """Deepest distance of (n, 3) points below their convex hull's surface (0 for a convex set)."""
    if len(points) > MAX_POINTS:
        points = points[rng.choice(len(points), MAX_POINTS, replace=False)]
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        return 0.0  # flat or degenerate: no depth
    offsets = points @ hull.equations[:, :3].T + hull.equations[:, 3]
    return float(-offsets.max(axis=1).min())


def merge_nearly_convex(
    regions: np.ndarray,
    edges: np.ndarray,
    vertices: np.ndarray,
    seed: int,
    threshold: float = np.inf,
    target: int = 1,
) -> np.ndarray:
    """Merge adjacent regions whose union is the most nearly convex, one pair at a time.

    regions: (n,) labels, edges: (e, 2), vertices: (n, 3) unit-cube positions.
    Stops when no adjacent pair's union has concavity below ``threshold`` or
    when ``target`` regions remain. Returns (n,) labels renumbered 0..r-1.
    """
    regions = regions.copy()
    rng = np.random.default_rng(seed)
    cache: dict[tuple[int, int], float] = {}
    while regions.max() + 1 > target:
        a, b = regions[edges[:, 0]], regions[edges[:, 1]]
        cross = a != b
        pairs = np.unique(np.sort(np.stack([a[cross], b[cross]], axis=1), axis=1), axis=0)
        if len(pairs) == 0:
            break
        scores = []
        for p, q in pairs:
            key = (int(p), int(q))
            if key not in cache:
                cache[key] = concavity(vertices[(regions == p) | (regions == q)], rng)
            scores.append(cache[key])
        best = int(np.argmin(scores))
        if scores[best] >= threshold:
            break
        keep, drop = (int(x) for x in pairs[best])
        regions[regions == drop] = keep
        _, regions = np.unique(regions, return_inverse=True)
        cache.clear()
    return regions.reshape(-1).astype(np.int64)
