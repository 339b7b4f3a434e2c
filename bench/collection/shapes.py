"""Posed shapes of the collection: their SDF, part instances and kinds at any point, and their mesh.

A shape is drawn from ``(seed, split, index)`` alone, so the training set and the held-out set are two
disjoint, reproducible streams that never need storing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.mesh.marching import mesh_from_sdf

from .families import FAMILIES, KINDS
from .primitives import SDF, smooth_min

SPLITS = {"train": 0, "held_out": 1}
FIT_RADIUS = 0.45
"""Every posed shape lies in the ball of this radius (inside the unit cube [-0.5, 0.5]^3)."""


@dataclass(frozen=True)
class CollectionShape:
    """One posed compound shape; ``kinds`` (p,) indexes ``families.KINDS`` per part."""

    family: str
    builder: str
    index: int
    part_sdfs_local: tuple[SDF, ...]
    kinds: tuple[int, ...]
    blend: float
    rotation: np.ndarray
    scale: float
    translation: np.ndarray

    def part_sdfs(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) unit-cube points -> (n, p) distances to each part."""
        local = ((points - self.translation) @ self.rotation) / self.scale
        return np.stack([f(local) for f in self.part_sdfs_local], axis=1) * self.scale

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) -> (n,): the union (a smooth union for organic shapes)."""
        return smooth_min(self.part_sdfs(points), self.blend * self.scale)

    def instances(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) -> (n,) int: the part each point belongs to (its nearest part)."""
        return self.part_sdfs(points).argmin(axis=1)

    def kind_labels(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) -> (n,) int: the kind (index into ``KINDS``) of each point's part."""
        return np.asarray(self.kinds)[self.instances(points)]

    def mesh(self, resolution: int = 96) -> tuple[np.ndarray, np.ndarray]:
        """Marching-cubes surface: vertices (n, 3) float64, faces (m, 3) int64."""
        return mesh_from_sdf(self.sdf, resolution, bound=0.5)


def _radius(part_sdfs: list[SDF], blend: float, resolution: int = 48, bound: float = 0.8) -> float:
    """A bound on the distance from the origin to the farthest surface point of the unposed shape.

    Every surface point has a grid node within half a cell diagonal whose SDF is below a cell's width
    (the SDF is 1-Lipschitz), so such nodes bound the surface however thin a part is.
    """
    axis = np.linspace(-bound, bound, resolution)
    cell = float(axis[1] - axis[0])
    nodes = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    values = smooth_min(np.stack([f(nodes) for f in part_sdfs], axis=1), blend)
    return float(np.linalg.norm(nodes[values < cell], axis=1).max()) + cell


def collection_shape(seed: int, split: str, index: int) -> CollectionShape:
    """The ``index``-th shape of ``split`` ("train" or "held_out"); families take turns."""
    rng = np.random.default_rng([seed, SPLITS[split], index])
    family = list(FAMILIES)[index % len(FAMILIES)]
    builders = FAMILIES[family]
    builder = builders[int(rng.integers(len(builders)))]
    parts, blend = builder(rng)
    sdfs = [sdf for _, sdf in parts]
    radius = _radius(sdfs, blend)
    scale = FIT_RADIUS * rng.uniform(0.7, 1.0) / radius
    room = FIT_RADIUS - scale * radius
    direction = rng.normal(size=3)
    translation = direction / np.linalg.norm(direction) * rng.uniform(0.0, max(room, 0.0))
    rotation = Rotation.random(random_state=rng).as_matrix()
    return CollectionShape(family, builder.__name__, index, tuple(sdfs), tuple(KINDS.index(k) for k, _ in parts),
                           blend, rotation, scale, translation)
