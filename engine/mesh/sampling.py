"""Training points for the SDF fit: multi-band near-surface plus uniform volume."""

from __future__ import annotations

import numpy as np


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(m,) float: area of each triangle."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 3) float: points uniform by area on the triangles."""
    areas = face_areas(vertices, faces)
    chosen = rng.choice(len(faces), size=count, p=areas / areas.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1.0
    u[flip], v[flip] = 1.0 - u[flip], 1.0 - v[flip]
    a, b, c = (vertices[faces[chosen, i]] for i in range(3))
    return a + u[:, None] * (b - a) + v[:, None] * (c - a)


def training_points(
    vertices: np.ndarray,
    faces: np.ndarray,
    count: int,
    band_sigmas: tuple[float, ...],
    uniform_fraction: float,
    bound: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """(count, 3) float32 query points in unit-cube coordinates.

    ``uniform_fraction`` of them are uniform in ``[-bound, bound]^3``; the rest
    are surface points displaced by isotropic Gaussian noise, split evenly over
    the standard deviations in ``band_sigmas`` (a tight band resolves thin
    features, wide bands shape the field around the surface).
    """
    uniform_count = int(round(count * uniform_fraction))
    near_count = count - uniform_count
    surface = sample_surface(vertices, faces, near_count, rng)
    sigmas = np.asarray(band_sigmas)[np.arange(near_count) % len(band_sigmas)]
    near = surface + rng.normal(size=(near_count, 3)) * sigmas[:, None]
    uniform = rng.uniform(-bound, bound, size=(uniform_count, 3))
    points = np.concatenate([near, uniform]).astype(np.float32)
    return points[rng.permutation(count)]
