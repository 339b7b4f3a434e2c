import base64
import json
import struct

import numpy as np
import pytest
import trimesh

from engine.errors import BadInputError
from engine.mesh import readers
from engine.mesh.meshio import Normalisation, load_mesh, validate_mesh, weld


def test_weld_merges_a_triangle_soup_and_maps_back_in_input_order(unit_cube):
    vertices, faces = unit_cube
    soup_vertices = vertices[faces].reshape(-1, 3)
    soup_faces = np.arange(len(soup_vertices)).reshape(-1, 3)
    welded = weld(soup_vertices, soup_faces)
    assert len(welded.vertices) == 8
    np.testing.assert_allclose(welded.vertices[welded.input_to_welded], soup_vertices)


def test_normalisation_round_trip_and_unit_extent():
    vertices = np.random.default_rng(0).normal(size=(100, 3)) * [3, 1, 2] + 10
    norm = Normalisation.fit(vertices)
    unit = norm.to_unit(vertices)
    assert np.ptp(unit, axis=0).max() == pytest.approx(1.0)
    np.testing.assert_allclose(norm.from_unit(unit), vertices)


def test_loading_keeps_vertex_order(tmp_path, unit_cube):
    vertices, faces = unit_cube
    order = np.random.default_rng(1).permutation(len(vertices))
    shuffled = vertices[order]
    remap = np.argsort(order)
    path = tmp_path / "cube.ply"
    trimesh.Trimesh(shuffled, remap[faces], process=False).export(path)
    loaded, _ = load_mesh(path)
    np.testing.assert_allclose(loaded, shuffled)


@pytest.mark.parametrize(
    "vertices, faces, message",
    [
        (np.zeros((3, 3)), np.array([[0, 1, 2]]), "at least 4"),
        (np.eye(4, 3), np.zeros((0, 3), int), "no faces"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, np.nan]]), np.array([[0, 1, 2], [0, 1, 3]]), "NaN"),
        (np.eye(4, 3), np.array([[0, 1, 7]]), "indices"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]), np.array([[0, 1, 2], [1, 3, 2]]), "flat"),
    ],
)
def test_bad_meshes_are_refused_with_a_clear_message(vertices, faces, message):
    with pytest.raises(BadInputError, match=message):
        validate_mesh(vertices, faces)


def test_missing_unknown_and_unreadable_files(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        load_mesh(tmp_path / "nope.obj")
    (tmp_path / "mesh.xyz").write_text("1 2 3")
    with pytest.raises(BadInputError, match="unsupported"):
        load_mesh(tmp_path / "mesh.xyz")
    (tmp_path / "broken.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 99\n\x00\x01")
    with pytest.raises(BadInputError):
        load_mesh(tmp_path / "broken.ply")


# --- readers: every declared vertex, in file order -------------------------------------------------------------

# a cube with its corners shuffled, one vertex (index 4, 0-based) that no face uses, and quads
CUBE = np.array(
    [[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 1], [5, 5, 5], [1, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 1]], float
)
QUADS = np.array(  # 0-based, outward, each quad a b c d
    [[1, 7, 5, 2], [6, 8, 0, 3], [1, 2, 8, 6], [7, 3, 0, 5], [1, 6, 3, 7], [2, 5, 0, 8]]
)
FAN = np.concatenate([QUADS[:, [0, 1, 2]], QUADS[:, [0, 2, 3]]], axis=1).reshape(-1, 3)  # quad i -> 2i, 2i+1


def _obj_text(corner, faces=QUADS, vertices=CUBE, extra=""):
    """OBJ with ``v`` lines then ``f`` lines whose corners ``corner(vertex0, corner_number)`` writes."""
    lines = ["# test", "mtllib none.mtl", "o cube", *(f"v {x:g} {y:g} {z:g}" for x, y, z in vertices)]
    lines += [f"vt {u} {u}" for u in range(24)] + [f"vn 0 0 {k}" for k in (1, -1)] + ["usemtl m", "s off", "g side"]
    number = 0
    for face in faces:
        tokens = []
        for v in face:
            tokens.append(corner(int(v), number))
            number += 1
        lines.append("f " + " ".join(tokens))
    return "\n".join(lines) + "\n" + extra


def _load_text(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return load_mesh(path)


def _assert_same_mesh(vertices, faces, expected_vertices, expected_faces):
    np.testing.assert_allclose(vertices, expected_vertices)
    np.testing.assert_array_equal(faces, expected_faces)


@pytest.mark.parametrize(
    "corner",
    [
        lambda v, k: f"{v + 1}",
        lambda v, k: f"{v + 1}/{k + 1}",  # a UV seam at every corner: trimesh splits these vertices
        lambda v, k: f"{v + 1}//{k % 2 + 1}",
        lambda v, k: f"{v + 1}/{k + 1}/{k % 2 + 1}",
        lambda v, k: f"{v - 9}/{k - 24}/{k % 2 - 2}",  # relative indices (9 v lines, 24 vt, 2 vn before)
    ],
    ids=["v", "v/vt", "v//vn", "v/vt/vn", "negative"],
)
def test_obj_keeps_every_declared_vertex_across_seams_and_unused(tmp_path, corner):
    vertices, faces = _load_text(tmp_path, "cube.obj", _obj_text(corner))
    _assert_same_mesh(vertices, faces, CUBE, FAN)


def test_obj_fan_triangulates_polygons_in_place_and_keeps_face_order(tmp_path):
    pentagon = [[0, 1, 2, 3, 4]]
    square = np.array([[0, 0, 0], [2, 0, 0], [3, 1, 0], [1, 2, 0], [-1, 1, 0], [0, 0, 5]], float)
    text = _obj_text(lambda v, k: f"{v + 1}", faces=[[0, 1, 5], *pentagon, [1, 2, 5]], vertices=square)
    _, faces = _load_text(tmp_path, "poly.obj", text)
    np.testing.assert_array_equal(faces, [[0, 1, 5], [0, 1, 2], [0, 2, 3], [0, 3, 4], [1, 2, 5]])


def test_obj_negative_indices_count_from_the_line_they_are_on(tmp_path):
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 0 0 1\nf -4 -3 -1\nf 2 3 4\n"
    vertices, faces = _load_text(tmp_path, "rel.obj", text)
    assert len(vertices) == 4
    np.testing.assert_array_equal(faces, [[0, 1, 2], [0, 1, 3], [1, 2, 3]])


def test_obj_variants_give_the_same_mesh_on_both_paths(tmp_path):
    """Colours, w, CRLF, BOM, indentation, inline comments, continuations, l/p/vp lines leave the mesh alone."""
    plain = _obj_text(lambda v, k: f"{v + 1}/{k + 1}")
    variant = plain.replace("v 5 5 5", "  v 5 5 5 1.0 # w").replace("v 1 1 1\n", "v 1 1 1 0.5 0.2 0.1\n")
    variant = variant.replace("\nf 7", "\n\tf 7/2 3/4 1/1 4/4 # a comment\nl 1 2\np 3\nvp 0.5\nf 7", 1)
    expected_faces = np.concatenate([FAN[:2], [[6, 2, 0], [6, 0, 3]], FAN[2:]])
    _assert_same_mesh(*readers._obj_by_line(plain, "plain.obj"), CUBE, FAN)
    _assert_same_mesh(*readers._obj_vectorised(plain), CUBE, FAN)
    _assert_same_mesh(*readers._obj_by_line(variant, "variant.obj"), CUBE, expected_faces)
    assert readers._obj_vectorised(variant) is None  # v lines of 3, 4 and 6 numbers: the line reader
    same_width = variant.replace(" 1.0 # w", "").replace(" 0.5 0.2 0.1", "")
    _assert_same_mesh(*readers._obj_vectorised(same_width), CUBE, expected_faces)
    continued = "\ufeff" + variant.replace("f 2/1 ", "f \\\n 2/1 ", 1).replace("\n", "\r\n")
    assert "\\\r\n" in continued
    _assert_same_mesh(*_load_text(tmp_path, "variant.obj", continued), CUBE, expected_faces)


@pytest.mark.parametrize(
    "faces_text, message",
    [
        ("f 1 2 3\nf 0 1 2\n", "line 6: face index 0 is not valid"),
        ("f 1 2 3\nf 1 2 9\n", "line 6: face index 9 is past the last vertex"),
        ("f -5 -1 -2\n", "line 5: face index -5 reaches before the first vertex"),
        ("f 1 2\n", "line 5: a face needs at least 3 vertices"),
        ("f 1 x 2\n", "line 5: 'x' is not a vertex index"),
        ("f 1/1 /2 3\n", "line 5: a face corner has no vertex index"),
        ("l 1 2\n", "no faces"),
    ],
)
def test_bad_obj_faces_are_refused_naming_the_line(tmp_path, faces_text, message):
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n" + faces_text
    with pytest.raises(BadInputError, match=message):
        _load_text(tmp_path, "bad.obj", text)


def test_obj_error_after_a_continuation_names_the_file_line(tmp_path):
    with pytest.raises(BadInputError, match="line 4: face index 0"):
        _load_text(tmp_path, "bad.obj", "v 0 0 0\nv 1 0 0 \\\n\nf 0 1 2\nv 0 1 0\nv 0 0 1\n")


def test_bad_obj_vertex_is_refused_naming_the_line(tmp_path):
    with pytest.raises(BadInputError, match="line 2: 'nope' is not a number"):
        _load_text(tmp_path, "bad.obj", "v 0 0 0\nv 1 nope 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\n")


def _ply_bytes(fmt, endian="<"):
    """PLY of CUBE (shuffled, one unused vertex) with quads, one triangle pair and per-face UV lists."""
    polygons = [list(q) for q in QUADS[:4]] + [list(FAN[8]), list(FAN[9]), list(QUADS[5])]
    header = (
        f"ply\nformat {fmt} 1.0\ncomment made by a test\nelement vertex {len(CUBE)}\n"
        "property float x\nproperty float y\nproperty float z\nproperty uchar red\n"
        f"element face {len(polygons)}\nproperty list uchar int vertex_indices\nproperty list uchar float texcoord\n"
        "property uchar flags\nend_header\n"
    )
    if fmt == "ascii":
        rows = [f"{x:g} {y:g} {z:g} 7" for x, y, z in CUBE]
        for n, polygon in enumerate(polygons):
            uv = " ".join(f"{n * 0.1 + i * 0.01:g}" for i in range(2 * len(polygon)))
            rows.append(f"{len(polygon)} {' '.join(map(str, polygon))} {2 * len(polygon)} {uv} 0")
        return (header + "\n".join(rows) + "\n").encode()
    body = b"".join(struct.pack(endian + "fffB", *row, 7) for row in CUBE)
    for n, polygon in enumerate(polygons):
        k = len(polygon)
        body += struct.pack(f"{endian}B{k}iB{2 * k}fB", k, *polygon, 2 * k, *(n + i * 0.01 for i in range(2 * k)), 0)
    return header.encode() + body


PLY_FACES = np.concatenate([FAN[:8], FAN[8:10], FAN[10:]])


@pytest.mark.parametrize("fmt, endian", [("ascii", ""), ("binary_little_endian", "<"), ("binary_big_endian", ">")])
def test_ply_keeps_declared_vertices_despite_uvs_and_unused(tmp_path, fmt, endian):
    vertices, faces = _load_text(tmp_path, "cube.ply", _ply_bytes(fmt, endian))
    _assert_same_mesh(vertices, faces, CUBE, PLY_FACES)


def test_ply_triangles_only_takes_the_fast_path(tmp_path):
    path = tmp_path / "tri.ply"
    trimesh.Trimesh(CUBE, FAN, process=False).export(path)
    _assert_same_mesh(*load_mesh(path), CUBE, FAN)


def test_ply_face_index_out_of_range_is_refused(tmp_path):
    text = _ply_bytes("ascii").decode().replace("4 1 7 5 2", "4 1 7 5 20")
    with pytest.raises(BadInputError, match="face 0 refers to vertex 20"):
        _load_text(tmp_path, "bad.ply", text)


def test_off_keeps_declared_vertices_and_polygons(tmp_path):
    rows = [f"{x:g} {y:g} {z:g} 255 0 0 255" for x, y, z in CUBE]
    faces = [f"4 {' '.join(map(str, q))}" for q in QUADS[:5]] + [f"3 {' '.join(map(str, t))} 9 9 9" for t in FAN[10:]]
    text = "COFF\n# a comment\n\n" + f"{len(CUBE)} 7 0\n" + "\n".join(rows + faces) + "\n"
    _assert_same_mesh(*_load_text(tmp_path, "cube.off", text), CUBE, FAN)
    assert readers._off_vectorised(text) is not None
    _assert_same_mesh(*readers._off_by_line(text, "cube.off"), CUBE, FAN)
    with pytest.raises(BadInputError, match=r"line 14: face index 9 is outside 0..8"):
        _load_text(tmp_path, "bad.off", text.replace("4 1 7 5 2", "4 1 7 5 9"))


@pytest.mark.parametrize("binary", [True, False])
def test_stl_is_a_soup_of_three_vertices_per_facet_in_facet_order(tmp_path, binary):
    mesh = trimesh.Trimesh(CUBE, FAN, process=False)
    path = tmp_path / "cube.stl"
    path.write_bytes(mesh.export(file_type="stl") if binary else trimesh.exchange.stl.export_stl_ascii(mesh).encode())
    vertices, faces = load_mesh(path)
    np.testing.assert_allclose(vertices, CUBE[FAN].reshape(-1, 3), atol=1e-6)
    np.testing.assert_array_equal(faces, np.arange(3 * len(FAN)).reshape(-1, 3))


def test_glb_concatenates_primitives_in_node_order_at_world_positions(tmp_path):
    box = trimesh.creation.box(extents=(1, 2, 3))
    alpha = trimesh.Trimesh(np.vstack([box.vertices, [[7, 7, 7]]]), box.faces, process=False)  # one unused vertex
    ball = trimesh.creation.icosphere(subdivisions=1)
    beta = trimesh.Trimesh(ball.vertices, ball.faces, process=False)
    moved = trimesh.transformations.rotation_matrix(0.7, [0, 0, 1])
    moved[:3, 3] = [10, 0, 0]
    scene = trimesh.Scene()
    scene.add_geometry(alpha, geom_name="alpha", node_name="node_alpha")
    scene.add_geometry(beta, geom_name="beta", node_name="node_beta", transform=moved)
    path = tmp_path / "two.glb"
    path.write_bytes(scene.export(file_type="glb"))
    data = path.read_bytes()
    document = json.loads(data[20 : 20 + struct.unpack_from("<I", data, 12)[0]])
    order = [document["nodes"][i]["name"] for i in document["scenes"][0]["nodes"]]
    blocks = {
        "node_alpha": (np.asarray(alpha.vertices), np.asarray(alpha.faces)),
        "node_beta": (trimesh.transform_points(beta.vertices, moved), np.asarray(beta.faces)),
    }
    vertices, faces = load_mesh(path)
    first = blocks[order[0]]
    np.testing.assert_allclose(vertices, np.concatenate([blocks[n][0] for n in order]), atol=1e-6)
    np.testing.assert_array_equal(faces, np.concatenate([first[1], blocks[order[1]][1] + len(first[0])]))
    assert len(vertices) == 9 + 42


def test_gltf_walks_the_node_tree_depth_first_with_trs_and_matrices(tmp_path):
    tetra = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    triangles = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], np.uint16)
    blob = tetra.tobytes() + triangles.tobytes()
    document = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(blob), "uri": "data:application/octet-stream;base64,"
                     + base64.b64encode(blob).decode()}],
        "bufferViews": [{"buffer": 0, "byteLength": 48}, {"buffer": 0, "byteOffset": 48, "byteLength": 24}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5123, "count": 12, "type": "SCALAR"},
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1},
                                   {"attributes": {"POSITION": 0}, "mode": 1}]}],  # lines: skipped
        "nodes": [
            {"translation": [10, 0, 0], "children": [2, 1]},
            {"mesh": 0, "scale": [2, 2, 2]},
            {"mesh": 0, "rotation": [0, 0, 0.7071067811865476, 0.7071067811865476]},  # 90 degrees about z
            {"mesh": 0, "matrix": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 5, 1]},
        ],
        "scenes": [{"nodes": [3, 0]}],
    }
    path = tmp_path / "tree.gltf"
    path.write_text(json.dumps(document))
    vertices, faces = load_mesh(path)
    turned = tetra[:, [1, 0, 2]] * [-1, 1, 1]
    expected = [tetra + [0, 0, 5], turned + [10, 0, 0], tetra * 2 + [10, 0, 0]]  # node 3, then 0's children 2, 1
    np.testing.assert_allclose(vertices, np.concatenate(expected), atol=1e-6)
    np.testing.assert_array_equal(faces, np.concatenate([triangles + 4 * i for i in range(3)]))


def test_fan_triangulate_mixed_polygons():
    faces = readers.fan_triangulate(np.arange(12), np.array([3, 5, 4]))
    np.testing.assert_array_equal(faces, [[0, 1, 2], [3, 4, 5], [3, 5, 6], [3, 6, 7], [8, 9, 10], [8, 10, 11]])


def test_gltf_interleaved_sparse_and_strip_accessors(tmp_path):
    tetra = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    interleaved = np.concatenate([tetra, np.ones_like(tetra)], axis=1)  # position, normal: stride 24
    strip = np.array([0, 1, 2, 3, 0, 1], np.uint8)  # a strip: 4 triangles, every other one flipped
    moved = np.array([2], np.uint8), np.array([[0, 2, 0]], np.float32)  # sparse: vertex 2 -> (0, 2, 0)
    blob = interleaved.tobytes() + strip.tobytes() + moved[0].tobytes() + b"\0\0\0" + moved[1].tobytes()
    document = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(blob), "uri": "data:;base64," + base64.b64encode(blob).decode()}],
        "bufferViews": [
            {"buffer": 0, "byteLength": 96, "byteStride": 24},
            {"buffer": 0, "byteOffset": 96, "byteLength": 6},
            {"buffer": 0, "byteOffset": 102, "byteLength": 1},
            {"buffer": 0, "byteOffset": 106, "byteLength": 12},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
             "sparse": {"count": 1, "indices": {"bufferView": 2, "componentType": 5121},
                        "values": {"bufferView": 3}}},
            {"bufferView": 1, "componentType": 5121, "count": 6, "type": "SCALAR"},
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 5}]}],
        "nodes": [{"mesh": 0}],
    }
    path = tmp_path / "strip.gltf"
    path.write_text(json.dumps(document))
    vertices, faces = load_mesh(path)
    np.testing.assert_allclose(vertices, [[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 1]])
    np.testing.assert_array_equal(faces, [[0, 1, 2], [2, 1, 3], [2, 3, 0], [0, 3, 1]])
