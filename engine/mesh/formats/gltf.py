"""glTF / GLB: the triangle primitives of the default scene's mesh nodes, at world position.

One block per triangle primitive (modes TRIANGLES and TRIANGLE_STRIP; fans, lines and points are
skipped) of every mesh node of the default scene, nodes in depth-first pre-order (a node, then its
children in the order they are listed; roots in the scene's order), primitives in the order the mesh
lists them; each block holds its POSITION accessor's vertices in accessor order at world position
(node transforms applied). A mesh used by two nodes appears twice.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .gltf_accessors import read_accessor

_GL_TRIANGLES, _GL_STRIP = 4, 5
_UNSUPPORTED_EXTENSIONS = ("KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression")


def read_gltf(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """World-space vertices of every triangle primitive, in the order the module docstring defines."""
    name = path.name
    document, binary = _read_document(path)
    used = set(document.get("extensionsRequired", [])) | set(document.get("extensionsUsed", []))
    for extension in _UNSUPPORTED_EXTENSIONS:
        if extension in used:
            raise BadInputError(f"{name} uses {extension}; export the glTF without mesh compression")
    buffers = [_read_buffer(buffer, index, binary, path) for index, buffer in enumerate(document.get("buffers", []))]
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
        world = parent @ _local_matrix(node)
        if "mesh" in node:
            for primitive in meshes[node["mesh"]].get("primitives", []):
                mode = primitive.get("mode", _GL_TRIANGLES)
                if mode not in (_GL_TRIANGLES, _GL_STRIP) or "POSITION" not in primitive.get("attributes", {}):
                    continue
                local = read_accessor(document, buffers, primitive["attributes"]["POSITION"], name)[:, :3]
                if "indices" in primitive:
                    flat = read_accessor(document, buffers, primitive["indices"], name).reshape(-1).astype(np.int64)
                else:
                    flat = np.arange(len(local), dtype=np.int64)
                faces = _triangles(flat, mode)
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


def _read_document(path: Path) -> tuple[dict, bytes | None]:
    """The JSON document and, for a GLB, its binary chunk (None when it has none or for a .gltf)."""
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


def _read_buffer(buffer: dict, index: int, binary: bytes | None, path: Path) -> bytes:
    """The bytes of one buffer: the GLB binary chunk, a ``data:`` URI, or a file next to ``path``."""
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


def _local_matrix(node: dict) -> np.ndarray:
    """(4, 4) float64 transform of a node relative to its parent (``matrix``, or translation, rotation, scale)."""
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


def _triangles(flat: np.ndarray, mode: int) -> np.ndarray:
    """(m, 3) int64 triangles of (k,) int64 indices read as a triangle list or a strip."""
    if mode == _GL_TRIANGLES:
        return flat[: len(flat) // 3 * 3].reshape(-1, 3)
    if len(flat) < 3:
        return np.zeros((0, 3), np.int64)
    first = np.arange(len(flat) - 2)
    faces = np.stack([flat[first], flat[first + 1], flat[first + 2]], axis=1)
    faces[1::2] = faces[1::2][:, [1, 0, 2]]  # every other strip triangle is wound the other way
    return faces
