"""Ground-truth signed distance to a triangle mesh (negative inside).

Two backends, chosen by ``backend``:

- ``pysdf``: fastest; sign by ray-cast parity, robust on open meshes. Parity
  is wrong inside the overlap of interpenetrating closed pieces (two
  crossings: "outside"; 0.1-0.4 % of a box's points on the kitbashed tower and
  snowman), so on a mesh of several pieces the sign is libigl's fast winding
  number instead (2 there: inside); one piece keeps pysdf's speed (the winding
  number doubles the time of a pool).
  Built from source, so only present where Eigen headers were available.
- ``igl``: libigl's signed distance with fast winding number signs; wheels exist
  for every platform.

``auto`` uses pysdf where installed, else libigl. The comparison of both is in
``docs/sdf_backends.md`` (``python -m bench sdf-compare``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import BadInputError, MissingDependencyError

BACKENDS = ("auto", "pysdf", "igl")

DistanceFunction = Callable[[np.ndarray], np.ndarray]


def available_backends() -> list[str]:
    """Names of the backends importable here, best first."""
    found = []
    for name, module in (("pysdf", "pysdf"), ("igl", "igl")):
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(name)
    return found


def resolve_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise BadInputError(f"unknown SDF backend '{backend}'; use one of {BACKENDS}")
    found = available_backends()
    if backend == "auto":
        if not found:
            raise MissingDependencyError("no SDF backend: install libigl (pip install libigl) or pysdf")
        return found[0]
    if backend not in found:
        raise MissingDependencyError(f"SDF backend '{backend}' is not installed")
    return backend


def signed_distance_function(vertices: np.ndarray, faces: np.ndarray, backend: str = "auto") -> DistanceFunction:
    """Build ``f: (n, 3) float -> (n,) float32`` for the mesh (negative inside)."""
    name = resolve_backend(backend)
    if name == "pysdf":
        return _pysdf_function(vertices, faces)
    return _igl_function(vertices, faces)


def _pysdf_function(vertices: np.ndarray, faces: np.ndarray) -> DistanceFunction:
    """pysdf measures only the faces around the nearest vertex: it needs a welded mesh without
    loose vertices or zero-area faces (else it returns 1.8e19 there; docs/sdf_backends.md)."""
    import pysdf

    from ..mesh.sampling import face_areas
    from ..mesh.welding import weld

    welded = weld(vertices, faces)
    kept = welded.faces[face_areas(welded.vertices, welded.faces) > 0]
    used, inverse = np.unique(kept, return_inverse=True)
    faces_used = inverse.reshape(kept.shape)
    sdf = pysdf.SDF(
        np.ascontiguousarray(welded.vertices[used], dtype=np.float32),
        np.ascontiguousarray(faces_used, dtype=np.uint32),
    )

    def pysdf_distance(points: np.ndarray) -> np.ndarray:
        return -np.asarray(sdf(np.ascontiguousarray(points, dtype=np.float32)), dtype=np.float32)

    if "igl" not in available_backends() or not _several_pieces(faces_used, len(used)):
        return pysdf_distance
    import igl

    v = np.ascontiguousarray(vertices, dtype=np.float64)
    f = np.ascontiguousarray(faces, dtype=np.int64)

    def distance(points: np.ndarray) -> np.ndarray:
        magnitude = np.abs(pysdf_distance(points))
        winding = igl.fast_winding_number(v, f, np.ascontiguousarray(points, dtype=np.float64))
        return np.where(np.asarray(winding) > 0.5, -magnitude, magnitude).astype(np.float32)

    return distance


def _several_pieces(faces: np.ndarray, count: int) -> bool:
    """Whether the (m, 3) faces over ``count`` vertices form more than one connected piece."""
    from ..mesh.graph import piece_ids, unique_edges

    return bool(piece_ids(unique_edges(faces), count).max() > 0) if len(faces) else False


def _igl_function(vertices: np.ndarray, faces: np.ndarray) -> DistanceFunction:
    import igl

    v = np.ascontiguousarray(vertices, dtype=np.float64)
    f = np.ascontiguousarray(faces, dtype=np.int64)

    def distance(points: np.ndarray) -> np.ndarray:
        # libigl returns (1 - 2w) * distance with winding-number signs: wrong magnitudes on open
        # meshes. Keep its sign, take the magnitude from the closest points it returns.
        queries = np.ascontiguousarray(points, dtype=np.float64)
        signed, _, closest = igl.signed_distance(
            queries, v, f, sign_type=igl.SIGNED_DISTANCE_TYPE_FAST_WINDING_NUMBER
        )[:3]
        magnitude = np.linalg.norm(queries - closest, axis=1)
        return np.where(np.asarray(signed) < 0, -magnitude, magnitude).astype(np.float32)

    return distance
