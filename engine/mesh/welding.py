"""Welding by position: a triangle soup becomes a connected mesh for connectivity and fitting.

Vertices are never reordered: labels computed on the welded mesh are mapped
back to the caller's vertices through ``WeldedMesh.input_to_welded``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BadInputError


@dataclass(frozen=True)
class WeldedMesh:
    """A triangle mesh welded by position, for connectivity and fitting.

    vertices: (u, 3) float64 unique positions.
    faces: (m, 3) int64 indices into ``vertices`` (degenerate faces removed).
    input_to_welded: (n,) int64, the welded vertex of each input vertex.
    """

    vertices: np.ndarray
    faces: np.ndarray
    input_to_welded: np.ndarray


def weld(vertices: np.ndarray, faces: np.ndarray, relative_tolerance: float = 1e-7) -> WeldedMesh:
    """Merge vertices at the same position (within tolerance x bounding-box diagonal).

    Triangle soups (STL, many OBJ exports) become connected. Faces that
    collapse to an edge or a point after welding, or have no area, are dropped. Vertices on no
    (kept) face are left out of the welded mesh and map to the nearest
    welded vertex, so they take its label and do not stretch the normalisation.
    """
    diagonal = float(np.linalg.norm(vertices.max(axis=0) - vertices.min(axis=0)))
    step = max(diagonal * relative_tolerance, np.finfo(np.float64).tiny)
    keys = np.round((vertices - vertices.min(axis=0)) / step).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    welded_faces = inverse[faces]
    corners = vertices[faces]
    doubled_areas = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    keep = (
        (welded_faces[:, 0] != welded_faces[:, 1])
        & (welded_faces[:, 1] != welded_faces[:, 2])
        & (welded_faces[:, 0] != welded_faces[:, 2])
        & (doubled_areas > (diagonal * relative_tolerance) ** 2)
    )
    if not keep.any():
        raise BadInputError("every face is degenerate (zero area) after welding")
    unique_vertices, welded_faces = vertices[first], welded_faces[keep]
    used = np.zeros(len(unique_vertices), bool)
    used[welded_faces] = True
    if used.all():
        return WeldedMesh(vertices=unique_vertices, faces=welded_faces, input_to_welded=inverse)
    from scipy.spatial import cKDTree

    renumber = np.cumsum(used) - 1
    renumber[~used] = cKDTree(unique_vertices[used]).query(unique_vertices[~used])[1]
    return WeldedMesh(vertices=unique_vertices[used], faces=renumber[welded_faces], input_to_welded=renumber[inverse])
