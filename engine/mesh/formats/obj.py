"""OBJ: every ``v`` line in order, ``f`` polygons fan-triangulated in place.

``f`` corners take only the vertex index (``v``, ``v/vt``, ``v//vn``, ``v/vt/vn``; negative indices
count back from the vertices read so far), so UV or normal seams never split a vertex. Colours or
``w`` after x y z, ``l``/``p``/``vp`` lines, comments, indentation and line continuations leave
the mesh alone.
"""

from __future__ import annotations

import re
from operator import itemgetter
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .polygons import fan_triangulate
from .text import decode_text, numbers_or_none, parse_indices, parse_xyz, tokens_per_line

_CONTINUATION = re.compile(r"\\[ \t]*\r?$")
_EMPTY_VERTEX_INDEX = re.compile(r"(?:^|\s)/")


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of every ``v`` line and fan-triangulated ``f`` polygons (see the module docstring).

    A vectorised pass reads the usual files (about 0.3 s for 330k faces); anything it does not expect
    (line continuations, ``v`` lines of differing widths, a bad token or index) goes to the line-by-line
    reader, which gives the same result or an error naming the line.
    """
    text = decode_text(path)
    result = None if "\\" in text else _vectorised(text)
    return result if result is not None else _by_line(text, path.name)


def _vectorised(text: str) -> tuple[np.ndarray, np.ndarray] | None:
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
    v_counts, f_counts = tokens_per_line(v_text, len(v_at)), tokens_per_line(f_text, len(f_at))
    width = int(v_counts[0])  # 3, or 4 with w, 6 or 7 with colours: xyz are the first three
    if width < 3 or (v_counts != width).any() or (f_counts < 3).any():
        return None
    numbers = numbers_or_none(v_text, f_text)
    if numbers is None:  # a token that is not a number
        return None
    coordinates, indices = numbers
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


def _by_line(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The mesh of an OBJ text, checked line by line: a BadInputError names the first bad (file) line."""
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
    vertices = parse_xyz([row[1:4] for row in v_tokens], [line_of(i) for i in v_at], name, "vertex coordinate")

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
    indices = parse_indices([t for row in f_tokens for t in row[1:]], corner_lines, name)

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
    """Lines ending in a backslash joined to the next, with the 1-based file line each joined line starts on."""
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
