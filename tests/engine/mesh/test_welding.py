import numpy as np

from engine.mesh.welding import weld


def test_weld_merges_a_triangle_soup_and_maps_back_in_input_order(unit_cube):
    vertices, faces = unit_cube
    soup_vertices = vertices[faces].reshape(-1, 3)
    soup_faces = np.arange(len(soup_vertices)).reshape(-1, 3)
    welded = weld(soup_vertices, soup_faces)
    assert len(welded.vertices) == 8
    np.testing.assert_allclose(welded.vertices[welded.input_to_welded], soup_vertices)


def _pieces(welded):
    from bench.baselines import mesh_components
    from engine.mesh.graph import unique_edges

    return len(np.unique(mesh_components(len(welded.vertices), unique_edges(welded.faces))))


def test_closed_pieces_that_touch_stay_apart_but_a_closed_surface_split_at_seams_welds_whole(unit_cube):
    vertices, faces = unit_cube
    # Two closed cubes sharing a face's four corners (kitbashed boxes stacked on each other).
    stacked = np.concatenate([vertices, vertices + [0.0, 0.0, vertices[:, 2].ptp()]])
    welded = weld(stacked, np.concatenate([faces, faces + len(vertices)]))
    assert len(welded.vertices) == 16 and _pieces(welded) == 2
    # One cube whose faces were split into two open halves (a UV seam duplicates the vertices).
    half = len(faces) // 2
    seamed = np.concatenate([vertices, vertices])
    welded = weld(seamed, np.concatenate([faces[:half], faces[half:] + len(vertices)]))
    assert len(welded.vertices) == 8 and _pieces(welded) == 1
