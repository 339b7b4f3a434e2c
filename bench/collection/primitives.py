"""Oriented SDF primitives: functions ``(n, 3) float -> (n,) float``, negative inside.

Unlike ``bench.shapes`` (axis-aligned, for the nine benchmark shapes) these take any orientation, so the
procedural families can lean a chair back or bend a pipe. Distances are exact outside every primitive and
a bound inside boxes, which is all a clamped SDF fit needs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SDF = Callable[[np.ndarray], np.ndarray]


def frame(axis) -> np.ndarray:
    """(3, 3) rotation whose third row is the unit ``axis`` (rows: an orthonormal basis)."""
    w = np.asarray(axis, dtype=np.float64)
    w = w / np.linalg.norm(w)
    helper = np.array([1.0, 0.0, 0.0]) if abs(w[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(w, helper)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(w, u), w])


def sphere(center, radius: float) -> SDF:
    c = np.asarray(center, dtype=np.float64)
    return lambda p: np.linalg.norm(p - c, axis=1) - radius


def ellipsoid(center, radii, rotation: np.ndarray | None = None) -> SDF:
    """An ellipsoid; ``rotation`` (3, 3) rows are the local axes.

    Outside: Quilez's first-order distance; inside: (k - 1) times the smallest radius, k the scaled radius
    (exact for a sphere, never deeper than the true distance; Quilez's form fades to 0 at the centre).
    """
    c = np.asarray(center, dtype=np.float64)
    r = np.asarray(radii, dtype=np.float64)
    rows = np.eye(3) if rotation is None else rotation

    def sdf(p: np.ndarray) -> np.ndarray:
        q = (p - c) @ rows.T
        k0 = np.linalg.norm(q / r, axis=1)
        k1 = np.linalg.norm(q / (r * r), axis=1)
        outside = k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)
        return np.where(k0 < 1.0, (k0 - 1.0) * r.min(), outside)

    return sdf


def box(center, half_extents, rotation: np.ndarray | None = None, rounding: float = 0.0) -> SDF:
    """A box with ``half_extents`` along the rows of ``rotation`` (3, 3), edges rounded by ``rounding``."""
    c = np.asarray(center, dtype=np.float64)
    h = np.asarray(half_extents, dtype=np.float64) - rounding
    rows = np.eye(3) if rotation is None else rotation

    def sdf(p: np.ndarray) -> np.ndarray:
        q = np.abs((p - c) @ rows.T) - h
        return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0) - rounding

    return sdf


def capsule(start, end, radius: float) -> SDF:
    """Points within ``radius`` of the segment from ``start`` to ``end``."""
    a = np.asarray(start, dtype=np.float64)
    b = np.asarray(end, dtype=np.float64)
    ab = b - a
    length2 = max(float(ab @ ab), 1e-12)

    def sdf(p: np.ndarray) -> np.ndarray:
        t = np.clip((p - a) @ ab / length2, 0.0, 1.0)
        return np.linalg.norm(p - a - t[:, None] * ab, axis=1) - radius

    return sdf


def cylinder(start, end, radius: float) -> SDF:
    """A flat-ended cylinder of ``radius`` from ``start`` to ``end``."""
    a = np.asarray(start, dtype=np.float64)
    b = np.asarray(end, dtype=np.float64)
    centre, half = (a + b) / 2.0, np.linalg.norm(b - a) / 2.0
    axis = (b - a) / max(2.0 * half, 1e-12)

    def sdf(p: np.ndarray) -> np.ndarray:
        q = p - centre
        along = q @ axis
        radial = np.linalg.norm(q - along[:, None] * axis, axis=1) - radius
        axial = np.abs(along) - half
        outside = np.hypot(np.maximum(radial, 0.0), np.maximum(axial, 0.0))
        return outside + np.minimum(np.maximum(radial, axial), 0.0)

    return sdf


def torus_arc(center, axis, major: float, minor: float, arc: float = 2.0 * np.pi, start: float = 0.0) -> SDF:
    """A tube of radius ``minor`` along a circle of radius ``major`` around ``axis``, over ``arc`` radians.

    The arc starts at angle ``start`` in the plane's first basis direction (``frame(axis)`` rows 0 and 1);
    a partial arc ends in round caps. A full arc is a torus.
    """
    c = np.asarray(center, dtype=np.float64)
    rows = frame(axis)

    def sdf(p: np.ndarray) -> np.ndarray:
        q = (p - c) @ rows.T
        angle = np.mod(np.arctan2(q[:, 1], q[:, 0]) - start, 2.0 * np.pi)
        clamped = np.where(angle <= arc, angle, np.where(angle - arc < 2.0 * np.pi - angle, arc, 0.0)) + start
        nearest = np.stack([major * np.cos(clamped), major * np.sin(clamped), np.zeros(len(q))], axis=1)
        return np.linalg.norm(q - nearest, axis=1) - minor

    return sdf


def union(*sdfs: SDF) -> SDF:
    """The min of several primitives: one part made of pieces."""
    return lambda p: np.min([f(p) for f in sdfs], axis=0)


def smooth_min(values: np.ndarray, blend: float) -> np.ndarray:
    """(n, k) -> (n,): polynomial smooth minimum over the columns (hard min when ``blend`` is 0).

    Folds the columns pairwise with Quilez's quadratic smooth min, which never exceeds the hard min.
    """
    result = values[:, 0]
    if blend <= 0.0:
        return values.min(axis=1)
    for column in range(1, values.shape[1]):
        other = values[:, column]
        h = np.clip(0.5 + 0.5 * (other - result) / blend, 0.0, 1.0)
        result = other + (result - other) * h - blend * h * (1.0 - h)
    return result
