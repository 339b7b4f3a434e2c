import numpy as np
import pytest
import trimesh


@pytest.mark.parametrize("binary", [True, False])
def test_stl_is_a_soup_of_three_vertices_per_facet_in_facet_order(cube, load_file, binary):
    mesh = trimesh.Trimesh(cube.vertices, cube.fan, process=False)
    data = mesh.export(file_type="stl") if binary else trimesh.exchange.stl.export_stl_ascii(mesh).encode()
    vertices, faces = load_file("cube.stl", data)
    np.testing.assert_allclose(vertices, cube.vertices[cube.fan].reshape(-1, 3), atol=1e-6)
    np.testing.assert_array_equal(faces, np.arange(3 * len(cube.fan)).reshape(-1, 3))
