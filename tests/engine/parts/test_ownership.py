import numpy as np
import pytest
import trimesh

from engine.errors import BadInputError
from engine.parts.ownership import SurfaceOwnership, cell_distances, labelled_surface_points, smooth_surface_labels


def test_cell_distances_bound_the_distance_to_the_bisector():
    owner = SurfaceOwnership.build(np.array([[-1.0, 0, 0], [1.0, 0, 0]]), np.array([0, 1]), 2)
    queries = np.random.default_rng(0).uniform(-2, 2, size=(500, 3))
    cells = cell_distances(owner.part_distances(queries))
    # The bisector is the plane x = 0: the cells have x's sign and at most its size.
    np.testing.assert_array_equal(np.sign(cells[:, 0]), np.sign(queries[:, 0]))
    np.testing.assert_allclose(cells[:, 1], -cells[:, 0])
    assert np.all(np.abs(cells[:, 0]) <= np.abs(queries[:, 0]) + 1e-12)
    on_segment = cell_distances(owner.part_distances(np.array([[-0.4, 0.0, 0.0], [0.7, 0.0, 0.0]])))
    np.testing.assert_allclose(on_segment[:, 0], [-0.4, 0.7])
    np.testing.assert_array_equal(owner.owners(queries), (queries[:, 0] > 0).astype(int))


def test_a_single_part_owns_everything():
    cells = cell_distances(np.array([[0.3], [2.0]]))
    assert np.all(np.isneginf(cells))


def test_smoothing_removes_a_one_vertex_island_but_keeps_regions():
    sphere = trimesh.creation.icosphere(subdivisions=3)
    labels = (sphere.vertices[:, 2] > 0).astype(np.int64)
    island = int(np.argmax(sphere.vertices[:, 2]))  # the north pole, deep in region 1
    noisy = labels.copy()
    noisy[island] = 0
    smoothed = smooth_surface_labels(noisy, sphere.faces, rounds=2)
    assert smoothed[island] == 1
    assert np.mean(smoothed == labels) > 0.97


def test_labelled_surface_points_follow_the_corner_labels():
    box = trimesh.creation.box()
    labels = (box.vertices[:, 0] > 0).astype(np.int64)
    points, point_labels = labelled_surface_points(box.vertices, box.faces, labels, 2000,
                                                   np.random.default_rng(0))
    assert points.shape == (2008, 3) and point_labels.shape == (2008,)
    far = np.abs(points[:, 0]) > 0.45  # near a face with one label on all its corners
    assert np.all(point_labels[far] == (points[far, 0] > 0))


def test_a_part_without_surface_points_is_refused():
    with pytest.raises(BadInputError, match="no surface points"):
        SurfaceOwnership.build(np.zeros((4, 3)), np.array([0, 0, 2, 2]), 3)
