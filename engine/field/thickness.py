"""How thick the solid is under each surface point, read from the fitted field.

A shape diameter (Shapira et al. 2008 cast rays against the mesh; here the
field answers): from each vertex, walk inwards along the normal and find where
the field turns positive again, the far side of the solid (interpolated between samples). A finger is thin
and a palm thick; a limb and the torso it hangs from differ although nothing
folds where they meet, so the change of thickness across a boundary is a cut
cue where creases are missing (organic shapes). The field is closed even where
the mesh is open or a soup, so no ray can escape through a hole.
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


def shape_diameter(model: SDFDecoder, vertices: np.ndarray, faces: np.ndarray, device: torch.device) -> np.ndarray:
    """(n,) float32: distance along each vertex's inward normal to where the field turns positive again.

    vertices: (n, 3) unit-cube positions on the surface, faces: (m, 3). Normals come from the faces
    and are turned to point out of the field (its value rises along them), so the mesh's winding
    does not matter. A ray that never leaves the solid within ``FARTHEST`` gets ``FARTHEST``; a wall
    thinner than ``NEAREST`` gets ``NEAREST``.
    """
    steps = np.geomspace(NEAREST, FARTHEST, STEPS)
    normals = outward_normals(model, vertices, vertex_normals(vertices, faces), device)
    diameters = np.empty(len(vertices), np.float32)
    for start in range(0, len(vertices), VERTEX_CHUNK):
        rows = slice(start, start + VERTEX_CHUNK)
        points = vertices[None, rows] - steps[:, None, None] * normals[None, rows]  # (STEPS, k, 3)
        values = evaluate(model, points.reshape(-1, 3), device)[:, 0].reshape(STEPS, -1)
        diameters[rows] = first_exit(values, steps)
    return diameters


def first_exit(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(k,) where each column of (STEPS, k) field ``values`` at distances ``steps`` first turns from
    negative to non-negative, linearly interpolated between the two samples; ``steps[-1]`` where it stays
    negative, ``steps[0]`` where it is never negative (a wall thinner than the first step)."""
    inside = values < 0.0
    left = np.maximum.accumulate(inside, axis=0) & ~inside  # outside again after having been inside
    crossed = left.any(axis=0)
    after = np.where(crossed, left.argmax(axis=0), len(steps) - 1)
    before = np.maximum(after - 1, 0)
    columns = np.arange(values.shape[1])
    below, above = values[before, columns], values[after, columns]
    fraction = np.clip(-below / np.maximum(above - below, 1e-12), 0.0, 1.0)
    exit_distance = np.where(crossed, steps[before] + fraction * (steps[after] - steps[before]), steps[-1])
    return np.where(inside.any(axis=0), exit_distance, steps[0])


def outward_normals(model: SDFDecoder, vertices: np.ndarray, normals: np.ndarray, device: torch.device) -> np.ndarray:
    """(n, 3) ``normals`` flipped where the field falls along them (a face wound the other way)."""
    ahead = evaluate(model, vertices + NEAREST * normals, device)[:, 0]
    behind = evaluate(model, vertices - NEAREST * normals, device)[:, 0]
    return np.where((ahead >= behind)[:, None], normals, -normals)
