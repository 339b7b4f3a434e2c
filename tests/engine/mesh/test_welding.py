import numpy as np

from engine.mesh.welding import weld


def test_weld_merges_a_triangle_soup_and_maps_back_in_input_order(unit_cube):
    vertices, faces = unit_cube
    soup_vertices = vertices[faces].reshape(-1, 3)
    soup_faces = np.arange(len(soup_vertices)).reshape(-1, 3)
    welded = weld(soup_vertices, soup_faces)
    assert len(welded.vertices) == 8
    np.testing.assert_allclose(welded.vertices[welded.input_to_welded], soup_vertices)
