import numpy as np
import pytest
import trimesh

from engine.errors import BadInputError
from engine.mesh.loading import load_mesh, validate_mesh, write_obj


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


def test_written_obj_reads_back_with_the_same_vertices_and_faces(tmp_path):
    sphere = trimesh.creation.icosphere(subdivisions=2)
    vertices = sphere.vertices * np.array([1.0, 2e-5, 3e4])
    write_obj(tmp_path / "part.obj", vertices, sphere.faces)
    back = trimesh.load(tmp_path / "part.obj", process=False)
    np.testing.assert_allclose(back.vertices, vertices, rtol=1e-6)
    np.testing.assert_array_equal(back.faces, sphere.faces)
