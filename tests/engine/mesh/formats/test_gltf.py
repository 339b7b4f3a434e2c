import base64
import json
import struct

import numpy as np
import trimesh

from engine.mesh.loading import load_mesh


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
