"""Training samples of collection shapes: points near the surface and in the volume, with exact distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.mesh.sampling import training_points

from .shapes import SPLITS, CollectionShape, collection_shape

SAMPLES_VERSION = 1
"""Bump when the collection or the sampling changes: cached samples of another version are not read."""
SAMPLES_CACHE = Path.home() / ".cache" / "partsdf" / "collection"
"""Where the training commands keep the collection's samples (about 260 MB for 1,000 shapes)."""
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


def collection_samples(seed: int, split: str, shapes: int, count: int, cache: Path | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Samples of the first ``shapes`` shapes of ``split``: points (s, count, 3) and distances (s, count).

    With ``cache`` (a folder) they are kept there as one .npz per request and read back the next time.
    """
    if cache is not None:
        path = Path(cache) / f"samples_v{SAMPLES_VERSION}_{seed}_{split}_{shapes}x{count}.npz"
        if path.is_file():
            stored = np.load(path)
            return stored["points"], stored["distances"]
        points, distances = collection_samples(seed, split, shapes, count)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(".partial.npz")
        np.savez(staging, points=points, distances=distances)
        staging.replace(path)
        return points, distances
    points = np.empty((shapes, count, 3), dtype=np.float32)
    distances = np.empty((shapes, count), dtype=np.float32)
    for index in range(shapes):
        rng = np.random.default_rng([seed, SPLITS[split], index, 7])
        points[index], distances[index] = shape_samples(collection_shape(seed, split, index), count, rng)
    return points, distances
