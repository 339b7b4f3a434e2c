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


def test_part_bounds_skip_no_point_that_matters():
    """Points beyond the clamp outside the shape skip their k-d queries; the bounds are those of all queries."""
    from engine.parts.ownership import SurfaceOwnership, cell_distances
    from engine.parts.part_fields import part_target_bounds

    rng = np.random.default_rng(0)
    surface = rng.normal(size=(3000, 3))
    surface /= np.linalg.norm(surface, axis=1, keepdims=True) * 2.0  # a sphere of radius 0.5
    labels = (surface[:, 0] > 0.1).astype(np.int64) + (surface[:, 2] > 0.3)
    ownership = SurfaceOwnership.build(surface, labels, 3)
    points = rng.uniform(-0.8, 0.8, size=(4000, 3))
    shape_distance = np.linalg.norm(points, axis=1) - 0.5
    clamp, overlap, margin = 0.1, 0.01, 0.03
    lower, upper = part_target_bounds(points, shape_distance, ownership, clamp, overlap, margin)
    cells = cell_distances(ownership.part_distances(points))  # every query, as before the skip
    exact = np.maximum(shape_distance[:, None], np.where(cells <= 0.0, cells - overlap, cells))
    free = (shape_distance[:, None] < 0.0) & (cells > 0.0) & (cells < margin)
    expected_lower = np.where(free, cells - margin, np.where(exact <= -clamp, -np.inf, np.minimum(exact, clamp)))
    expected_upper = np.where(free, np.inf, np.where(exact >= clamp, np.inf, np.maximum(exact, -clamp)))
    assert (shape_distance >= clamp).sum() > 500, "the test must hold skipped points"
    np.testing.assert_array_equal(lower, expected_lower.astype(np.float32))
    np.testing.assert_array_equal(upper, expected_upper.astype(np.float32))
