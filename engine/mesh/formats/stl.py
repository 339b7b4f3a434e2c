"""STL (ASCII or binary): a triangle soup, so the declared vertices are the three corners of every facet.

There are n = 3 m vertices in facet order; welding happens later, for connectivity only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import BadInputError


def read_stl(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Three vertices per facet in facet order (n = 3 m), ASCII or binary, through trimesh without merging."""
    import trimesh

    loaded = trimesh.load(path, file_type="stl", force="mesh", process=False)
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise BadInputError(f"{path.name} holds no facets")
    vertices, faces = np.asarray(loaded.vertices, np.float64), np.asarray(loaded.faces, np.int64)
    soup = vertices[faces].reshape(-1, 3)  # trimesh keeps the soup as is; this holds even if it ever merged
    return soup, np.arange(len(soup), dtype=np.int64).reshape(-1, 3)
