"""Reading and checking an engine result folder (no bpy, nothing unpickled).

The folder holds ``segmentation.json``, ``vertex_labels.npy`` (n,) int32,
``face_labels.npy`` (m,) int32 and optionally ``parts/<id>_<type>.obj``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class ResultError(Exception):
    """The engine's result folder is incomplete or does not match the job."""


@dataclass(frozen=True)
class PartInfo:
    """One part of segmentation.json; ``type`` is -1 for a part without a type (no vertex of its own)."""

    id: int
    name: str
    type: int
    type_name: str
    vertex_count: int
    face_count: int
    color: tuple[float, float, float]
    mesh: Path | None


@dataclass(frozen=True)
class SegmentationResult:
    """A checked result.

    vertex_labels: (n,) int part id per input vertex.
    face_labels: (m,) int part id per input triangle.
    parts: sorted by id. meshes: part id -> ((k, 3) float64 vertices, (f, 3) int64 faces).
    """

    engine_version: str
    settings: dict
    parts: tuple[PartInfo, ...]
    vertex_labels: np.ndarray
    face_labels: np.ndarray
    meshes: dict
    timings: dict


def load_result(folder: Path, vertex_count: int, triangle_count: int) -> SegmentationResult:
    """Load a result folder and check it against the job's mesh size."""
    folder = Path(folder)
    try:
        data = json.loads((folder / "segmentation.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultError(f"cannot read segmentation.json: {error}") from error
    files = data.get("files", {})
    vertex_labels = _labels(folder, files.get("vertex_labels", "vertex_labels.npy"), vertex_count, "vertex")
    face_labels = _labels(folder, files.get("face_labels", "face_labels.npy"), triangle_count, "face")
    parts = tuple(sorted((_part(folder, p) for p in data.get("parts", [])), key=lambda p: p.id))
    if not parts:
        raise ResultError("the engine returned no parts")
    ids = np.array([p.id for p in parts])
    for name, labels in (("vertex", vertex_labels), ("face", face_labels)):
        if not np.isin(labels, ids).all():
            raise ResultError(f"{name} labels name parts that segmentation.json does not list")
    meshes = {p.id: read_obj(p.mesh) for p in parts if p.mesh is not None}
    return SegmentationResult(
        engine_version=str(data.get("engine_version", "unknown")),
        settings=dict(data.get("settings", {})),
        parts=parts,
        vertex_labels=vertex_labels,
        face_labels=face_labels,
        meshes=meshes,
        timings=dict(data.get("timings", {})),
    )


def _inside(folder: Path, relative: str) -> Path:
    path = (folder / relative).resolve()
    if folder.resolve() not in path.parents:
        raise ResultError(f"result file outside the result folder: {relative}")
    return path


def _labels(folder: Path, relative: str, count: int, what: str) -> np.ndarray:
    try:
        labels = np.load(_inside(folder, relative), allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ResultError(f"cannot read {what} labels: {error}") from error
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        raise ResultError(f"{what} labels have shape {labels.shape} ({labels.dtype}); expected ({count},) integers")
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
            vertex_count=int(entry.get("vertex_count", 0)),
            face_count=int(entry.get("face_count", 0)),
            color=color if len(color) == 3 else (0.8, 0.8, 0.8),
            mesh=_inside(folder, mesh) if mesh else None,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ResultError(f"bad part entry in segmentation.json: {error}") from error


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
