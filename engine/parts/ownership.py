"""Interior ownership: which discovered part owns each point inside the shape.

The rule is a Voronoi partition of space by the labelled surface: a point
belongs to the part whose surface is nearest. The surface labels are first
smoothed on the mesh (a few rounds of majority vote among neighbours) so that
stray labels near junctions do not claim a wedge of the interior, and the
surface is sampled densely by area so that large triangles own their share.

``cell_distances`` turns the per-part surface distances into one signed
function per part, negative inside its cell; ``max(shape SDF, cell)`` is then a
closed solid per part, and the min over parts gives back the shape SDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from ..errors import BadInputError
from ..mesh.graph import adjacency, unique_edges
from ..mesh.sampling import face_areas


def smooth_surface_labels(labels: np.ndarray, faces: np.ndarray, rounds: int) -> np.ndarray:
    """(n,) int64: vertex labels after ``rounds`` of majority vote over each vertex and its mesh neighbours.

    labels: (n,) int 0..k-1, faces: (m, 3) int. Ties keep the vertex's own label.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n, k = len(labels), int(labels.max()) + 1
    neighbours = adjacency(unique_edges(faces), n)
    rows = np.arange(n)
    for _ in range(rounds):
        votes = np.asarray((neighbours @ sparse.csr_matrix((np.ones(n), (rows, labels)), shape=(n, k))).todense())
        votes[rows, labels] += 0.5  # own label breaks ties
        labels = votes.argmax(axis=1)
    return labels


def labelled_surface_points(
    vertices: np.ndarray, faces: np.ndarray, vertex_labels: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The vertices plus ``count`` area-uniform surface samples, each with a part label.

    A sample takes the label of the corner nearest to it. Returns points (n + count, 3)
    float64 and labels (n + count,) int64.
    """
    areas = face_areas(vertices, faces)
    if not np.isfinite(areas).all() or areas.sum() <= 0.0:
        raise BadInputError("the mesh has no surface area to assign parts from")
    chosen = rng.choice(len(faces), size=count, p=areas / areas.sum())
    weights = rng.dirichlet(np.ones(3), size=count)
    points = np.einsum("nc,ncd->nd", weights, vertices[faces[chosen]])
    corner_labels = vertex_labels[faces[chosen]]
    labels = corner_labels[np.arange(count), weights.argmax(axis=1)]
    return np.concatenate([vertices, points]), np.concatenate([vertex_labels, labels]).astype(np.int64)


@dataclass(frozen=True)
class SurfaceOwnership:
    """Nearest-labelled-surface ownership, one k-d tree per part.

    points: (s, 3) float surface points, labels: (s,) int64 in 0..parts-1.
    """

    trees: tuple[cKDTree, ...]

    @classmethod
    def build(cls, points: np.ndarray, labels: np.ndarray, parts: int) -> SurfaceOwnership:
        missing = [p for p in range(parts) if not np.any(labels == p)]
        if missing:
            raise BadInputError(f"parts {missing} have no surface points to own volume from")
        return cls(tuple(cKDTree(points[labels == part]) for part in range(parts)))

    @property
    def parts(self) -> int:
        return len(self.trees)

    def part_distances(self, queries: np.ndarray) -> np.ndarray:
        """(n, parts) float: distance from each (n, 3) query point to each part's nearest surface point."""
        return np.stack([tree.query(queries, workers=-1)[0] for tree in self.trees], axis=1)

    def owners(self, queries: np.ndarray) -> np.ndarray:
        """(n,) int64: the part whose surface is nearest to each (n, 3) query point."""
        return self.part_distances(queries).argmin(axis=1).astype(np.int64)


def cell_distances(part_distances: np.ndarray) -> np.ndarray:
    """(n, parts) float: half the gap between a part's surface distance and the nearest other part's.

    Negative inside the part's Voronoi cell and zero on the cut between cells;
    its magnitude never exceeds the distance to the cut (triangle inequality),
    and equals it on the segment between two nearest points, so it is a
    conservative signed distance like a sphere-tracing bound.
    """
    if part_distances.shape[1] == 1:
        return np.full(part_distances.shape, -np.inf)
    order = np.argsort(part_distances, axis=1)
    rows = np.arange(len(part_distances))
    nearest = part_distances[rows, order[:, 0]]
    second = part_distances[rows, order[:, 1]]
    others = np.repeat(nearest[:, None], part_distances.shape[1], axis=1)
    others[rows, order[:, 0]] = second
    return 0.5 * (part_distances - others)
