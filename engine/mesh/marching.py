"""Marching cubes of signed distance fields, evaluated coarse-to-fine.

A field maps (n, 3) points to (n,) distances or (n, c) distances, one column
per channel (a part SDF per channel). Only grid nodes near some channel's zero
set are evaluated exactly; marching cubes never reads the others.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Field = Callable[[np.ndarray], np.ndarray]


def sample_grid(field: Field, axis: np.ndarray, coarse_step: int = 4) -> np.ndarray:
    """Values of ``field`` on the grid ``axis^3``: (r, r, r) or (r, r, r, c), exact near every zero set.

    A coarse grid (every ``coarse_step``-th node) is evaluated first; a fine node
    is evaluated exactly only where its nearest coarse node lies closer to some
    channel's zero set than the Lipschitz bound allows to decide the sign,
    elsewhere the coarse value stands in (right sign, far from the zero set,
    unused by marching cubes).
    """
    r = len(axis)
    spacing = axis[1] - axis[0]
    nearest = np.minimum(np.rint(np.arange(r) / coarse_step).astype(int) * coarse_step, r - 1)
    coarse_index = np.unique(nearest)
    coarse_axis = axis[coarse_index]
    coarse = np.stack(np.meshgrid(coarse_axis, coarse_axis, coarse_axis, indexing="ij"), -1).reshape(-1, 3)
    coarse_values = np.asarray(field(coarse))
    coarse_values = coarse_values.reshape((len(coarse_index),) * 3 + coarse_values.shape[1:])
    lookup = np.searchsorted(coarse_index, nearest)
    values = coarse_values[np.ix_(lookup, lookup, lookup)]
    margin = spacing * np.sqrt(3.0) * (coarse_step / 2.0 + 1.0)
    closest = np.abs(values) if values.ndim == 3 else np.abs(values).min(axis=3)
    near = np.nonzero(closest <= margin)
    points = np.stack([axis[near[0]], axis[near[1]], axis[near[2]]], axis=1)
    values[near] = field(points)
    return values


def grid_mesh(values: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed marching-cubes surface of the (r, r, r) grid ``values`` sampled on ``axis^3``.

    The grid is cropped to the inside region and padded with outside values, so
    a solid touching the grid's border still gets a closed surface. Returns
    vertices (n, 3) float64 and faces (m, 3) int64, outward-facing; both empty
    when no node is inside.
    """
    from skimage.measure import marching_cubes

    inside = np.nonzero(values < 0.0)
    if len(inside[0]) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    low = [max(int(i.min()) - 1, 0) for i in inside]
    high = [min(int(i.max()) + 2, len(axis)) for i in inside]
    crop = values[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    outside = max(float(np.abs(values).max()), 1e-3)
    padded = np.pad(crop, 1, constant_values=outside)
    spacing = float(axis[1] - axis[0])
    vertices, faces, _, _ = marching_cubes(padded, level=0.0, spacing=(spacing,) * 3)
    origin = np.array([axis[lo] - spacing for lo in low])
    return (vertices + origin).astype(np.float64), np.ascontiguousarray(faces, dtype=np.int64)


def mesh_from_sdf(sdf: Field, resolution: int, bound: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes of a single-channel ``sdf`` over ``[-bound, bound]^3``.

    Returns vertices (n, 3) float64 and faces (m, 3) int64, welded and with
    outward-facing triangles.
    """
    axis = np.linspace(-bound, bound, resolution)
    return grid_mesh(sample_grid(sdf, axis), axis)
