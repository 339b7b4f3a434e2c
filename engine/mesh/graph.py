"""The mesh as a graph: unique edges, adjacency and per-vertex areas."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .sampling import face_areas


def unique_edges(faces: np.ndarray) -> np.ndarray:
    """(e, 2) int64 sorted vertex pairs, one per undirected edge of the triangles (m, 3)."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return np.unique(np.sort(edges, axis=1), axis=0)


def adjacency(edges: np.ndarray, count: int, weights: np.ndarray | None = None) -> sp.csr_matrix:
    """(count, count) symmetric sparse matrix with ``weights`` (default 1) on the edges (e, 2)."""
    values = np.ones(len(edges)) if weights is None else weights
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return sp.csr_matrix((np.concatenate([values, values]), (rows, cols)), shape=(count, count))


def vertex_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(n,) float: a third of the area of the triangles around each vertex (lumped mass)."""
    per_face = np.repeat(face_areas(vertices, faces) / 3.0, 3)
    return np.bincount(faces.ravel(), per_face, minlength=len(vertices))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(n, 3) unit area-weighted vertex normals (zero for unused vertices)."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(vertices)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(length, 1e-30)


def piece_ids(edges: np.ndarray, count: int) -> np.ndarray:
    """(count,) int: the connected piece of each vertex, for the mesh edges (e, 2)."""
    from scipy.sparse.csgraph import connected_components

    return connected_components(adjacency(edges, count), directed=False)[1]


def covering_pieces(vertices: np.ndarray, faces: np.ndarray, pieces: np.ndarray, offset: float) -> np.ndarray:
    """(n,) int64: the piece a vertex lies inside of, or -1 (the vertex is on the outer surface).

    pieces: (n,) piece id per vertex (``piece_ids``). A vertex is inside piece j when, moved ``offset``
    along its outward normal, it is still inside j's closed surface (generalised winding number above
    one half, libigl's fast approximation): a screw's shank sunk in a board, the cap of one sphere
    inside another, the face where two boards lie against each other.
    """
    import igl

    moved = vertices + offset * vertex_normals(vertices, faces)
    covering = np.full(len(vertices), -1, dtype=np.int64)
    face_pieces = pieces[faces[:, 0]]
    for piece in np.unique(face_pieces):
        own = faces[face_pieces == piece]
        corners = vertices[np.unique(own)]
        near = np.flatnonzero((pieces != piece) & (moved >= corners.min(axis=0)).all(axis=1)
                              & (moved <= corners.max(axis=0)).all(axis=1))
        if len(near) == 0:
            continue
        winding = igl.fast_winding_number(np.ascontiguousarray(vertices, dtype=np.float64),
                                          np.ascontiguousarray(own, dtype=np.int64), moved[near])
        covering[near[np.asarray(winding) > 0.5]] = piece
    return covering


def concave_angles(vertices: np.ndarray, normals: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(e,) float radians: angle between the end normals of concave edges, 0 on convex ones.

    vertices: (n, 3); normals: (n, 3) outward vertex normals (``vertex_normals``); edges: (e, 2).
    An edge is concave (a valley) when the normals turn towards each other
    along it: ``(n_j - n_i) . (x_j - x_i) < 0``.
    """
    n_i, n_j = normals[edges[:, 0]], normals[edges[:, 1]]
    direction = vertices[edges[:, 1]] - vertices[edges[:, 0]]
    angle = np.arccos(np.clip((n_i * n_j).sum(axis=1), -1.0, 1.0))
    concave = ((n_j - n_i) * direction).sum(axis=1) < 0.0
    return np.where(concave, angle, 0.0)


def close_crease_gaps(angles: np.ndarray, edges: np.ndarray, count: int) -> np.ndarray:
    """(e,) concave angles with the gaps of each crease line closed.

    angles: (e,) ``concave_angles``, edges: (e, 2), count: vertices. Where a coarse mesh crosses a
    junction obliquely, an edge between two vertices of the crease can read convex (its normals turn
    mostly along it), leaving a gap through which the two sides stay connected. Each vertex's crease
    angle is the largest concave angle of its edges; an edge between two crease vertices takes at
    least the smaller of its ends' crease angles.
    """
    crease = np.zeros(count)
    np.maximum.at(crease, edges[:, 0], angles)
    np.maximum.at(crease, edges[:, 1], angles)
    return np.maximum(angles, np.minimum(crease[edges[:, 0]], crease[edges[:, 1]]))


def region_boundary_lengths(regions: np.ndarray, faces: np.ndarray, vertices: np.ndarray, count: int) -> np.ndarray:
    """(r, r) length of the boundary between each pair of different regions (symmetric).

    The boundary is traced through the triangles as marching triangles would: across a triangle whose
    corners lie in two regions, from the midpoint of one crossing edge to the other's; in one whose
    corners lie in three, from each edge's midpoint to the centroid. Unlike a sum of crossing edges, the
    length does not grow with how finely or how slantwise the surface is triangulated.
    """
    shared = np.zeros((count, count))
    labels = regions[faces]  # (m, 3)
    points = vertices[faces]  # (m, 3, 3)
    crossing = labels != np.roll(labels, -1, axis=1)  # (m, 3): edge k runs from corner k to corner k + 1
    midpoints = 0.5 * (points + np.roll(points, -1, axis=1))
    two = crossing.sum(axis=1) == 2
    ends = midpoints[two][crossing[two]].reshape(-1, 2, 3)
    lengths = np.linalg.norm(ends[:, 0] - ends[:, 1], axis=1)
    pair = labels[two][crossing[two]].reshape(-1, 2)  # the first corner of each crossing edge
    pair_second = np.roll(labels, -1, axis=1)[two][crossing[two]].reshape(-1, 2)
    np.add.at(shared, (pair[:, 0], pair_second[:, 0]), lengths)
    three = crossing.all(axis=1)
    if three.any():
        centroids = points[three].mean(axis=1, keepdims=True)
        lengths = np.linalg.norm(midpoints[three] - centroids, axis=2)  # (t, 3)
        np.add.at(shared, (labels[three].ravel(), np.roll(labels, -1, axis=1)[three].ravel()), lengths.ravel())
    return shared + shared.T
