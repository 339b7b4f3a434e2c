"""How thick the solid is under each surface point, read from the fitted field.

From each vertex the field is sampled inwards along the normal. Two readings
come from the same samples:
- the diameter: where the field turns positive again, the far side of the solid
  (a shape diameter as Shapira et al. 2008, who cast rays against the mesh);
- the radius: the largest depth (-field) before that exit, the radius of the
  largest ball under the vertex along the ray. The fit learns distances only
  up to its clamp (``FitSettings.clamp``, 0.1 of the unit cube), so the radius
  tells thin parts apart and reads about the clamp on anything thicker.
A finger is thin and a palm thick in both readings; a limb and the torso it
hangs from differ although nothing folds where they meet, so a change of
thickness across a boundary is a cut cue where creases are missing (organic
shapes). Each reading alone also changes inside one box: the diameter between
faces of different depth, the radius towards every edge; ``engine.segment``
uses the smaller of the two changes. The field is closed even where the mesh
is open or a soup, so no ray escapes through a hole.
"""

from __future__ import annotations

import numpy as np
import torch

from ..mesh.graph import vertex_normals
from .model import SDFDecoder
from .probing import evaluate

STEPS = 32  # samples along each ray, geometric from NEAREST to FARTHEST
NEAREST = 0.002  # unit-cube lengths: below the finest wall the balanced field resolves
FARTHEST = 1.0  # the unit cube's side: no solid is thicker
VERTEX_CHUNK = 16384  # vertices per block: STEPS x VERTEX_CHUNK points at a time (about 6 MB)
SAMPLED_VERTICES = 8192  # at most this many vertices are read: regions compare by means, not per vertex


def surface_thickness(model: SDFDecoder, vertices: np.ndarray, faces: np.ndarray, device: torch.device,
                      seed: int, limit: int = SAMPLED_VERTICES) -> np.ndarray:
    """(n, 2) float32: per vertex, the solid's diameter and radius along the inward normal (module docstring).

    vertices: (n, 3) unit-cube positions on the surface, faces: (m, 3). At most ``limit`` vertices,
    drawn with ``seed``, are read; the others' rows are NaN. Normals come from the faces and are turned
    to point out of the field (its value rises along them), so the mesh's winding does not matter.
    Readings lie in [NEAREST / 2, FARTHEST]: a ray that never leaves the solid has the diameter
    ``FARTHEST``; a wall thinner than the first step has the diameter ``NEAREST``.
    """
    steps = np.geomspace(NEAREST, FARTHEST, STEPS)
    read = np.arange(len(vertices)) if len(vertices) <= limit else \
        np.sort(np.random.default_rng(seed).choice(len(vertices), limit, replace=False))
    normals = vertex_normals(vertices, faces)[read]
    normals = outward_normals(model, vertices[read], normals, device)
    thickness = np.full((len(vertices), 2), np.nan, np.float32)
    for start in range(0, len(read), VERTEX_CHUNK):
        rows = read[start:start + VERTEX_CHUNK]
        points = vertices[None, rows] - steps[:, None, None] * normals[None, start:start + len(rows)]  # (STEPS, k, 3)
        values = evaluate(model, points.reshape(-1, 3), device)[:, 0].reshape(STEPS, -1)
        thickness[rows, 0] = first_exit(values, steps)
        thickness[rows, 1] = deepest_before_exit(values)
    return np.clip(thickness, NEAREST / 2, FARTHEST)


def first_exit(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(k,) where each column of (STEPS, k) field ``values`` at distances ``steps`` first turns from
    negative to non-negative, linearly interpolated between the two samples; ``steps[-1]`` where it stays
    negative, ``steps[0]`` where it is never negative (a wall thinner than the first step)."""
    inside = values < 0.0
    crossed, after = _exits(inside)
    before = np.maximum(after - 1, 0)
    columns = np.arange(values.shape[1])
    below, above = values[before, columns], values[after, columns]
    fraction = np.clip(-below / np.maximum(above - below, 1e-12), 0.0, 1.0)
    exit_distance = np.where(crossed, steps[before] + fraction * (steps[after] - steps[before]), steps[-1])
    return np.where(inside.any(axis=0), exit_distance, steps[0])


def deepest_before_exit(values: np.ndarray) -> np.ndarray:
    """(k,) the largest -value of each column of (STEPS, k) ``values`` before its first exit (0 if none)."""
    inside = values < 0.0
    crossed, after = _exits(inside)
    before_exit = np.arange(len(values))[:, None] < np.where(crossed, after, len(values))[None, :]
    return np.maximum(np.where(before_exit, -values, 0.0).max(axis=0), 0.0)


def _exits(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of (STEPS, k) bool ``inside``: whether it leaves after having been inside, and the first
    sample outside again (the last row where it does not)."""
    left = np.maximum.accumulate(inside, axis=0) & ~inside
    crossed = left.any(axis=0)
    return crossed, np.where(crossed, left.argmax(axis=0), len(inside) - 1)


def outward_normals(model: SDFDecoder, vertices: np.ndarray, normals: np.ndarray, device: torch.device) -> np.ndarray:
    """(n, 3) ``normals`` flipped where the field falls along them (a face wound the other way)."""
    ahead = evaluate(model, vertices + NEAREST * normals, device)[:, 0]
    behind = evaluate(model, vertices - NEAREST * normals, device)[:, 0]
    return np.where((ahead >= behind)[:, None], normals, -normals)
