"""OFF (ASCII; COFF, NOFF, STOFF, ... too): the declared vertex rows, 0-based polygons fan-triangulated."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .polygons import fan_triangulate
from .text import decode_text, numbers_or_none, parse_indices, parse_xyz, tokens_per_line


def read_off(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The declared vertex rows and fan-triangulated polygons of an ASCII OFF file (COFF, NOFF, ... too)."""
    text = decode_text(path)
    result = _vectorised(text)
    return result if result is not None else _by_line(text, path.name)


def _vectorised(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The mesh of a well-formed OFF text, or None when it needs the line-by-line reader (which names bad lines)."""
    if "#" in text:
        text = re.sub(r"#[^\n]*", "", text)
    lines = [line for line in text.split("\n") if line and not line.isspace()]
    if not lines:
        return None
    header = lines[0].split()
    if not _is_3d_keyword(header[0]):
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
    v_tokens, f_tokens = tokens_per_line(v_text, vertex_count), tokens_per_line(f_text, face_count)
    width = int(v_tokens[0])
    if width < 3 or (v_tokens != width).any():
        return None
    parsed = numbers_or_none(v_text, f_text)
    if parsed is None:  # not numbers, or float face colours
        return None
    coordinates, numbers = parsed
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


def _is_3d_keyword(keyword: str) -> bool:
    """OFF, COFF, NOFF, STOFF, ... (3-D); not 4OFF or nOFF (other dimensions)."""
    prefix = keyword[:-3]
    return keyword.upper().endswith("OFF") and (set(prefix) <= set("STCN") or set(prefix) <= set("stc"))


def _by_line(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The mesh of an OFF text, checked line by line: a BadInputError names the first bad line."""
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
    if not _is_3d_keyword(keyword):
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
    vertices = parse_xyz([t for _, t in vertex_part], [n for n, _ in vertex_part], name, "vertex coordinate")
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
    indices = parse_indices(corners, corner_lines, name)
    bad = (indices < 0) | (indices >= vertex_count)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise BadInputError(
            f"{name} line {int(corner_lines[at])}: face index {int(indices[at])} is outside 0..{vertex_count - 1}"
        )
    return vertices, fan_triangulate(indices, counts)
