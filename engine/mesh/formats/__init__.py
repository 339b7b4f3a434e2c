"""Mesh file readers that keep every vertex the file declares, in file order.

``vertex_labels.npy`` holds one label per vertex of the user's file, so a
reader may neither drop a vertex that no face uses nor split one where UVs or
normals change (what trimesh does for OBJ and for PLY with per-face UVs). Each
reader takes a path and returns vertices (n, 3) float64 and triangles (m, 3)
int64 where n is exactly the number of vertices the file declares; each
format's module says which those are (``obj``, ``off``, ``ply``, ``stl``,
``gltf``). Faces come in file order too (a polygon's fan triangles stay
together). Errors are :class:`BadInputError` with a one-line message naming
the file (and the line for text formats).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .gltf import read_gltf
from .obj import read_obj
from .off import read_off
from .ply import read_ply
from .stl import read_stl

READERS: dict[str, Callable[[Path], tuple[np.ndarray, np.ndarray]]] = {
    ".obj": read_obj,
    ".ply": read_ply,
    ".stl": read_stl,
    ".off": read_off,
    ".glb": read_gltf,
    ".gltf": read_gltf,
}
"""The reader of each lower-case file suffix."""
