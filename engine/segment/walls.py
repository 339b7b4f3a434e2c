"""Two sides of one wall are one part.

A cup's inside and outside, a seat's top and bottom, a wing's upper and lower skin: the surface on
each side of a thin wall belongs to the solid between them. Nothing on the surface says so (the rim
between them is a convex crease, the halves are far apart in the activations' view), but the
field does: the inward ray from a vertex leaves the solid on the wall's other side
(``engine.field.thickness``, the diameter), and the vertex found there names the region that faces
it. A region most of whose surface looks through the solid at one other region, across a distance
shorter than its radius (half its width), is that region's other side and joins it. A limb or a
handle sees itself across; a nose on a head sees the back of the head, but from farther away than
the nose is wide.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..field.thickness import FARTHEST
from .instances import renumber


def far_side_vertices(vertices: np.ndarray, normals: np.ndarray, diameter: np.ndarray) -> np.ndarray:
    """(n,) int: the vertex nearest to where each vertex's inward ray leaves the solid, -1 where not read.

    vertices: (n, 3); normals: (n, 3) outward vertex normals (``engine.mesh.graph.vertex_normals`` of
    faces wound outward, as the engine winds every mesh, ``engine.mesh.orientation``); diameter: (n,)
    distance along the inward normal to the far side (``engine.field.thickness``), NaN where not read; a
    ray that never left the solid (``FARTHEST``) is not followed.
    """
    read = np.flatnonzero(np.isfinite(diameter) & (diameter < FARTHEST))
    far = np.full(len(vertices), -1, np.int64)
    if len(read):
        exits = vertices[read] - diameter[read, None] * normals[read]
        far[read] = cKDTree(vertices).query(exits)[1]
    return far


def merge_wall_sides(regions: np.ndarray, far_side: np.ndarray, diameter: np.ndarray, areas: np.ndarray,
                     share: float) -> np.ndarray:
    """Merge each region into the one on its wall's other side (module docstring), most evident first.

    regions: (n,) labels; far_side: (n,) from ``far_side_vertices``; diameter: (n,) as read there;
    areas: (n,) vertex areas. A region joins region B when at least ``share`` of its read area
    (vertices with a far side) looks into B, and the mean distance across is below its radius
    (sqrt(area / pi)). One merge at a time, the largest share first; shares are read again after each.
    Returns (n,) labels renumbered 0..r-1.
    """
    regions = renumber(regions)
    read = np.flatnonzero(far_side >= 0)
    weight, across = areas[read], areas[read] * diameter[read]
    while True:
        count = int(regions.max()) + 1
        pair = regions[read] * count + regions[far_side[read]]
        seen = np.bincount(pair, weight, minlength=count * count).reshape(count, count)
        distance = np.bincount(pair, across, minlength=count * count).reshape(count, count) / np.maximum(seen, 1e-30)
        fraction = seen / np.maximum(seen.sum(axis=1, keepdims=True), 1e-30)
        np.fill_diagonal(fraction, -1.0)  # a region never joins itself, whatever the share
        radius = np.sqrt(np.bincount(regions, areas, minlength=count) / np.pi)
        joins = (fraction >= share) & (distance < radius[:, None])
        if not joins.any():
            return regions
        side, other = np.unravel_index(np.argmax(np.where(joins, fraction, -1.0)), fraction.shape)
        regions = renumber(np.where(regions == side, other, regions))
