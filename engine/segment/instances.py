"""WHERE: split surface types into instances by mesh connectivity.

Each type's vertex subgraph is split into connected components (scipy sparse
graphs); fragments below a size threshold are merged into the neighbouring
region they share the most edges with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..mesh.graph import adjacency

BOUNDARY_PRIOR_EDGES = 10


def split_into_instances(labels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(n,) type labels -> (n,) region labels, one per connected piece of each type.

    edges: (e, 2) mesh edges. Region ids are 0..r-1 in order of first vertex.
    """
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    graph = adjacency(edges[same], len(labels))
    _, regions = connected_components(graph, directed=False)
    return renumber(regions)


def piece_contacts(vertices: np.ndarray, edges: np.ndarray, distance: float) -> np.ndarray:
    """(c, 2) vertex pairs closer than ``distance`` that lie on different connected pieces.

    vertices: (n, 3), edges: (e, 2). Where a kitbashed asset's closed pieces touch or cross (a screw sunk
    into a board, boards laid side by side) their vertices come this close; these pairs let merging
    steps see the contact. Splitting into instances never uses them, so touching alone fuses nothing.
    Empty for a mesh in one piece.
    """
    count, piece = connected_components(adjacency(edges, len(vertices)), directed=False)
    if count == 1:
        return np.empty((0, 2), dtype=np.int64)
    pairs = cKDTree(vertices).query_pairs(distance, output_type="ndarray").astype(np.int64)
    return pairs[piece[pairs[:, 0]] != piece[pairs[:, 1]]]


def merge_small_regions(regions: np.ndarray, edges: np.ndarray, min_size: int) -> np.ndarray:
    """Merge every region smaller than ``min_size`` vertices into a neighbour.

    Each fragment goes into the adjacent region it shares the most edges
    with; fragments whose best neighbour is itself a fragment wait until that
    one has moved (or, if all remaining fragments only touch fragments, the
    smallest moves first). Regions with no neighbour (loose pieces) are kept.
    Returns (n,) renumbered region labels.
    """
    regions = regions.copy()
    while True:
        sizes = np.bincount(regions)
        contact = _region_contacts(regions, edges, len(sizes))
        small = (sizes > 0) & (sizes < min_size) & (contact.getnnz(axis=1) > 0)
        if not small.any():
            return renumber(regions)
        best = np.asarray(contact.argmax(axis=1)).ravel()
        move = small & ~small[best]
        if not move.any():
            move = np.zeros_like(small)
            move[np.flatnonzero(small)[np.argmin(sizes[small])]] = True
        target = np.arange(len(sizes))
        target[move] = best[move]
        regions = target[regions]


def merge_across_weak_cuts(
    regions: np.ndarray,
    edges: np.ndarray,
    weights: np.ndarray,
    threshold: float = -np.inf,
    target: int = 1,
    thickness: RegionThickness | None = None,
    refuse: Callable[[np.ndarray, np.ndarray], bool] | None = None,
) -> np.ndarray:
    """Merge adjacent regions whose boundary is not a cut, highest affinity first.

    The mean edge weight along each shared boundary measures how connected
    two regions are; ``BOUNDARY_PRIOR_EDGES`` zero-weight pseudo-edges are
    added to every boundary so that regions touching at a few edges (a
    corner, a point) do not merge on that thin evidence. With ``thickness``
    the affinity is also lowered where the solid under the two regions is of
    different thickness (``RegionThickness.affinity``): a finger on a palm.
    ``refuse(first, second)``, given two regions as (n,) bool masks, may veto a
    merge (``engine.segment.convexity.BridgeVeto``); the next pair in order is
    tried, and a refused pair is not asked again while both regions are unchanged.
    Merging stops when no boundary's score exceeds ``threshold`` or when
    ``target`` regions remain. Loose pieces never merge. Returns (n,) renumbered labels.
    """
    regions = regions.copy()
    refused: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    while regions.max() + 1 > target:
        pairs, edge_pair = boundary_pairs(regions, edges)
        if len(pairs) == 0:
            break
        crossing = edge_pair >= 0
        sums = np.bincount(edge_pair[crossing], weights[crossing], minlength=len(pairs))
        counts = np.bincount(edge_pair[crossing], minlength=len(pairs))
        mean_weight = sums / (counts + BOUNDARY_PRIOR_EDGES)
        if thickness is not None:
            mean_weight = mean_weight * thickness.affinity(regions, pairs)
        merged = None
        for index in np.argsort(-mean_weight, kind="stable"):
            if mean_weight[index] <= threshold:
                break
            first, second = regions == pairs[index, 0], regions == pairs[index, 1]
            if refuse is not None:
                key = (region_identity(first), region_identity(second))
                if key in refused:
                    continue
                if refuse(first, second):
                    refused.add(key)
                    continue
            merged = np.where(second, pairs[index, 0], regions)
            break
        if merged is None:
            break
        regions = renumber(merged)
    return regions


def region_identity(members: np.ndarray) -> tuple[int, int]:
    """A region as (its first vertex, its size): regions are disjoint and only grow, so this names it."""
    return int(np.argmax(members)), int(members.sum())


@dataclass(frozen=True)
class RegionThickness:
    """The solid's thickness under the surface, compared between regions.

    log_thickness: (n, 2) log of each vertex's diameter and radius (``engine.field.thickness``), NaN
    where not read; areas: (n,) vertex areas, so a region's thickness is the area-weighted mean over its
    read vertices (a region with none read has no thickness and is not compared);
    scale: the difference of two regions' thickness at which their affinity falls to 1/e. The
    difference is the smaller of the two readings' (a box's faces differ in diameter, its rims in
    radius; a finger and a palm in both).
    """

    log_thickness: np.ndarray
    areas: np.ndarray
    scale: float

    def affinity(self, regions: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """(p,) in (0, 1]: exp(-(the pair's difference of thickness / scale)^2) per (p, 2) pair."""
        count = regions.max() + 1
        read = np.isfinite(self.log_thickness[:, 0])
        area = np.bincount(regions[read], self.areas[read], minlength=count)
        mean = np.stack([np.bincount(regions[read], self.areas[read] * reading, minlength=count) for reading in
                         self.log_thickness[read].T], axis=1) / np.maximum(area, 1e-30)[:, None]  # (count, 2)
        difference = np.abs(mean[pairs[:, 0]] - mean[pairs[:, 1]]).min(axis=1)
        compared = (area[pairs[:, 0]] > 0) & (area[pairs[:, 1]] > 0)
        return np.where(compared, np.exp(-((difference / self.scale) ** 2)), 1.0)


def boundary_pairs(regions: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adjacent region pairs (p, 2) sorted low-high, and per edge (e,) the index of its pair or -1."""
    a, b = regions[edges[:, 0]], regions[edges[:, 1]]
    cross = a != b
    keys = np.sort(np.stack([a[cross], b[cross]], axis=1), axis=1)
    pairs, inverse = np.unique(keys, axis=0, return_inverse=True)
    edge_pair = np.full(len(edges), -1, dtype=np.int64)
    edge_pair[cross] = inverse.reshape(-1)
    return pairs.reshape(-1, 2), edge_pair


def _region_contacts(regions: np.ndarray, edges: np.ndarray, count: int) -> sp.csr_matrix:
    """(r, r) count of mesh edges between each pair of different regions."""
    a, b = regions[edges[:, 0]], regions[edges[:, 1]]
    cross = a != b
    contact = adjacency(np.stack([a[cross], b[cross]], axis=1), count)
    contact.sum_duplicates()
    return contact


def renumber(labels: np.ndarray) -> np.ndarray:
    """(n,) int labels -> (n,) int64 relabelled 0..k-1 in order of first occurrence."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.reshape(-1)].astype(np.int64)
