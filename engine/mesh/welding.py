"""Welding by position: a triangle soup becomes a connected mesh for connectivity and fitting.

Pieces that are closed on their own (a kitbashed asset's separate boards, bolts and rails, each a
closed surface by its own faces) are welded only within themselves: where two such pieces touch,
their coincident vertices stay apart, so no part is fused with a neighbour just because they touch.
Open pieces (UV islands split at seams, triangle soups) weld with everything at their position.

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
    """Merge vertices at the same position (within tolerance x bounding-box diagonal), except
    across two pieces that are each closed on their own (module docstring).

    Triangle soups (STL, many OBJ exports) become connected. Faces that
    collapse to an edge or a point after welding, or have no area, are dropped. Vertices on no
    (kept) face are left out of the welded mesh and map to the nearest
    welded vertex, so they take its label and do not stretch the normalisation.
    """
    diagonal = float(np.linalg.norm(vertices.max(axis=0) - vertices.min(axis=0)))
    step = max(diagonal * relative_tolerance, np.finfo(np.float64).tiny)
    positions = np.round((vertices - vertices.min(axis=0)) / step).astype(np.int64)
    keys = np.column_stack([closed_piece_of_vertex(positions, faces), positions])
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


def closed_piece_of_vertex(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(n,) int64: for each vertex, its piece's id when that piece is closed on its own, else -1.

    positions: (n, 3) int64 quantised positions; faces: (m, 3). A piece is a connected component of
    the faces as indexed; it is closed when, welded within itself, each of its edges joins exactly
    two of its non-degenerate faces. A mesh of one piece, or of open pieces only, welds as one.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(positions)
    links = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    count, piece = connected_components(coo_matrix((np.ones(len(links), np.int8), (links[:, 0], links[:, 1])),
                                                   shape=(n, n)), directed=False)
    on_faces = np.unique(piece[faces[:, 0]])
    if len(on_faces) <= 1:
        return np.zeros(n, dtype=np.int64)
    _, local = np.unique(np.column_stack([piece, positions]), axis=0, return_inverse=True)
    local_faces = local.reshape(-1)[faces]
    proper = ((local_faces[:, 0] != local_faces[:, 1]) & (local_faces[:, 1] != local_faces[:, 2])
              & (local_faces[:, 0] != local_faces[:, 2]))
    local_faces = local_faces[proper]
    face_piece = piece[faces[proper, 0]]
    ends = np.sort(np.concatenate([local_faces[:, [0, 1]], local_faces[:, [1, 2]], local_faces[:, [2, 0]]]), axis=1)
    edge_keys = ends[:, 0] * (int(local.max()) + 1) + ends[:, 1]
    edge_ids, first, shared = np.unique(edge_keys, return_index=True, return_counts=True)
    edge_piece = np.tile(face_piece, 3)[first]
    open_pieces = np.unique(edge_piece[shared != 2])
    closed = np.zeros(count, dtype=bool)
    closed[np.unique(face_piece)] = True
    closed[open_pieces] = False
    return np.where(closed[piece], piece, -1).astype(np.int64)
