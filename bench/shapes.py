"""Analytic benchmark shapes of BENCHMARK.md: primitives, parts, meshes and truth.

A primitive is a function ``(n, 3) float -> (n,) float`` (signed distance,
negative inside). A part is a list of primitives (its SDF is their min); a
shape is a list of named parts (its SDF is the min over parts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.mesh.marching import mesh_from_sdf

SDF = Callable[[np.ndarray], np.ndarray]


def sphere(center, radius: float) -> SDF:
    c = np.asarray(center, dtype=np.float64)
    return lambda p: np.linalg.norm(p - c, axis=1) - radius


def box(center, half_extents) -> SDF:
    c = np.asarray(center, dtype=np.float64)
    h = np.asarray(half_extents, dtype=np.float64)

    def sdf(p: np.ndarray) -> np.ndarray:
        q = np.abs(p - c) - h
        outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
        inside = np.minimum(q.max(axis=1), 0.0)
        return outside + inside

    return sdf


_AXES = {"x": 0, "y": 1, "z": 2}


def cylinder(center, radius: float, half_height: float, axis: str) -> SDF:
    c = np.asarray(center, dtype=np.float64)
    a = _AXES[axis]
    radial_axes = [i for i in range(3) if i != a]

    def sdf(p: np.ndarray) -> np.ndarray:
        q = p - c
        d_radial = np.linalg.norm(q[:, radial_axes], axis=1) - radius
        d_axial = np.abs(q[:, a]) - half_height
        outside = np.hypot(np.maximum(d_radial, 0.0), np.maximum(d_axial, 0.0))
        inside = np.minimum(np.maximum(d_radial, d_axial), 0.0)
        return outside + inside

    return sdf


@dataclass(frozen=True)
class Part:
    name: str
    primitives: tuple

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) float -> (n,) float: min over the part's primitives."""
        return np.min([f(points) for f in self.primitives], axis=0)


@dataclass(frozen=True)
class Shape:
    name: str
    parts: tuple
    mesh_resolution: int = 160

    def part_sdfs(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) float -> (n, parts) float."""
        return np.stack([part.sdf(points) for part in self.parts], axis=1)

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) float -> (n,) float: the union SDF."""
        return self.part_sdfs(points).min(axis=1)

    def labels(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) float -> (n,) int: ground-truth part of each point (argmin)."""
        return self.part_sdfs(points).argmin(axis=1)

    @property
    def part_names(self) -> list[str]:
        return [part.name for part in self.parts]


def _part(name: str, *primitives: SDF) -> Part:
    return Part(name, tuple(primitives))


def _legs(name: str, xs, zs, y: float, radius: float, half_height: float) -> list[Part]:
    return [
        _part(f"{name}", cylinder([x, y, z], radius, half_height, "y"))
        for z in zs
        for x in xs
    ]


def _railing_parts() -> list[Part]:
    parts = [_part("rail", box([0, 0.36, 0], [0.45, 0.03, 0.06]))]
    for i in range(8):
        x = -0.35 + 0.1 * i
        parts.append(
            _part(
                "baluster",
                cylinder([x, 0, 0], 0.016, 0.33, "y"),
                sphere([x, -0.12, 0], 0.032),
                cylinder([x, 0.2, 0], 0.026, 0.015, "y"),
                cylinder([x, -0.31, 0], 0.028, 0.02, "y"),
                cylinder([x, 0.31, 0], 0.028, 0.02, "y"),
            )
        )
    parts.append(_part("base", box([0, -0.36, 0], [0.45, 0.03, 0.07])))
    return parts


def benchmark_shapes() -> dict[str, Shape]:
    """The nine analytic shapes of the reference work plus the railing."""
    shapes = [
        Shape("snowman", (
            _part("body", sphere([0, -0.15, 0], 0.35)),
            _part("head", sphere([0, 0.35, 0], 0.2)),
        )),
        Shape("lollipop", (
            _part("candy", sphere([0, 0.3, 0], 0.25)),
            _part("stick", cylinder([0, -0.2, 0], 0.04, 0.3, "y")),
        )),
        Shape("barbell", (
            _part("weight", sphere([-0.4, 0, 0], 0.2)),
            _part("weight", sphere([0.4, 0, 0], 0.2)),
            _part("bar", cylinder([0, 0, 0], 0.06, 0.4, "x")),
        )),
        Shape("mushroom", (
            _part("cap", sphere([0, 0.15, 0], 0.3)),
            _part("stem", cylinder([0, -0.2, 0], 0.08, 0.25, "y")),
        )),
        Shape("tower", (
            _part("bottom", sphere([0, -0.35, 0], 0.25)),
            _part("middle", sphere([0, 0.05, 0], 0.2)),
            _part("top", sphere([0, 0.35, 0], 0.15)),
        )),
        Shape("table", (
            _part("top", box([0, 0.3, 0], [0.4, 0.03, 0.3])),
            *_legs("leg", [-0.3, 0.3], [-0.2, 0.2], 0.0, 0.03, 0.27),
        )),
        Shape("tpipe", (
            _part("vertical", cylinder([0, 0, 0], 0.1, 0.4, "y")),
            _part("horizontal", cylinder([0, 0.15, 0], 0.1, 0.35, "x")),
        )),
        Shape("l_shape", (
            _part("base", box([-0.15, 0, 0], [0.35, 0.15, 0.2])),
            _part("upright", box([0.15, 0.25, 0], [0.15, 0.25, 0.2])),
        )),
        Shape("chair", (
            _part("seat", box([0, 0, 0], [0.3, 0.03, 0.25])),
            _part("back", box([0, 0.25, -0.22], [0.3, 0.22, 0.02])),
            *_legs("leg", [-0.25, 0.25], [-0.2, 0.2], -0.25, 0.025, 0.22),
        )),
        Shape("railing", tuple(_railing_parts()), mesh_resolution=256),
    ]
    return {shape.name: shape for shape in shapes}


def shape_mesh(shape: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Welded mesh of a benchmark shape and its ground-truth vertex labels.

    Returns vertices (n, 3) float64, faces (m, 3) int64, labels (n,) int64.
    """
    vertices, faces = mesh_from_sdf(shape.sdf, shape.mesh_resolution)
    return vertices, faces, shape.labels(vertices)


def loose_railing_mesh() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``railing_loose``: the railing's 10 parts as separate closed meshes."""
    shape = benchmark_shapes()["railing"]
    all_vertices, all_faces, all_labels = [], [], []
    offset = 0
    for index, part in enumerate(shape.parts):
        vertices, faces = mesh_from_sdf(part.sdf, shape.mesh_resolution)
        all_vertices.append(vertices)
        all_faces.append(faces + offset)
        all_labels.append(np.full(len(vertices), index, dtype=np.int64))
        offset += len(vertices)
    return np.concatenate(all_vertices), np.concatenate(all_faces), np.concatenate(all_labels)
