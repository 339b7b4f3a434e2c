"""The element rows of a PLY body, ASCII or binary, as numpy columns.

A property is ``(name, numpy kind, list item kind or None)``; each element reads to
``{property: (count,) column}`` for a scalar property and ``{property: ((total,) flat, (count,) lengths)}``
for a list property. Rows are decoded as one block when every row has the first row's list lengths,
one by one otherwise.
"""

from __future__ import annotations

import struct

import numpy as np

from ...errors import BadInputError

PlyProperty = tuple[str, str, str | None]  # name, numpy kind, list item kind (None: a scalar property)
PlyElement = tuple[str, int, list[PlyProperty]]  # name, row count, properties
PlyColumns = dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]]
_STRUCT = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "f4": "f", "f8": "d"}


def read_ascii_element(
    tokens: list[bytes], position: int, count: int, props: list[PlyProperty], element: str, name: str
) -> tuple[PlyColumns, int]:
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


def read_binary_element(
    body: bytes, offset: int, count: int, props: list[PlyProperty], endian: str, element: str, name: str
) -> tuple[PlyColumns, int]:
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
