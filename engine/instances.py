"""WHERE: split surface types into instances by mesh connectivity.

Each type's vertex subgraph is split into connected components (scipy sparse
graphs); fragments below a size threshold are merged into the neighbouring
region they share the most edges with.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .graph import adjacency

BOUNDARY_PRIOR_EDGES = 10


def split_into_instances(labels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(n,) type labels -> (n,) region labels, one per connected piece of each type.

    edges: (e, 2) mesh edges. Region ids are 0..r-1 in order of first vertex.
    """
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    graph = adjacency(edges[same], len(labels))
    _, regions = connected_components(graph, directed=False)
    return _renumber(regions)


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
            return _renumber(regions)
        best = np.asarray(contact.argmax(axis=1)).ravel()
        move = small & ~small[best]
        if not move.any():
            move = np.zeros_like(small)
            move[np.flatnonzero(small)[np.argmin(sizes[small])]] = True
        target = np.arange(len(sizes))
        target[move] = best[move]
        regions = target[regions]


def merge_across_weak_cuts(
    regions: np.ndarray, edges: np.ndarray, weights: np.ndarray, threshold: float = -np.inf, target: int = 1
) -> np.ndarray:
    """Merge adjacent regions whose boundary is not a cut, highest affinity first.

    The mean edge weight along each shared boundary measures how connected
    two regions are; ``BOUNDARY_PRIOR_EDGES`` zero-weight pseudo-edges are
    added to every boundary so that regions touching at a few edges (a
    corner, a point) do not merge on that thin evidence. Merging stops when
    no boundary's score exceeds ``threshold`` or when ``target`` regions
    remain. Loose pieces never merge. Returns (n,) renumbered labels.
    """
    regions = regions.copy()
    while regions.max() + 1 > target:
        a, b = regions[edges[:, 0]], regions[edges[:, 1]]
        cross = a != b
        if not cross.any():
            break
        pair_low, pair_high = np.minimum(a[cross], b[cross]), np.maximum(a[cross], b[cross])
        count = regions.max() + 1
        keys = pair_low * count + pair_high
        unique_keys, inverse = np.unique(keys, return_inverse=True)
        mean_weight = np.bincount(inverse, weights[cross]) / (np.bincount(inverse) + BOUNDARY_PRIOR_EDGES)
        best = int(np.argmax(mean_weight))
        if mean_weight[best] <= threshold:
            break
        keep, drop = divmod(int(unique_keys[best]), count)
        regions = _renumber(np.where(regions == drop, keep, regions))
    return regions


def _region_contacts(regions: np.ndarray, edges: np.ndarray, count: int) -> sp.csr_matrix:
    """(r, r) count of mesh edges between each pair of different regions."""
    a, b = regions[edges[:, 0]], regions[edges[:, 1]]
    cross = a != b
    contact = adjacency(np.stack([a[cross], b[cross]], axis=1), count)
    contact.sum_duplicates()
    return contact


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Relabel to 0..k-1 in order of first occurrence."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.reshape(-1)].astype(np.int64)
