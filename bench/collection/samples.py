"""Training samples of collection shapes: points near the surface and in the volume, with exact distances."""

from __future__ import annotations

import numpy as np

from engine.mesh.sampling import training_points

from .shapes import SPLITS, CollectionShape, collection_shape

BAND_SIGMAS = (0.002, 0.01, 0.04)
UNIFORM_FRACTION = 0.15
BOUND = 0.6


def shape_samples(shape: CollectionShape, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(count, 3) float32 points and their (count,) float32 signed distances to ``shape``.

    Points are drawn as the engine's own fit draws them (``engine.mesh.sampling.training_points``: Gaussian
    bands around a marching-cubes surface, plus a uniform share); distances are the analytic SDF's.
    """
    vertices, faces = shape.mesh()
    points = training_points(vertices, faces, count, BAND_SIGMAS, UNIFORM_FRACTION, BOUND, rng)
    return points, shape.sdf(points.astype(np.float64)).astype(np.float32)


def collection_samples(seed: int, split: str, shapes: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples of the first ``shapes`` shapes of ``split``: points (s, count, 3) and distances (s, count)."""
    points = np.empty((shapes, count, 3), dtype=np.float32)
    distances = np.empty((shapes, count), dtype=np.float32)
    for index in range(shapes):
        rng = np.random.default_rng([seed, SPLITS[split], index, 7])
        points[index], distances[index] = shape_samples(collection_shape(seed, split, index), count, rng)
    return points, distances
