"""WHAT: grouping parts into types, and naming them.

A part's signature is the log of its three principal standard deviations
(sorted): invariant to where the part is and how it is turned, so the eight
balusters of a railing, or four table legs, share a type.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

SAME_TYPE_LOG_DISTANCE = 0.2  # about 20 % difference in every principal size
ELONGATION = 2.5


def part_signatures(vertices: np.ndarray, part_labels: np.ndarray) -> np.ndarray:
    """(p, 3) float: log principal standard deviations of each part's vertices, largest first."""
    signatures = []
    for part in range(part_labels.max() + 1):
        points = vertices[part_labels == part]
        centred = points - points.mean(axis=0)
        spread = np.sqrt(np.maximum(np.linalg.eigvalsh(centred.T @ centred / max(len(points), 1)), 1e-12))
        signatures.append(np.log(spread[::-1]))
    return np.array(signatures)


def group_types(vertices: np.ndarray, part_labels: np.ndarray, count: int | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Type of each part (p,) int and a name per type.

    ``count`` forces the number of types (capped at the number of parts);
    otherwise parts whose signatures differ by less than
    ``SAME_TYPE_LOG_DISTANCE`` (Chebyshev, complete linkage) share a type.
    """
    signatures = part_signatures(vertices, part_labels)
    parts = len(signatures)
    if parts == 1:
        types = np.zeros(1, dtype=np.int64)
    else:
        tree = linkage(signatures, method="complete", metric="chebyshev")
        if count is not None:
            types = fcluster(tree, t=min(count, parts), criterion="maxclust")
        else:
            types = fcluster(tree, t=SAME_TYPE_LOG_DISTANCE, criterion="distance")
        _, first = np.unique(types, return_index=True)
        order = {label: rank for rank, label in enumerate(types[np.sort(first)])}
        types = np.array([order[t] for t in types], dtype=np.int64)
    names = _type_names([signatures[types == t].mean(axis=0) for t in range(types.max() + 1)])
    return types, names


def _type_names(signatures: list[np.ndarray]) -> tuple[str, ...]:
    """'Rod', 'Panel' or 'Body' by the ratios of principal sizes; repeats get a letter."""
    names, seen = [], {}
    for signature in signatures:
        sizes = np.exp(signature)
        if sizes[0] > ELONGATION * sizes[1]:
            base = "Rod"
        elif sizes[1] > ELONGATION * sizes[2]:
            base = "Panel"
        else:
            base = "Body"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} {chr(ord('A') + seen[base] - 1)}")
    return tuple(names)
