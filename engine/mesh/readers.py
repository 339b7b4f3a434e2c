"""Mesh file readers that keep every vertex the file declares, in file order.

``vertex_labels.npy`` holds one label per vertex of the user's file, so a
reader may neither drop a vertex that no face uses nor split one where UVs or
normals change (what trimesh does for OBJ and for PLY with per-face UVs). Each
reader returns vertices (n, 3) float64 and triangles (m, 3) int64 where n is
exactly the number of vertices the file declares:

- OBJ: every ``v`` line, in order. ``f`` corners take only the vertex index
  (``v``, ``v/vt``, ``v//vn``, ``v/vt/vn``; negative indices count back from
  the vertices read so far); polygons are fan-triangulated in place.
- OFF: the declared vertex rows (0-based faces, polygons fan-triangulated).
- PLY: the rows of the ``vertex`` element (ASCII or binary, any property
  layout; per-face ``texcoord`` and other properties are ignored).
- STL: a triangle soup, so the declared vertices are the three corners of
  every facet in facet order (n = 3 m); welding happens later, for
  connectivity only.
- glTF/GLB: one block per triangle primitive (modes TRIANGLES and
  TRIANGLE_STRIP; fans, lines and points are skipped) of every mesh node of the
  default scene, nodes in depth-first pre-order (a node, then its children in
  the order they are listed; roots in the scene's order), primitives in the
  order the mesh lists them; each block holds its POSITION accessor's
  vertices in accessor order at world position (node transforms applied). A
  mesh used by two nodes appears twice.

Faces come in file order too (a polygon's fan triangles stay together).
Errors are :class:`BadInputError` with a one-line message naming the file
(and the line for text formats).
"""

from __future__ import annotations

import base64
import json
import re
import struct
import warnings
from operator import itemgetter
from pathlib import Path

import numpy as np

from ..errors import BadInputError


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


def _decode(path: Path) -> str:
    text = path.read_bytes().decode("utf-8", errors="replace")
    if "\r" in text and "\n" not in text:  # classic Mac line ends
        text = text.replace("\r", "\n")
    return text[1:] if text.startswith("\ufeff") else text


def _floats(rows: list[list[str]], lines: list[int], name: str, what: str) -> np.ndarray:
    """(len(rows), 3) float64 from the first three tokens of each row; a bad number names its line."""
    try:
        return np.array([t for row in rows for t in row[:3]], dtype=np.float64).reshape(-1, 3)
    except ValueError:
        for row, line in zip(rows, lines, strict=True):
            for token in row[:3]:
                try:
                    float(token)
                except ValueError:
                    raise BadInputError(f"{name} line {line}: '{token}' is not a number ({what})") from None
        raise


def _ints(tokens: list[str], corner_lines: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        for token, line in zip(tokens, corner_lines, strict=True):
            try:
                int(token)
            except ValueError:
                raise BadInputError(f"{name} line {line}: '{token}' is not a vertex index") from None
        raise


# ----------------------------------------------------------------------------- OBJ

_CONTINUATION = re.compile(r"\\[ \t]*\r?$")
_EMPTY_VERTEX_INDEX = re.compile(r"(?:^|\s)/")


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of every ``v`` line and fan-triangulated ``f`` polygons (see the module docstring).

    A vectorised pass reads the usual files (about 0.3 s for 330k faces); anything it does not expect
    (line continuations, ``v`` lines of differing widths, a bad token or index) goes to the line-by-line
    reader, which gives the same result or an error naming the line.
    """
    text = _decode(path)
    result = None if "\\" in text else _obj_vectorised(text)
    return result if result is not None else _obj_by_line(text, path.name)


def _obj_vectorised(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The mesh of an OBJ text, or None when it needs the line-by-line reader (which names bad lines)."""
    data = np.frombuffer(text.encode("utf-8", errors="replace"), np.uint8)
    starts = np.concatenate([[0], np.flatnonzero(data == 10) + 1])
    padded = np.concatenate([data, np.array([10, 10], np.uint8)])
    first = padded[starts]
    if ((first == 32) | (first == 9)).any():  # indented lines
        text = re.sub(r"(?m)^[ \t]+", "", text)
        data = np.frombuffer(text.encode("utf-8", errors="replace"), np.uint8)
        starts = np.concatenate([[0], np.flatnonzero(data == 10) + 1])
        padded = np.concatenate([data, np.array([10, 10], np.uint8)])
        first = padded[starts]
    lines = text.split("\n")
    second = padded[starts + 1]
    spaced = (second == 32) | (second == 9)
    v_at = np.flatnonzero((first == ord("v")) & spaced)
    f_at = np.flatnonzero((first == ord("f")) & spaced)
    if len(v_at) == 0 or len(f_at) == 0:
        return None
    v_text = _payload(lines, v_at, "v")
    f_text = _payload(lines, f_at, "f")
    if "#" in v_text:  # inline comments
        v_text = re.sub(r"#[^\n]*", "", v_text)
    if "#" in f_text:
        f_text = re.sub(r"#[^\n]*", "", f_text)
    if "/" in f_text:
        if _EMPTY_VERTEX_INDEX.search(f_text) is not None:
            return None
        f_text = re.sub(r"/\S*", "", f_text)
    v_counts, f_counts = _tokens_per_line(v_text, len(v_at)), _tokens_per_line(f_text, len(f_at))
    width = int(v_counts[0])  # 3, or 4 with w, 6 or 7 with colours: xyz are the first three
    if width < 3 or (v_counts != width).any() or (f_counts < 3).any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            coordinates = np.fromstring(v_text, dtype=np.float64, sep=" ")
            indices = np.fromstring(f_text, dtype=np.int64, sep=" ")
        except (DeprecationWarning, ValueError):  # a token that is not a number
            return None
    if len(coordinates) != width * len(v_at) or len(indices) != int(f_counts.sum()):
        return None
    if (indices < 0).any():
        declared_before = np.repeat(np.searchsorted(v_at, f_at), f_counts)
        corners = np.where(indices > 0, indices - 1, declared_before + indices)
    else:
        corners = indices - 1
    if (indices == 0).any() or corners.min() < 0 or corners.max() >= len(v_at):
        return None
    return coordinates.reshape(-1, width)[:, :3].copy(), fan_triangulate(corners, f_counts)


def _payload(lines: list[str], at: np.ndarray, keyword: str) -> str:
    """The chosen lines without their keyword, one per line."""
    chosen = "\n" + "\n".join(itemgetter(*at.tolist())(lines)) if len(at) > 1 else "\n" + lines[int(at[0])]
    return chosen.replace(f"\n{keyword} ", "\n ").replace(f"\n{keyword}\t", "\n ")[1:]


def _tokens_per_line(text: str, count: int) -> np.ndarray:
    """(count,) number of whitespace-separated tokens on each line of ``text``."""
    data = np.frombuffer(text.encode("utf-8", errors="replace"), np.uint8)
    blank = data <= 32
    token_starts = np.flatnonzero(~blank[1:] & blank[:-1]) + 1
    if len(data) and not blank[0]:
        token_starts = np.concatenate([[0], token_starts])
    line_of_token = np.searchsorted(np.flatnonzero(data == 10), token_starts)
    return np.bincount(line_of_token, minlength=count)[:count] if len(token_starts) else np.zeros(count, np.int64)


def _obj_by_line(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    lines = text.split("\n")
    numbers = None  # 1-based file line of each logical line, when continuations joined some
    if "\\" in text:
        lines, numbers = _join_continuations(lines)
    v_rows, v_at, f_rows, f_at = [], [], [], []
    for index, line in enumerate(lines):
        head = line[:2]
        if head[:1] in (" ", "\t"):
            line = line.lstrip()
            head = line[:2]
        if head == "v " or head == "v\t":
            v_rows.append(line)
            v_at.append(index)
        elif head == "f " or head == "f\t":
            f_rows.append(line)
            f_at.append(index)
    line_of = (lambda i: i + 1) if numbers is None else (lambda i: numbers[i])
    if not v_rows:
        raise BadInputError(f"{name} has no vertices ('v' lines)")
    if not f_rows:
        raise BadInputError(f"{name} has no faces ('f' lines); a triangle or polygon mesh is needed")

    v_tokens = [(row.split("#", 1)[0] if "#" in row else row).split() for row in v_rows]
    short = [i for i, row in enumerate(v_tokens) if len(row) < 4]
    if short:
        raise BadInputError(f"{name} line {line_of(v_at[short[0]])}: a 'v' line needs x y z")
    vertices = _floats([row[1:4] for row in v_tokens], [line_of(i) for i in v_at], name, "vertex coordinate")

    text = "\n".join(row.split("#", 1)[0] if "#" in row else row for row in f_rows)
    if "/" in text:
        empty = _EMPTY_VERTEX_INDEX.search(text)
        if empty is not None:
            row = text.count("\n", 0, empty.start())
            raise BadInputError(f"{name} line {line_of(f_at[row])}: a face corner has no vertex index")
        text = re.sub(r"/\S*", "", text)
    f_tokens = [row.split() for row in text.split("\n")]
    counts = np.fromiter((len(row) - 1 for row in f_tokens), dtype=np.int64, count=len(f_tokens))
    if (counts < 3).any():
        row = int(np.flatnonzero(counts < 3)[0])
        raise BadInputError(f"{name} line {line_of(f_at[row])}: a face needs at least 3 vertices")
    face_lines = np.array([line_of(i) for i in f_at], dtype=np.int64)
    corner_lines = np.repeat(face_lines, counts)
    indices = _ints([t for row in f_tokens for t in row[1:]], corner_lines, name)

    # OBJ indices are 1-based; negative ones count back from the vertices declared before the face line
    declared_before = np.repeat(np.searchsorted(np.asarray(v_at), np.asarray(f_at)), counts)
    corners = np.where(indices > 0, indices - 1, declared_before + indices)
    bad = (indices == 0) | (corners < 0) | (corners >= len(vertices))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        value, line = int(indices[at]), int(corner_lines[at])
        if value == 0:
            raise BadInputError(f"{name} line {line}: face index 0 is not valid (OBJ vertex indices start at 1)")
        if value < 0:
            raise BadInputError(
                f"{name} line {line}: face index {value} reaches before the first vertex "
                f"({int(declared_before[at])} vertices come before this line)"
            )
        raise BadInputError(
            f"{name} line {line}: face index {value} is past the last vertex ({len(vertices)} 'v' lines)"
        )
    return vertices, fan_triangulate(corners, counts)


def _join_continuations(lines: list[str]) -> tuple[list[str], list[int]]:
    joined, numbers, pending, start = [], [], "", 0
    for index, line in enumerate(lines):
        if not pending:
            start = index + 1
        match = _CONTINUATION.search(line)
        if match is not None:
            pending += line[: match.start()] + " "
            continue
        joined.append(pending + line)
        numbers.append(start)
        pending = ""
    if pending:
        joined.append(pending)
        numbers.append(start)
    return joined, numbers


# ----------------------------------------------------------------------------- OFF


def read_off(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The declared vertex rows and fan-triangulated polygons of an ASCII OFF file (COFF, NOFF, ... too)."""
    text = _decode(path)
    result = _off_vectorised(text)
    return result if result is not None else _off_by_line(text, path.name)


def _off_vectorised(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The mesh of a well-formed OFF text, or None when it needs the line-by-line reader (which names bad lines)."""
    if "#" in text:
        text = re.sub(r"#[^\n]*", "", text)
    lines = [line for line in text.split("\n") if line and not line.isspace()]
    if not lines:
        return None
    header = lines[0].split()
    if not _off_keyword(header[0]):
        return None
    count_tokens, start = (header[1:3], 1) if len(header) > 1 else (lines[1].split()[:2] if len(lines) > 1 else [], 2)
    try:
        counts = [int(t) for t in count_tokens]
    except ValueError:
        return None
    if len(counts) != 2 or counts[0] < 3 or counts[1] < 1 or start + sum(counts) > len(lines):
        return None
    vertex_count, face_count = counts
    v_text = "\n".join(lines[start : start + vertex_count])
    f_text = "\n".join(lines[start + vertex_count : start + vertex_count + face_count])
    v_tokens, f_tokens = _tokens_per_line(v_text, vertex_count), _tokens_per_line(f_text, face_count)
    width = int(v_tokens[0])
    if width < 3 or (v_tokens != width).any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            coordinates = np.fromstring(v_text, dtype=np.float64, sep=" ")
            numbers = np.fromstring(f_text, dtype=np.int64, sep=" ")
        except (DeprecationWarning, ValueError):  # not numbers, or float face colours
            return None
    if len(coordinates) != width * vertex_count or len(numbers) != int(f_tokens.sum()):
        return None
    line_starts = np.cumsum(f_tokens) - f_tokens
    sizes = numbers[line_starts]
    if (sizes < 3).any() or (f_tokens < sizes + 1).any():
        return None
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    corners = numbers[np.repeat(line_starts + 1, sizes) + within]
    if corners.min() < 0 or corners.max() >= vertex_count:
        return None
    return coordinates.reshape(-1, width)[:, :3].copy(), fan_triangulate(corners, sizes)


def _off_keyword(keyword: str) -> bool:
    """OFF, COFF, NOFF, STOFF, ... (3-D); not 4OFF or nOFF (other dimensions)."""
    prefix = keyword[:-3]
    return keyword.upper().endswith("OFF") and (set(prefix) <= set("STCN") or set(prefix) <= set("stc"))


def _off_by_line(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    content = []  # (line number, tokens) of lines with data, comments removed
    for number, line in enumerate(text.split("\n"), start=1):
        tokens = line.split("#", 1)[0].split()
        if tokens:
            content.append((number, tokens))
    if not content or not content[0][1][0].upper().endswith("OFF"):
        raise BadInputError(f"{name} is not an OFF file (no OFF header)")
    keyword = content[0][1][0]
    if "BINARY" in (t.upper() for t in content[0][1][1:]):
        raise BadInputError(f"{name} is a binary OFF file; save it as ASCII OFF, PLY or OBJ")
    if not _off_keyword(keyword):
        raise BadInputError(f"{name}: '{keyword}' files are not supported; a 3-D OFF mesh is needed")
    rest = content[0][1][1:]
    position = 1
    if not rest:
        if len(content) < 2:
            raise BadInputError(f"{name} has no vertex/face count line")
        count_line, rest = content[1]
        position = 2
    else:
        count_line = content[0][0]
    try:
        vertex_count, face_count = int(rest[0]), int(rest[1])
    except (ValueError, IndexError):
        raise BadInputError(f"{name} line {count_line}: expected the vertex and face counts") from None
    if vertex_count < 0 or face_count < 0 or position + vertex_count + face_count > len(content):
        raise BadInputError(
            f"{name} declares {vertex_count} vertices and {face_count} faces "
            f"but holds {len(content) - position} data lines"
        )
    vertex_part = content[position : position + vertex_count]
    for number, tokens in vertex_part:
        if len(tokens) < 3:
            raise BadInputError(f"{name} line {number}: a vertex needs x y z")
    vertices = _floats([t for _, t in vertex_part], [n for n, _ in vertex_part], name, "vertex coordinate")
    if face_count == 0:
        raise BadInputError(f"{name} has no faces; a triangle or polygon mesh is needed")
    face_part = content[position + vertex_count : position + vertex_count + face_count]
    counts, corners, corner_lines = [], [], []
    for number, tokens in face_part:
        try:
            size = int(tokens[0])
        except ValueError:
            raise BadInputError(f"{name} line {number}: '{tokens[0]}' is not a corner count") from None
        if size < 3 or len(tokens) < size + 1:
            raise BadInputError(f"{name} line {number}: a face needs a corner count >= 3 and that many indices")
        counts.append(size)
        corners.extend(tokens[1 : size + 1])
        corner_lines.append(number)
    counts = np.asarray(counts, dtype=np.int64)
    corner_lines = np.repeat(np.asarray(corner_lines, dtype=np.int64), counts)
    indices = _ints(corners, corner_lines, name)
    bad = (indices < 0) | (indices >= vertex_count)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise BadInputError(
            f"{name} line {int(corner_lines[at])}: face index {int(indices[at])} is outside 0..{vertex_count - 1}"
        )
    return vertices, fan_triangulate(indices, counts)


# ----------------------------------------------------------------------------- PLY

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip
_STRUCT = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "f4": "f", "f8": "d"}


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the ``vertex`` element and the fan-triangulated ``face`` index lists (ASCII or binary)."""
    name = path.name
    data = path.read_bytes()
    match = re.search(rb"end_header[ \t]*\r?\n", data[:65536])
    if not data.startswith(b"ply") or match is None:
        raise BadInputError(f"{name} is not a PLY file (no 'ply' ... 'end_header' header)")
    fmt, elements = _ply_header(data[: match.start()].decode("ascii", errors="replace"), name)
    body = data[match.end() :]
    parsed: dict[str, dict] = {}
    if fmt == "ascii":
        tokens, position = body.split(), 0
        for element, count, props in elements:
            parsed[element], position = _ply_ascii_element(tokens, position, count, props, element, name)
    else:
        endian, offset = ("<" if fmt == "binary_little_endian" else ">"), 0
        for element, count, props in elements:
            parsed[element], offset = _ply_binary_element(body, offset, count, props, endian, element, name)
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


def _ply_header(text: str, name: str) -> tuple[str, list]:
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


def _ply_ascii_element(tokens, position, count, props, element, name):
    """({property: column array, list property: (flat, counts)}, next token position)."""
    truncated = BadInputError(f"{name} is truncated: the '{element}' element has fewer than {count} rows")
    if count == 0:
        return {p[0]: (np.zeros(0), np.zeros(0, np.int64)) if p[2] else np.zeros(0) for p in props}, position
    layout, cursor = [], position  # the first row's list lengths, assumed for every row (checked)
    for prop in props:
        if cursor >= len(tokens):
            raise truncated
        size = int(float(tokens[cursor])) if prop[2] else 0
        layout.append(size)
        cursor += 1 + size if prop[2] else 1
    width = cursor - position
    block = None
    if position + count * width <= len(tokens):
        try:
            block = np.array(tokens[position : position + count * width], dtype=np.float64).reshape(count, width)
        except ValueError:
            block = None
    if block is not None:
        result, column, uniform = {}, 0, True
        for prop, size in zip(props, layout, strict=True):
            if prop[2]:
                uniform &= bool((block[:, column] == size).all())
                result[prop[0]] = (block[:, column + 1 : column + 1 + size].reshape(-1), np.full(count, size, np.int64))
                column += 1 + size
            else:
                result[prop[0]] = block[:, column]
                column += 1
        if uniform:
            return result, position + count * width
    # rows of differing list lengths: walk them one by one
    if position + count > len(tokens):
        raise truncated
    values = {p[0]: [] for p in props}
    sizes = {p[0]: [] for p in props if p[2]}
    try:
        for _ in range(count):
            for prop in props:
                if prop[2]:
                    size = int(tokens[position])
                    values[prop[0]].extend(tokens[position + 1 : position + 1 + size])
                    sizes[prop[0]].append(size)
                    position += 1 + size
                else:
                    values[prop[0]].append(tokens[position])
                    position += 1
        if position > len(tokens):
            raise truncated
        result = {}
        for prop in props:
            column = np.array(values[prop[0]], dtype=np.float64)
            result[prop[0]] = (column, np.array(sizes[prop[0]], np.int64)) if prop[2] else column
    except (ValueError, IndexError):
        raise BadInputError(f"{name}: unreadable '{element}' rows (expected numbers per the header)") from None
    return result, position


def _ply_binary_element(body, offset, count, props, endian, element, name):
    """({property: column array, list property: (flat, counts)}, next byte offset)."""
    truncated = BadInputError(f"{name} is truncated: the '{element}' element has fewer than {count} rows")
    fields, cursor = [], offset  # a fixed row layout from the first row's list lengths (checked)
    for index, (_, kind, item) in enumerate(props):
        if item is None:
            fields.append((f"{index}", endian + kind))
            cursor += np.dtype(kind).itemsize
            continue
        if count == 0:
            size = 0
        elif cursor + np.dtype(kind).itemsize > len(body):
            raise truncated
        else:
            size = int(np.frombuffer(body, endian + kind, 1, cursor)[0])
        fields.append((f"{index}n", endian + kind))
        fields.append((f"{index}", endian + item, (size,)))
        cursor += np.dtype(kind).itemsize + size * np.dtype(item).itemsize
    row = np.dtype(fields)
    if row.itemsize == 0 and count > 0:
        raise BadInputError(f"{name}: the '{element}' element has no properties")
    if offset + count * row.itemsize <= len(body):
        block = np.frombuffer(body, row, count, offset)
        uniform = all((block[f"{i}n"] == block[f"{i}n"][:1]).all() for i, p in enumerate(props) if p[2] is not None)
        if uniform:
            result = {}
            for index, (prop, _, item) in enumerate(props):
                column = block[f"{index}"]
                result[prop] = column.copy() if item is None else (
                    column.reshape(-1).copy(), block[f"{index}n"].astype(np.int64))
            return result, offset + count * row.itemsize
    # rows of differing list lengths: walk them one by one
    if offset + count > len(body):
        raise truncated
    values = {p[0]: [] for p in props}
    sizes = {p[0]: [] for p in props if p[2] is not None}
    try:
        for _ in range(count):
            for prop, kind, item in props:
                if item is None:
                    values[prop].append(struct.unpack_from(endian + _STRUCT[kind], body, offset)[0])
                    offset += np.dtype(kind).itemsize
                    continue
                size = struct.unpack_from(endian + _STRUCT[kind], body, offset)[0]
                offset += np.dtype(kind).itemsize
                values[prop].extend(struct.unpack_from(f"{endian}{size}{_STRUCT[item]}", body, offset))
                sizes[prop].append(size)
                offset += size * np.dtype(item).itemsize
    except struct.error:
        raise truncated from None
    result = {}
    for prop, kind, item in props:
        if item is None:
            result[prop] = np.array(values[prop], dtype=kind)
        else:
            result[prop] = (np.array(values[prop], dtype=item), np.array(sizes[prop], np.int64))
    return result, offset


# ----------------------------------------------------------------------------- STL


def read_stl(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Three vertices per facet in facet order (n = 3 m), ASCII or binary, through trimesh without merging."""
    import trimesh

    loaded = trimesh.load(path, file_type="stl", force="mesh", process=False)
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise BadInputError(f"{path.name} holds no facets")
    vertices, faces = np.asarray(loaded.vertices, np.float64), np.asarray(loaded.faces, np.int64)
    soup = vertices[faces].reshape(-1, 3)  # trimesh keeps the soup as is; this holds even if it ever merged
    return soup, np.arange(len(soup), dtype=np.int64).reshape(-1, 3)


# ----------------------------------------------------------------------------- glTF / GLB

_GL_COMPONENTS = {5120: "i1", 5121: "u1", 5122: "i2", 5123: "u2", 5125: "u4", 5126: "f4"}
_GL_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_GL_NORMALISED = {"i1": 127.0, "u1": 255.0, "i2": 32767.0, "u2": 65535.0}
_GL_TRIANGLES, _GL_STRIP = 4, 5
_UNSUPPORTED_EXTENSIONS = ("KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression")


def read_gltf(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """World-space vertices of every triangle primitive, in the order the module docstring defines."""
    name = path.name
    document, binary = _gltf_document(path)
    used = set(document.get("extensionsRequired", [])) | set(document.get("extensionsUsed", []))
    for extension in _UNSUPPORTED_EXTENSIONS:
        if extension in used:
            raise BadInputError(f"{name} uses {extension}; export the glTF without mesh compression")
    buffers = [_gltf_buffer(buffer, index, binary, path) for index, buffer in enumerate(document.get("buffers", []))]
    nodes, meshes = document.get("nodes", []), document.get("meshes", [])
    scenes = document.get("scenes", [])
    if scenes:
        roots = list(scenes[document.get("scene", 0)].get("nodes", []))
    else:  # no scene: every node that is nobody's child
        children = {child for node in nodes for child in node.get("children", [])}
        roots = [i for i in range(len(nodes)) if i not in children]
    blocks_v, blocks_f, total = [], [], 0
    stack = [(root, np.eye(4)) for root in reversed(roots)]
    visited = 0
    while stack:
        index, parent = stack.pop()
        visited += 1
        if visited > 100_000:
            raise BadInputError(f"{name}: the node hierarchy is cyclic or too deep")
        node = nodes[index]
        world = parent @ _gltf_local(node)
        if "mesh" in node:
            for primitive in meshes[node["mesh"]].get("primitives", []):
                mode = primitive.get("mode", _GL_TRIANGLES)
                if mode not in (_GL_TRIANGLES, _GL_STRIP) or "POSITION" not in primitive.get("attributes", {}):
                    continue
                local = _gltf_accessor(document, buffers, primitive["attributes"]["POSITION"], name)[:, :3]
                if "indices" in primitive:
                    flat = _gltf_accessor(document, buffers, primitive["indices"], name).reshape(-1).astype(np.int64)
                else:
                    flat = np.arange(len(local), dtype=np.int64)
                faces = _gltf_triangles(flat, mode)
                if len(faces) and (faces.min() < 0 or faces.max() >= len(local)):
                    raise BadInputError(f"{name}: a primitive of mesh {node['mesh']} indexes a missing vertex")
                if np.linalg.det(world[:3, :3]) < 0:  # a mirroring transform: keep triangles facing out
                    faces = faces[:, [0, 2, 1]]
                blocks_v.append(local.astype(np.float64) @ world[:3, :3].T + world[:3, 3])
                blocks_f.append(faces + total)
                total += len(local)
        stack.extend((child, world) for child in reversed(node.get("children", [])))
    if not blocks_v:
        raise BadInputError(f"{name} contains no triangle mesh")
    return np.concatenate(blocks_v), np.concatenate(blocks_f)


def _gltf_document(path: Path) -> tuple[dict, bytes | None]:
    data = path.read_bytes()
    if data[:4] != b"glTF":
        return json.loads(data.decode("utf-8-sig")), None
    if len(data) < 20:
        raise BadInputError(f"{path.name} is truncated (GLB header)")
    length, kind = struct.unpack_from("<II", data, 12)
    if kind != 0x4E4F534A:
        raise BadInputError(f"{path.name}: the first GLB chunk is not JSON")
    document = json.loads(data[20 : 20 + length].decode("utf-8"))
    binary, offset = None, 20 + length + (-length % 4)
    if offset + 8 <= len(data):
        size, kind = struct.unpack_from("<II", data, offset)
        if kind == 0x004E4942:
            binary = data[offset + 8 : offset + 8 + size]
    return document, binary


def _gltf_buffer(buffer: dict, index: int, binary: bytes | None, path: Path) -> bytes:
    uri = buffer.get("uri")
    if uri is None:
        if binary is None:
            raise BadInputError(f"{path.name}: buffer {index} has no data")
        return binary
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    from urllib.parse import unquote

    source = path.parent / unquote(uri)
    if not source.is_file():
        raise BadInputError(f"{path.name}: buffer file '{uri}' not found next to it")
    return source.read_bytes()


def _gltf_local(node: dict) -> np.ndarray:
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T  # stored column-major
    x, y, z, w = node.get("rotation", (0.0, 0.0, 0.0, 1.0))
    rotation = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip
    local = np.eye(4)
    local[:3, :3] = rotation * np.asarray(node.get("scale", (1.0, 1.0, 1.0)), dtype=np.float64)
    local[:3, 3] = node.get("translation", (0.0, 0.0, 0.0))
    return local


def _gltf_accessor(document: dict, buffers: list[bytes], index: int, name: str) -> np.ndarray:
    """(count, width) array of one accessor (strided views, sparse substitution, normalised integers)."""
    accessor = document["accessors"][index]
    kind, width, count = _GL_COMPONENTS[accessor["componentType"]], _GL_WIDTH[accessor["type"]], accessor["count"]
    if "bufferView" in accessor:
        view = document["bufferViews"][accessor["bufferView"]]
        data = buffers[view["buffer"]]
        start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
        item = np.dtype(kind).itemsize * width
        stride = view.get("byteStride") or item
        if count and start + (count - 1) * stride + item > len(data):
            raise BadInputError(f"{name}: accessor {index} reaches past the end of its buffer")
        raw = np.frombuffer(data, np.uint8, (count - 1) * stride + item if count else 0, start)
        values = np.lib.stride_tricks.as_strided(raw, (count, item), (stride, 1)).copy()
        values = values.view("<" + kind).reshape(count, width)
    else:
        values = np.zeros((count, width), dtype=kind)
    sparse = accessor.get("sparse")
    if sparse:
        values = values.copy()
        index_kind = _GL_COMPONENTS[sparse["indices"]["componentType"]]
        places = _gltf_sparse(document, buffers, sparse["indices"], sparse["count"], 1, index_kind)
        replaced = _gltf_sparse(document, buffers, sparse["values"], sparse["count"], width, kind)
        values[places.reshape(-1).astype(np.int64)] = replaced
    if accessor.get("normalized") and kind in _GL_NORMALISED:
        return np.maximum(values.astype(np.float64) / _GL_NORMALISED[kind], -1.0)
    return values


def _gltf_sparse(document, buffers, part, count, width, kind):
    view = document["bufferViews"][part["bufferView"]]
    start = view.get("byteOffset", 0) + part.get("byteOffset", 0)
    return np.frombuffer(buffers[view["buffer"]], "<" + kind, count * width, start).reshape(count, width)


def _gltf_triangles(flat: np.ndarray, mode: int) -> np.ndarray:
    if mode == _GL_TRIANGLES:
        return flat[: len(flat) // 3 * 3].reshape(-1, 3)
    if len(flat) < 3:
        return np.zeros((0, 3), np.int64)
    first = np.arange(len(flat) - 2)
    faces = np.stack([flat[first], flat[first + 1], flat[first + 2]], axis=1)
    faces[1::2] = faces[1::2][:, [1, 0, 2]]  # every other strip triangle is wound the other way
    return faces
