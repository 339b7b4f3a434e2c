"""glTF accessors: typed, possibly strided or sparse views of a buffer, decoded to numpy arrays."""

from __future__ import annotations

import numpy as np

from ...errors import BadInputError

_GL_COMPONENTS = {5120: "i1", 5121: "u1", 5122: "i2", 5123: "u2", 5125: "u4", 5126: "f4"}
_GL_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_GL_NORMALISED = {"i1": 127.0, "u1": 255.0, "i2": 32767.0, "u2": 65535.0}


def read_accessor(document: dict, buffers: list[bytes], index: int, name: str) -> np.ndarray:
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
        places = _read_sparse(document, buffers, sparse["indices"], sparse["count"], 1, index_kind)
        replaced = _read_sparse(document, buffers, sparse["values"], sparse["count"], width, kind)
        values[places.reshape(-1).astype(np.int64)] = replaced
    if accessor.get("normalized") and kind in _GL_NORMALISED:
        return np.maximum(values.astype(np.float64) / _GL_NORMALISED[kind], -1.0)
    return values


def _read_sparse(document: dict, buffers: list[bytes], part: dict, count: int, width: int, kind: str) -> np.ndarray:
    """(count, width) values of one part (``indices`` or ``values``) of a sparse accessor."""
    view = document["bufferViews"][part["bufferView"]]
    start = view.get("byteOffset", 0) + part.get("byteOffset", 0)
    return np.frombuffer(buffers[view["buffer"]], "<" + kind, count * width, start).reshape(count, width)
