"""Mesh and label files in: reading a mesh by its suffix, validating it, reading labels; a plain OBJ out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ..errors import BadInputError
from .formats import READERS

MESH_SUFFIXES = (*READERS, ".npz")


def load_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a mesh file keeping exactly the vertices it declares, in file order.

    Returns vertices (n, 3) float64 and triangle faces (m, 3) int64, where n is
    the file's own vertex count (``vertex_labels.npy`` has one label per file
    vertex): OBJ every ``v`` line, PLY/OFF every vertex row, STL three per
    facet, glTF/GLB the triangle primitives' vertices in scene order at world
    position (``engine.mesh.formats`` says exactly what each format yields).
    Polygons are fan-triangulated. ``.npz`` files hold arrays ``vertices`` and
    ``faces`` (read with allow_pickle=False).

    Vertices that no face uses are kept and labelled: ``welding.weld`` gives each the
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
            vertices, faces = READERS[suffix](path)
    except BadInputError:
        raise
    except Exception as error:  # any parser failure is a bad file for the user
        raise BadInputError(f"cannot read mesh {path.name}: {error}") from error
    return validate_mesh(vertices, faces)


def validate_mesh(vertices: ArrayLike, faces: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
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


def write_obj(path: str | Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """A plain OBJ (``v`` and ``f`` lines, 1-based) of vertices (n, 3) float and triangles (m, 3) int."""
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("# PartSDF part mesh\n")
        # One format string per block: the same text as np.savetxt row by row, about 4x faster.
        stream.write(("v %.7g %.7g %.7g\n" * len(vertices)) % tuple(np.asarray(vertices, np.float64).ravel().tolist()))
        stream.write(("f %d %d %d\n" * len(faces)) % tuple((np.asarray(faces, np.int64) + 1).ravel().tolist()))


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
