"""PLY (ASCII or binary): the rows of the ``vertex`` element and the ``face`` index lists.

Any property layout is read; per-face ``texcoord`` and other properties are ignored, so vertices are
never split at UV seams. The header is parsed here, the element rows in ``ply_elements``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .ply_elements import PlyColumns, PlyElement, read_ascii_element, read_binary_element
from .polygons import fan_triangulate

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the ``vertex`` element and the fan-triangulated ``face`` index lists (ASCII or binary)."""
    name = path.name
    data = path.read_bytes()
    match = re.search(rb"end_header[ \t]*\r?\n", data[:65536])
    if not data.startswith(b"ply") or match is None:
        raise BadInputError(f"{name} is not a PLY file (no 'ply' ... 'end_header' header)")
    fmt, elements = _read_header(data[: match.start()].decode("ascii", errors="replace"), name)
    body = data[match.end() :]
    parsed: dict[str, PlyColumns] = {}
    if fmt == "ascii":
        tokens, position = body.split(), 0
        for element, count, props in elements:
            parsed[element], position = read_ascii_element(tokens, position, count, props, element, name)
    else:
        endian, offset = ("<" if fmt == "binary_little_endian" else ">"), 0
        for element, count, props in elements:
            parsed[element], offset = read_binary_element(body, offset, count, props, endian, element, name)
    vertex = parsed.get("vertex")
    if vertex is None or not all(axis in vertex for axis in "xyz"):
        raise BadInputError(f"{name} has no vertex element with x, y, z properties")
    vertices = np.column_stack([np.asarray(vertex[axis], dtype=np.float64) for axis in "xyz"])
    face = parsed.get("face", {})
    lists = [key for key, value in face.items() if isinstance(value, tuple)]
    key = next((k for k in ("vertex_indices", "vertex_index") if k in lists), lists[0] if lists else None)
    if key is None or len(face[key][1]) == 0:
        raise BadInputError(f"{name} has no faces; a triangle or polygon mesh is needed")
    flat, counts = face[key]
    if (counts < 3).any():
        raise BadInputError(f"{name}: face {int(np.flatnonzero(counts < 3)[0])} has fewer than 3 corners")
    if flat.dtype.kind == "f" and not np.array_equal(flat, np.round(flat)):
        raise BadInputError(f"{name}: face indices must be integers")
    corners = flat.astype(np.int64)
    bad = (corners < 0) | (corners >= len(vertices))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        row = int(np.searchsorted(np.cumsum(counts), at, side="right"))
        raise BadInputError(
            f"{name}: face {row} refers to vertex {int(corners[at])}, but the file has {len(vertices)} vertices"
        )
    return vertices, fan_triangulate(corners, counts)


def _read_header(text: str, name: str) -> tuple[str, list[PlyElement]]:
    """The format (``ascii``, ``binary_little_endian`` or ``binary_big_endian``) and the elements in file order."""
    fmt, elements = None, []
    for line in text.splitlines()[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        try:
            if words[0] == "format":
                fmt = words[1]
            elif words[0] == "element":
                elements.append((words[1], int(words[2]), []))
            elif words[0] == "property" and words[1] == "list":
                elements[-1][2].append((words[4], _PLY_TYPES[words[2]], _PLY_TYPES[words[3]]))
            elif words[0] == "property":
                elements[-1][2].append((words[2], _PLY_TYPES[words[1]], None))
        except (IndexError, KeyError, ValueError):
            raise BadInputError(f"{name}: bad PLY header line '{line.strip()}'") from None
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise BadInputError(f"{name}: unknown PLY format '{fmt}'")
    if any(count < 0 for _, count, _ in elements):
        raise BadInputError(f"{name}: negative element count in the PLY header")
    return fmt, elements
