"""Baseline part segmentations of BENCHMARK.md (what a user would pick instead).

Every baseline maps a triangle mesh to one integer part label per input
vertex. ``components`` uses the faces as given, like Blender's Separate by
Loose Parts: pieces that merely touch (coincident but separately indexed
vertices, as in ``railing_loose``) stay apart, and a triangle soup falls into
one piece per triangle. The others run on the welded mesh (so triangle soups
are connected) and map labels back to the caller's vertices. ``coacd`` and ``shape_diameter`` need
the benchmark-only packages ``coacd`` and ``pymeshlab``, imported lazily.

All baselines are deterministic for a given ``seed``.
"""

from __future__ import annotations

import heapq
import logging

import numpy as np

from engine.errors import BadInputError, EngineError, MissingDependencyError
from engine.mesh.graph import unique_edges
from engine.mesh.loading import validate_mesh
from engine.mesh.welding import weld
from engine.segment.instances import boundary_pairs, renumber

log = logging.getLogger(__name__)

BASELINES = ("components", "kmeans_xyz", "coacd", "shape_diameter")

COACD_THRESHOLD = 0.05
"""CoACD's default concavity threshold, used when ``k`` is not given."""

FRAGMENT_SHARE = 0.002
"""Shape-diameter regions smaller than this share of the vertices are merged away."""

MAX_MIXTURE_COMPONENTS = 6


def baseline_labels(
    method: str,
    vertices: np.ndarray,
    faces: np.ndarray,
    k: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Part labels of a baseline method.

    method: one of ``BASELINES``. vertices: (n, 3) float. faces: (m, 3) int.
    k: the number of parts when given (required by ``kmeans_xyz``, ignored by
    ``components``), None for the automatic mode. Returns (n,) int64 labels
    numbered 0..parts-1.
    """
    if method not in BASELINES:
        raise BadInputError(f"unknown baseline '{method}'; use one of {', '.join(BASELINES)}")
    if k is not None and k < 1:
        raise BadInputError(f"the number of parts k must be at least 1, got {k}")
    vertices, faces = validate_mesh(vertices, faces)
    if method == "components":
        return renumber(mesh_components(len(vertices), unique_edges(faces)))
    mesh = weld(vertices, faces)
    if method == "kmeans_xyz":
        welded = kmeans_labels(mesh.vertices, k, seed)
    elif method == "coacd":
        hulls = coacd_hulls(mesh.vertices, mesh.faces, k, seed)
        welded = nearest_hull_labels(mesh.vertices, hulls)
    else:
        welded = shape_diameter_labels(mesh.vertices, mesh.faces, k, seed)
    return renumber(welded[mesh.input_to_welded])


def mesh_components(vertex_count: int, edges: np.ndarray) -> np.ndarray:
    """(n,) int64 connected component of each vertex of the graph (n vertices, (e, 2) edges)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    weights = np.ones(len(edges), dtype=np.int8)
    graph = coo_matrix((weights, (edges[:, 0], edges[:, 1])), shape=(vertex_count, vertex_count))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def kmeans_labels(points: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    """(n,) int64 k-means clusters of (n, 3) positions; ``k`` is required."""
    from sklearn.cluster import KMeans

    if k is None:
        raise BadInputError("kmeans_xyz needs the number of parts k")
    if k > len(points):
        raise BadInputError(f"k = {k} exceeds the {len(points)} vertices")
    model = KMeans(n_clusters=k, n_init=10, random_state=seed)
    return model.fit_predict(points).astype(np.int64)


def coacd_hulls(
    vertices: np.ndarray,
    faces: np.ndarray,
    k: int | None = None,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """CoACD approximate convex decomposition with its defaults, in a child process.

    vertices: (n, 3) float, faces: (m, 3) int. With ``k`` None CoACD runs with
    its default ``threshold=0.05``; with ``k`` it also gets ``max_convex_hull=k``.
    Returns one ``(hull_vertices (h, 3) float64, hull_faces (g, 3) int64)`` per hull.
    CoACD can abort the whole process from C++ ("unexpected code path"); run
    apart, that becomes an ``EngineError`` instead.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        import coacd  # noqa: F401  (checked here so a missing package is reported as such)
    except ImportError as error:
        raise MissingDependencyError("the coacd baseline needs CoACD: pip install coacd") from error
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(_run_coacd, np.asarray(vertices, np.float64), np.asarray(faces), k, seed).result()
        except BrokenProcessPool as error:
            raise EngineError("CoACD crashed (its process aborted) on this mesh") from error


def _run_coacd(vertices: np.ndarray, faces: np.ndarray, k: int | None, seed: int) -> list:
    import coacd

    coacd.set_log_level("error")
    mesh = coacd.Mesh(vertices, np.asarray(faces, dtype=np.int32))
    result = coacd.run_coacd(
        mesh,
        threshold=COACD_THRESHOLD,
        max_convex_hull=-1 if k is None else int(k),
        seed=int(seed),
    )
    return [(np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)) for v, f in result]


def hull_planes(hull_vertices: np.ndarray) -> np.ndarray:
    """(f, 4) float: outward unit planes (normal, offset) of the convex hull of (h, 3) points.

    A point p is inside when ``planes[:, :3] @ p + planes[:, 3] <= 0`` for all rows.
    """
    from scipy.spatial import ConvexHull, QhullError

    try:
        return ConvexHull(hull_vertices).equations
    except QhullError:  # flat or tiny hull: joggle the input instead of failing
        return ConvexHull(hull_vertices, qhull_options="QJ").equations


def hull_plane_distances(
    points: np.ndarray, hulls: list[tuple[np.ndarray, np.ndarray]], chunk: int = 8192
) -> np.ndarray:
    """(n, h) float: signed plane distance of each of the (n, 3) points to each of the h hulls.

    A hull's signed plane distance at p is the max over its planes of
    ``normal . p + offset``: negative inside, the exact distance to the hull
    inside, a lower bound of it outside. It serves as the hulls' part SDFs
    (volume ownership is its argmin).
    """
    if not hulls:
        raise BadInputError("CoACD returned no convex hull for this mesh")
    planes = [hull_planes(v) for v, _ in hulls]
    points = np.asarray(points, dtype=np.float64)
    distances = np.empty((len(points), len(planes)), dtype=np.float64)
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        for index, p in enumerate(planes):
            distances[start : start + chunk, index] = (block @ p[:, :3].T + p[:, 3]).max(axis=1)
    return distances


def nearest_hull_labels(points: np.ndarray, hulls: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(n,) int64: for each of the (n, 3) points the hull with the smallest signed plane distance."""
    return hull_plane_distances(points, hulls).argmin(axis=1).astype(np.int64)


def shape_diameter(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(n,) float: per-vertex shape diameter function of a welded mesh (pymeshlab, its defaults).

    Vertices where no ray hit the far side (NaN) take the mean of their finite
    neighbours, or the median of all vertices.
    """
    try:
        import pymeshlab
    except ImportError as error:
        raise MissingDependencyError("the shape_diameter baseline needs pymeshlab: pip install pymeshlab") from error
    meshset = pymeshlab.MeshSet()
    meshset.add_mesh(pymeshlab.Mesh(vertex_matrix=vertices, face_matrix=np.asarray(faces, dtype=np.int32)))
    meshset.apply_filter("compute_scalar_by_shape_diameter_function_per_vertex")
    result = meshset.current_mesh()
    if result.vertex_number() != len(vertices):
        raise BadInputError("pymeshlab changed the vertex count; the mesh has unreferenced or duplicate vertices")
    values = np.asarray(result.vertex_scalar_array(), dtype=np.float64)
    return _fill_missing(values, unique_edges(faces))


def _fill_missing(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(values) | (values <= 0)
    if not bad.any():
        return values
    values = np.where(bad, 0.0, values)
    good = (~bad).astype(np.float64)
    total = np.zeros_like(values)
    count = np.zeros_like(values)
    for source, target in ((edges[:, 0], edges[:, 1]), (edges[:, 1], edges[:, 0])):
        np.add.at(total, source, values[target] * good[target])
        np.add.at(count, source, good[target])
    fallback = float(np.median(values[~bad])) if (~bad).any() else 1.0
    filled = np.where(count > 0, total / np.maximum(count, 1), fallback)
    return np.where(bad, filled, values)


def mixture_classes(values: np.ndarray, seed: int, max_components: int = MAX_MIXTURE_COMPONENTS) -> np.ndarray:
    """(n,) int64 class of each of the (n,) values under the 1-D Gaussian mixture with the lowest BIC."""
    from sklearn.mixture import GaussianMixture

    data = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    best, best_bic = None, np.inf
    for components in range(1, min(max_components, len(data)) + 1):
        model = GaussianMixture(n_components=components, random_state=seed).fit(data)
        bic = model.bic(data)
        if bic < best_bic:
            best, best_bic = model, bic
    return best.predict(data).astype(np.int64)


def shape_diameter_labels(vertices: np.ndarray, faces: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    """(n,) int64 shape-diameter segmentation of a welded mesh.

    A Gaussian mixture over log shape diameter (components chosen by BIC,
    1..6, always), connected components of each class on the mesh graph,
    fragments under ``FRAGMENT_SHARE`` of the vertices merged away, then, with
    ``k``, the smallest regions merged until ``k`` remain (see :func:`merge_regions`).
    """
    edges = unique_edges(faces)
    classes = mixture_classes(np.log(shape_diameter(vertices, faces)), seed)
    same = classes[edges[:, 0]] == classes[edges[:, 1]]
    regions = mesh_components(len(vertices), edges[same])
    min_size = int(np.ceil(FRAGMENT_SHARE * len(vertices)))
    return merge_regions(regions, edges, min_size=min_size, target=k)


def merge_regions(labels: np.ndarray, edges: np.ndarray, min_size: int, target: int | None = None) -> np.ndarray:
    """Merge small regions of a mesh graph into their neighbours.

    labels: (n,) int region per vertex; edges: (e, 2) int mesh edges. The
    smallest region (fewest vertices; ties by label) is merged into the
    adjacent region it shares the most edges with, repeatedly, while it is
    smaller than ``min_size`` or, with ``target``, while more than ``target``
    regions remain. Regions with no neighbour (loose mesh pieces) stay as
    they are. Returns (n,) int64 labels numbered 0..p-1.

    Not the engine's :func:`engine.segment.instances.merge_small_regions`:
    that one moves every fragment whose best neighbour is not itself a
    fragment at once, this one merges one region at a time, smallest first,
    so two fragments can join into a region that is no longer small. The
    labels differ on real meshes (the barbell and railing of the benchmark);
    both keep their own order, and share the boundary counting
    (:func:`engine.segment.instances.boundary_pairs`).
    """
    labels = np.unique(labels, return_inverse=True)[1].reshape(-1)
    sizes = np.bincount(labels).astype(np.int64)
    adjacency = _region_adjacency(labels, edges, len(sizes))
    parent = np.arange(len(sizes))
    alive = len(sizes)
    heap = [(int(size), region) for region, size in enumerate(sizes)]
    heapq.heapify(heap)
    while heap:
        size, region = heapq.heappop(heap)
        if parent[region] != region or size != sizes[region]:
            continue  # stale entry
        if size >= min_size and (target is None or alive <= target):
            break
        if not adjacency[region]:
            continue
        into = max(adjacency[region], key=lambda other: (adjacency[region][other], -other))
        neighbours, adjacency[region] = adjacency[region], {}
        for other, count in neighbours.items():
            del adjacency[other][region]
            if other != into:
                adjacency[into][other] = adjacency[into].get(other, 0) + count
                adjacency[other][into] = adjacency[into][other]
        parent[region] = into
        sizes[into] += sizes[region]
        alive -= 1
        heapq.heappush(heap, (int(sizes[into]), into))
    roots = np.arange(len(sizes))
    while not np.array_equal(parent[roots], roots):
        roots = parent[roots]
    return renumber(roots[labels])


def _region_adjacency(labels: np.ndarray, edges: np.ndarray, regions: int) -> list[dict[int, int]]:
    """For each of the regions 0..regions-1, ``{neighbour: mesh edges shared}``."""
    pairs, edge_pair = boundary_pairs(labels, edges)
    counts = np.bincount(edge_pair[edge_pair >= 0], minlength=len(pairs))
    adjacency: list[dict[int, int]] = [{} for _ in range(regions)]
    for (i, j), count in zip(pairs.tolist(), counts.tolist(), strict=True):
        adjacency[i][j] = count
        adjacency[j][i] = count
    return adjacency
