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
