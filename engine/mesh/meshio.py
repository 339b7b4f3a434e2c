"""Mesh input: loading, validation, welding and normalisation.

Vertices are never reordered: labels computed on the welded mesh are mapped
back to the caller's vertices through ``WeldedMesh.input_to_welded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BadInputError
from . import readers

MESH_SUFFIXES = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf", ".npz")


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


@dataclass(frozen=True)
class Normalisation:
    """Maps input coordinates into the unit cube ``[-0.5, 0.5]^3`` and back."""

    center: tuple[float, float, float]
    scale: float

    def to_unit(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) input coordinates -> (n, 3) unit-cube coordinates."""
        return (points - np.asarray(self.center)) * self.scale

    def from_unit(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) unit-cube coordinates -> (n, 3) input coordinates."""
        return points / self.scale + np.asarray(self.center)

    @classmethod
    def fit(cls, vertices: np.ndarray) -> Normalisation:
        """Center the bounding box and scale its longest side to 1."""
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        extent = float((high - low).max())
        center = tuple(float(c) for c in (low + high) / 2.0)
        return cls(center=center, scale=1.0 / extent)


def load_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a mesh file keeping exactly the vertices it declares, in file order.

    Returns vertices (n, 3) float64 and triangle faces (m, 3) int64, where n is
    the file's own vertex count (``vertex_labels.npy`` has one label per file
    vertex): OBJ every ``v`` line, PLY/OFF every vertex row, STL three per
    facet, glTF/GLB the triangle primitives' vertices in scene order at world
    position (``engine.readers`` says exactly what each format yields).
    Polygons are fan-triangulated. ``.npz`` files hold arrays ``vertices`` and
    ``faces`` (read with allow_pickle=False).

    Vertices that no face uses are kept and labelled: ``weld`` gives each the
    nearest vertex on a face, so it takes that vertex's part (never a part of
    its own) and does not count for the normalisation.
    Raises BadInputError for missing, unknown or unreadable files, with the
    line number for a bad OBJ/OFF line (e.g. face index 0).
    """
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"{path} is a folder; give a mesh file ({', '.join(MESH_SUFFIXES)})")
    if not path.is_file():
        what = "is not a regular file" if path.exists() else "not found"
        raise BadInputError(f"mesh file {what}: {path}")
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise BadInputError(
            f"unsupported mesh format '{suffix}' ({path.name}); use one of {', '.join(MESH_SUFFIXES)}"
        )
    try:
        if suffix == ".npz":
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise BadInputError(f"{path.name} is not an .npz archive; save it with "
                                    "np.savez(path, vertices=..., faces=...)")
            with data:
                vertices, faces = data["vertices"], data["faces"]
        else:
            vertices, faces = _READERS[suffix](path)
    except BadInputError:
        raise
    except Exception as error:  # any parser failure is a bad file for the user
        raise BadInputError(f"cannot read mesh {path.name}: {error}") from error
    return validate_mesh(vertices, faces)


_READERS = {
    ".obj": readers.read_obj,
    ".ply": readers.read_ply,
    ".off": readers.read_off,
    ".stl": readers.read_stl,
    ".glb": readers.read_gltf,
    ".gltf": readers.read_gltf,
}


def validate_mesh(vertices, faces) -> tuple[np.ndarray, np.ndarray]:
    """Check a mesh and return it as (n, 3) float64 and (m, 3) int64 arrays.

    Raises BadInputError for: wrong shapes, fewer than 4 vertices, no faces,
    non-finite coordinates, out-of-range indices, and flat (zero-volume) extent.
    """
    vertices = np.asarray(vertices)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or vertices.dtype.kind not in "fiu":
        raise BadInputError(f"vertices must be an (n, 3) number array, got {vertices.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.dtype.kind not in "iu":
        raise BadInputError(f"faces must be an (m, 3) integer array of triangles, got {faces.shape}")
    if len(vertices) < 4:
        raise BadInputError(f"the mesh has {len(vertices)} vertices; at least 4 are needed")
    if len(faces) == 0:
        raise BadInputError("the mesh has no faces")
    vertices = vertices.astype(np.float64)
    if not np.isfinite(vertices).all():
        bad = int((~np.isfinite(vertices)).any(axis=1).sum())
        raise BadInputError(f"{bad} vertices have NaN or infinite coordinates")
    faces = faces.astype(np.int64)
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise BadInputError(
            f"face indices must lie in [0, {len(vertices) - 1}], found {faces.min()}..{faces.max()}"
        )
    extent = np.ptp(vertices[np.unique(faces)], axis=0)
    if extent.max() <= 0.0 or extent.min() <= 1e-6 * extent.max():
        raise BadInputError("the mesh is flat or a single point (zero volume); a solid or shell with depth is needed")
    return vertices, faces


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


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """A plain OBJ (``v`` and ``f`` lines, 1-based) of vertices (n, 3) float and triangles (m, 3) int."""
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("# PartSDF part mesh\n")
        np.savetxt(stream, np.asarray(vertices, dtype=np.float64), fmt="v %.7g %.7g %.7g")
        np.savetxt(stream, np.asarray(faces, dtype=np.int64) + 1, fmt="f %d %d %d")


def load_labels(path: str | Path) -> np.ndarray:
    """(n,) int64 part ids from an ``.npy`` file (no pickles)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"labels file not found (or not a regular file): {path}")
    try:
        labels = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise BadInputError(f"cannot read labels {path}: {error}") from error
    if not isinstance(labels, np.ndarray):
        labels.close()
        raise BadInputError(f"labels in {path} must be one .npy array (np.save), not an .npz archive")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise BadInputError(f"labels in {path} must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    return labels.astype(np.int64)
