"""An end that stands on a concave crease is a part of its own.

The convex merge joins adjacent regions whose union is nearly convex: a ball threaded on a baluster, a
box face split by a spurious cut. A shaft's thinner end, a fish's fin or a vase's lid are nearly convex
with what they stand on too, yet where they meet the surface folds inward all round (a concave crease)
and people name them apart. What tells the two apart is where the region lies: a ball on a baluster
has the baluster's rod on both sides, an end touches nothing but the region it stands on. So a merge is
refused when one of the two regions touches no other region and the mean crease weight of their shared
edges is low: their boundary runs along a concave crease (docs/design.md "An end on a crease").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CreaseEndVeto:
    """Refuses merging two regions (given as (n,) bool masks) when one is an end of the other on a crease.

    edges: (e, 2) the mesh's edges; crease_weights: (e,) exp(-(concave angle / crease angle)^2) per edge
    (1 off creases, ``engine.segment.clustering.edge_weights`` of the concave angles alone); touching:
    (t, 2) vertex pairs that make regions neighbours: ``edges`` and the contacts between separate pieces
    (it must hold ``edges``). The merge is refused when the mean crease weight along the two regions'
    shared edges is below ``weight`` and one region has no neighbour but the other. Separate pieces that
    only touch share no edge and are left to the pieces' own rules.
    """

    edges: np.ndarray
    crease_weights: np.ndarray
    touching: np.ndarray
    weight: float

    def __call__(self, first: np.ndarray, second: np.ndarray) -> bool:
        start, end = self.edges[:, 0], self.edges[:, 1]
        shared = (first[start] & second[end]) | (second[start] & first[end])
        if not shared.any() or self.crease_weights[shared].mean() >= self.weight:
            return False
        return self._only_touches(first, second) or self._only_touches(second, first)

    def _only_touches(self, region: np.ndarray, other: np.ndarray) -> bool:
        """Whether every vertex pair leaving the (n,) bool ``region`` lands in ``other``."""
        start, end = self.touching[:, 0], self.touching[:, 1]
        reached = np.concatenate([end[region[start] & ~region[end]], start[region[end] & ~region[start]]])
        return bool(other[reached].all())
