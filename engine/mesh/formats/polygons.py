"""Polygons to triangles, shared by the readers of formats that store polygons (OBJ, OFF, PLY)."""

from __future__ import annotations

import numpy as np


def fan_triangulate(corners: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(m, 3) triangles from polygons given as flat corner indices and (p,) corner counts (each >= 3).

    Polygon ``a b c d ...`` becomes ``a b c``, ``a c d``, ...; triangles keep the polygon order.
    Concave polygons may get triangles outside their outline (the usual fan limitation).
    """
    corners = np.asarray(corners, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) == 0:
        return np.zeros((0, 3), np.int64)
    if (counts == 3).all():
        return corners.reshape(-1, 3)
    triangles = counts - 2
    first = np.repeat(np.cumsum(counts) - counts, triangles)
    step = np.arange(int(triangles.sum())) - np.repeat(np.cumsum(triangles) - triangles, triangles) + 1
    return np.stack([corners[first], corners[first + step], corners[first + step + 1]], axis=1)
