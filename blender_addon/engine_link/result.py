"""Reading and checking an engine result folder (no bpy, nothing unpickled).

The add-on reads ``segmentation.json``, ``face_labels.npy`` (m,) int32 (the part
of each triangle: the truth it writes back) and the part meshes the document lists,
``parts/<id>_<type>.obj``; the names are the engine's (``contract``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .contract import FACE_LABELS, SEGMENTATION


class ResultError(Exception):
    """The engine's result folder is incomplete or does not match the job."""


@dataclass(frozen=True)
class PartInfo:
    """One part of segmentation.json; ``type`` is -1 for a part without a type (no vertex of its own)."""

    id: int
    name: str
    type: int
    type_name: str
    color: tuple[float, float, float]
    mesh: Path | None


@dataclass(frozen=True)
class SegmentationResult:
    """A checked result.

    face_labels: (m,) int part id per input triangle.
    parts: sorted by id. meshes: part id -> ((k, 3) float64 vertices, (f, 3) int64 faces).
    folder: the result folder it was read from (it also holds the fitted model).
    """

    engine_version: str
    parts: tuple[PartInfo, ...]
    face_labels: np.ndarray
    meshes: dict
    folder: Path


def load_result(folder: Path, triangle_count: int) -> SegmentationResult:
    """Load a result folder and check it against the job's number of triangles."""
    folder = Path(folder)
    try:
        data = json.loads((folder / SEGMENTATION).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultError(f"cannot read {SEGMENTATION}: {error}") from error
    files = data.get("files", {})
    face_labels = _labels(folder, files.get("face_labels", FACE_LABELS), triangle_count)
    parts = tuple(sorted((_part(folder, p) for p in data.get("parts", [])), key=lambda p: p.id))
    if not parts:
        raise ResultError("the engine returned no parts")
    if not np.isin(face_labels, [p.id for p in parts]).all():
        raise ResultError(f"face labels name parts that {SEGMENTATION} does not list")
    meshes = {p.id: read_obj(p.mesh) for p in parts if p.mesh is not None}
    return SegmentationResult(
        engine_version=str(data.get("engine_version", "unknown")),
        parts=parts,
        face_labels=face_labels,
        meshes=meshes,
        folder=folder,
    )


def _inside(folder: Path, relative: str) -> Path:
    path = (folder / relative).resolve()
    if folder.resolve() not in path.parents:
        raise ResultError(f"result file outside the result folder: {relative}")
    return path


def _labels(folder: Path, relative: str, count: int) -> np.ndarray:
    try:
        labels = np.load(_inside(folder, relative), allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ResultError(f"cannot read face labels: {error}") from error
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        raise ResultError(f"face labels have shape {labels.shape} ({labels.dtype}); expected ({count},) integers")
    return labels.astype(np.int64)


def _part(folder: Path, entry: dict) -> PartInfo:
    try:
        color = tuple(float(min(max(c, 0.0), 1.0)) for c in entry.get("color", (0.8, 0.8, 0.8)))[:3]
        mesh = entry.get("mesh")
        return PartInfo(
            id=int(entry["id"]),
            name=str(entry.get("name") or f"Part {int(entry['id']):02d}"),
            type=-1 if entry.get("type", 0) is None else int(entry.get("type", 0)),
            type_name=str(entry.get("type_name", "")),
            color=color if len(color) == 3 else (0.8, 0.8, 0.8),
            mesh=_inside(folder, mesh) if mesh else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ResultError(f"bad part entry in {SEGMENTATION}: {error}") from error


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (k, 3) float64 and triangles (f, 3) int64 of a simple OBJ (``v`` and ``f`` lines).

    Polygons are fanned into triangles; texture/normal indices are ignored.
    """
    vertices, faces = [], []
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.startswith("v "):
                    vertices.append([float(x) for x in line.split()[1:4]])
                elif line.startswith("f "):
                    corners = [int(token.split("/")[0]) for token in line.split()[1:]]
                    faces += [(corners[0], corners[i], corners[i + 1]) for i in range(1, len(corners) - 1)]
    except (OSError, ValueError, IndexError) as error:
        raise ResultError(f"cannot read part mesh {path.name}: {error}") from error
    v = np.asarray(vertices, np.float64).reshape(-1, 3)
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    f = np.where(f < 0, f + len(v), f - 1)
    if len(f) and (f.min() < 0 or f.max() >= len(v)):
        raise ResultError(f"part mesh {path.name} has face indices out of range")
    return v, f
