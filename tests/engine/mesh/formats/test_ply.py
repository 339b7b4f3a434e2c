import struct

import pytest
import trimesh

from engine.errors import BadInputError


def _ply_bytes(cube, fmt, endian="<"):
    """PLY of the sample cube with quads, one triangle pair and per-face UV lists.

    The triangle pair is quad 4 fanned, so the faces read are ``cube.fan``.
    """
    polygons = [list(q) for q in cube.quads[:4]] + [list(cube.fan[8]), list(cube.fan[9]), list(cube.quads[5])]
    header = (
        f"ply\nformat {fmt} 1.0\ncomment made by a test\nelement vertex {len(cube.vertices)}\n"
        "property float x\nproperty float y\nproperty float z\nproperty uchar red\n"
        f"element face {len(polygons)}\nproperty list uchar int vertex_indices\nproperty list uchar float texcoord\n"
        "property uchar flags\nend_header\n"
    )
    if fmt == "ascii":
        rows = [f"{x:g} {y:g} {z:g} 7" for x, y, z in cube.vertices]
        for n, polygon in enumerate(polygons):
            uv = " ".join(f"{n * 0.1 + i * 0.01:g}" for i in range(2 * len(polygon)))
            rows.append(f"{len(polygon)} {' '.join(map(str, polygon))} {2 * len(polygon)} {uv} 0")
        return (header + "\n".join(rows) + "\n").encode()
    body = b"".join(struct.pack(endian + "fffB", *row, 7) for row in cube.vertices)
    for n, polygon in enumerate(polygons):
        k = len(polygon)
        body += struct.pack(f"{endian}B{k}iB{2 * k}fB", k, *polygon, 2 * k, *(n + i * 0.01 for i in range(2 * k)), 0)
    return header.encode() + body


@pytest.mark.parametrize("fmt, endian", [("ascii", ""), ("binary_little_endian", "<"), ("binary_big_endian", ">")])
def test_ply_keeps_declared_vertices_despite_uvs_and_unused(cube, load_file, assert_same_mesh, fmt, endian):
    vertices, faces = load_file("cube.ply", _ply_bytes(cube, fmt, endian))
    assert_same_mesh(vertices, faces, cube.vertices, cube.fan)


def test_ply_triangles_only_takes_the_fast_path(cube, load_file, assert_same_mesh):
    data = trimesh.Trimesh(cube.vertices, cube.fan, process=False).export(file_type="ply")
    assert_same_mesh(*load_file("tri.ply", data), cube.vertices, cube.fan)


def test_ply_face_index_out_of_range_is_refused(cube, load_file):
    text = _ply_bytes(cube, "ascii").decode().replace("4 1 7 5 2", "4 1 7 5 20")
    with pytest.raises(BadInputError, match="face 0 refers to vertex 20"):
        load_file("bad.ply", text)
