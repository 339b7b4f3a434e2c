"""k-means (k-means++ seeding, then Lloyd's iterations) on a small embedding.

Written out rather than taken from scikit-learn: importing ``sklearn.cluster``
costs 1.1 s of every engine start on this machine (docs/design.md, "Speed"),
and the spectral embedding needs only the plain algorithm.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.cluster.vq import vq

MAX_ITERATIONS = 60  # snowman embedding: inertia 7.603 after 40 Lloyd steps, 7.567 after 300
TOLERANCE = 1e-4


def kmeans(points: np.ndarray, count: int, seed: int, max_iterations: int = MAX_ITERATIONS,
           tolerance: float = TOLERANCE) -> np.ndarray:
    """(n,) int64 cluster of each of the (n, d) points, ``count`` clusters (fewer only if points repeat).

    Seeds by k-means++ (Arthur and Vassilvitskii 2007) from a generator seeded
    with ``seed``, then alternates assignment and centroid updates until no
    point changes cluster, the centroids move less than ``tolerance`` times the
    points' mean variance (squared, summed: scikit-learn's rule), or
    ``max_iterations`` pass. A cluster left empty keeps its centroid.
    """
    points = np.asarray(points, dtype=np.float64)
    centroids = plus_plus_seeds(points, count, np.random.default_rng(seed))
    single = points.astype(np.float32)  # the assignment step in single precision: half the time
    labels = nearest_centroid(single, centroids)
    settled = tolerance * float(points.var(axis=0).mean())
    for _ in range(max_iterations):
        membership = sparse.csr_matrix((np.ones(len(points)), (labels, np.arange(len(points)))),
                                       shape=(len(centroids), len(points)))
        sizes, sums = np.asarray(membership.sum(axis=1)).ravel(), membership @ single
        filled = sizes > 0
        previous = centroids.copy()
        centroids[filled] = sums[filled] / sizes[filled, None]
        updated = nearest_centroid(single, centroids)
        if np.array_equal(updated, labels) or ((centroids - previous) ** 2).sum() <= settled:
            return updated.astype(np.int64)
        labels = updated
    return labels.astype(np.int64)


def plus_plus_seeds(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, d) initial centroids by greedy k-means++ (scikit-learn's seeding; points: (n, d), n >= 1).

    Each next centroid is the best, by the summed squared distance it leaves,
    of ``2 + log(count)`` candidates drawn with probability proportional to the
    squared distance to the nearest centroid chosen so far.
    """
    count = min(count, len(points))
    trials = 2 + int(np.log(max(count, 1)))
    norms = (points**2).sum(axis=1)

    def squared_distances(rows: np.ndarray) -> np.ndarray:  # (r,) rows -> (r, n)
        return np.maximum(norms[rows, None] - 2.0 * points[rows] @ points.T + norms[None, :], 0.0)

    chosen = [int(rng.integers(len(points)))]
    nearest = squared_distances(np.array(chosen))[0]
    for _ in range(1, count):
        total = nearest.sum()
        if total <= 0.0:  # every point coincides with a chosen one
            break
        candidates = np.minimum(np.searchsorted(np.cumsum(nearest), rng.random(trials) * total), len(points) - 1)
        distances = np.minimum(nearest[None, :], squared_distances(candidates))
        best = int(distances.sum(axis=1).argmin())
        chosen.append(int(candidates[best]))
        nearest = distances[best]
    return points[chosen].copy()


def nearest_centroid(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(n,) index of the nearest of the (k, d) centroids to each of the (n, d) points (in float32)."""
    return vq(points.astype(np.float32), centroids.astype(np.float32), check_finite=False)[0]
