"""Partitioning the surface with the activations and the mesh graph.

Each mesh edge gets an affinity from two cues: how fast the decoder's
activations change along it (activation gradient along the surface, over its
median), and whether the surface folds inwards there (concave crease, where
parts meet by the minima rule). The weighted mesh graph is then cut
spectrally (normalised cut with area weights, so the result does not depend
on the mesh's resolution). ``docs/benchmarks.md`` measures each cue alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from ..mesh.graph import adjacency
from .kmeans import kmeans

EDGE_BLOCK_VALUES = 1 << 24  # feature values per block of edges in ``edge_feature_change`` (64 MB in float32)


def edge_feature_change(features: np.ndarray, edges: np.ndarray, block_values: int = EDGE_BLOCK_VALUES) -> np.ndarray:
    """(e,) ``|features[i] - features[j]|`` of each edge (i, j), in the features' float type.

    features: (n, d), edges: (e, 2). Edges are taken in blocks of about
    ``block_values / d`` so that the (block, d) differences stay small (the whole
    (e, d) difference of a large mesh is gigabytes); each row's norm is the same
    as without blocks.
    """
    step = max(1, block_values // max(1, features.shape[1]))
    change = np.empty(len(edges), dtype=np.result_type(features.dtype, np.float32))
    for begin in range(0, len(edges), step):
        block = edges[begin:begin + step]
        change[begin:begin + len(block)] = np.linalg.norm(features[block[:, 0]] - features[block[:, 1]], axis=1)
    return change


def boundary_strength(features: np.ndarray, vertices: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(e,) float: activation change per unit length along each edge, over its median.

    features: (n, d), vertices: (n, 3), edges: (e, 2).
    """
    change = edge_feature_change(features, edges)
    length = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)
    gradient = change / np.maximum(length, 1e-12)
    return gradient / max(float(np.median(gradient)), 1e-12)


def edge_weights(
    strength: np.ndarray | None, concave_angle: np.ndarray | None, crease_angle: float, floor: float = 1e-4
) -> np.ndarray:
    """(e,) float in [floor, 1]: product of the cues' affinities (a missing cue counts 1).

    strength: (e,) activation boundary strength -> Cauchy affinity 1 / (1 + s^2),
    heavy-tailed on purpose (a Gaussian one breaks the graph into many
    numerically disconnected islands, which stalls the eigensolver).
    concave_angle: (e,) radians -> exp(-(angle / crease_angle)^2).
    The floor keeps the graph connected for the eigensolver.
    """
    weights = np.ones(len(strength if strength is not None else concave_angle))
    if strength is not None:
        weights = weights / (1.0 + strength**2)
    if concave_angle is not None:
        weights = weights * np.exp(-((concave_angle / crease_angle) ** 2))
    return np.maximum(weights, floor)


@dataclass(frozen=True)
class SpectralEmbedding:
    """Eigenpairs of the area-weighted graph Laplacian, smallest first.

    values: (c,) float, vectors: (n, c) float.
    """

    values: np.ndarray
    vectors: np.ndarray


LOOSE_VERTEX_MASS = 1e-6
EIGEN_SHIFT = -1e-3  # shift-invert just below 0: L - shift * M is positive definite


def shifted_inverse(laplacian: sp.spmatrix, mass: sp.spmatrix, shift: float) -> sla.LinearOperator:
    """``x -> (L - shift M)^-1 x`` by a sparse LU that uses the matrix's symmetry.

    L - shift M is symmetric positive definite for a shift below 0, so no pivoting is
    needed and a symmetric fill-reducing ordering applies: on the snowman (51,744
    vertices) half the fill of scipy's default (COLAMD, with pivoting) and solves
    12 ms instead of 20 ms (docs/design.md, "Speed").
    """
    factor = sla.splu((laplacian - shift * mass).tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                      options={"SymmetricMode": True})
    return sla.LinearOperator(laplacian.shape, matvec=factor.solve, dtype=np.float64)


def spectral_embedding(
    edges: np.ndarray, weights: np.ndarray, areas: np.ndarray, count: int
) -> SpectralEmbedding:
    """Solve ``L v = lambda A v`` for the ``count`` smallest eigenpairs.

    L = D - W on the weighted mesh graph, A = diag(vertex areas / mean area).
    """
    n = len(areas)
    count = min(count, n - 2)
    graph = adjacency(edges, n, weights)
    laplacian = (sp.diags(np.asarray(graph.sum(axis=1)).ravel()) - graph).tocsc()
    # A vertex in no face (loose) has no area and no edge: a mass floor keeps L + sigma M invertible.
    mass = sp.diags(np.where(areas > 0.0, areas / areas.mean(), LOOSE_VERTEX_MASS)).tocsc()
    start = np.random.default_rng(0).random(n)
    values, vectors = sla.eigsh(laplacian, count, M=mass, sigma=EIGEN_SHIFT, which="LM", v0=start, tol=1e-4,
                                OPinv=shifted_inverse(laplacian, mass, EIGEN_SHIFT))
    order = np.argsort(values)
    return SpectralEmbedding(values=np.maximum(values[order], 0.0), vectors=vectors[:, order])


def cluster_embedding(embedding: SpectralEmbedding, count: int, seed: int) -> np.ndarray:
    """(n,) labels: k-means on the first ``count`` eigenvectors."""
    coordinates = embedding.vectors[:, :count]
    return kmeans(coordinates, count, seed)
