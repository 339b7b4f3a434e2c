"""Training points (engine.mesh.sampling): area-uniform surface samples and Gaussian bands."""

import numpy as np
import pytest

from engine.mesh.sampling import face_areas, sample_surface, training_points

# Two triangles in the plane z = 0, of areas 0.5 and 1.5, apart along x.
TRIANGLES = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [5, 0, 0], [2, 1, 0]], dtype=float)
TRIANGLE_FACES = np.array([[0, 1, 2], [3, 4, 5]])
# A square [-0.5, 0.5]^2 in the plane z = 0: the signed distance to it near its middle is z.
SQUARE = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], dtype=float)
SQUARE_FACES = np.array([[0, 1, 2], [0, 2, 3]])


def barycentric(points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(n, 3) barycentric coordinates of points in the plane of triangle abc (z = 0 here)."""
    matrix = np.stack([b[:2] - a[:2], c[:2] - a[:2]], axis=1)
    uv = np.linalg.solve(matrix, (points[:, :2] - a[:2]).T).T
    return np.column_stack([1.0 - uv.sum(axis=1), uv])


def test_face_areas():
    assert np.allclose(face_areas(TRIANGLES, TRIANGLE_FACES), [0.5, 1.5])


def test_surface_samples_lie_on_the_triangles_uniformly_by_area():
    points = sample_surface(TRIANGLES, TRIANGLE_FACES, 20_000, np.random.default_rng(0))
    assert points.shape == (20_000, 3) and np.all(points[:, 2] == 0.0)
    first = points[:, 0] <= 1.0
    for chosen, face in ((first, 0), (~first, 1)):
        weights = barycentric(points[chosen], *TRIANGLES[TRIANGLE_FACES[face]])
        assert np.all(weights >= -1e-12) and np.all(weights <= 1.0 + 1e-12)
    assert first.mean() == pytest.approx(0.25, abs=0.015)
    # uniform within a triangle: a quarter of the area lies within half the height of the apex
    upper = points[first][:, 1] > 0.5
    assert upper.mean() == pytest.approx(0.25, abs=0.015)


def test_surface_samples_of_a_cube_lie_on_its_faces(unit_cube):
    vertices, faces = unit_cube
    points = sample_surface(vertices, faces, 5000, np.random.default_rng(1))
    assert np.allclose(np.abs(points).max(axis=1), 0.5)
    assert np.all(np.abs(points) <= 0.5 + 1e-12)
    axis = np.argmax(np.abs(points), axis=1)
    sides = 2 * axis + (points[np.arange(len(points)), axis] > 0)
    assert np.all(np.bincount(sides, minlength=6) > 5000 / 6 * 0.85)  # the six faces have equal areas


def test_training_points_band_has_the_asked_spread():
    points = training_points(SQUARE, SQUARE_FACES, 40_000, (0.01,), 0.0, 0.6, np.random.default_rng(2))
    assert points.shape == (40_000, 3) and points.dtype == np.float32
    assert points[:, 2].std() == pytest.approx(0.01, rel=0.05)
    assert abs(points[:, 2].mean()) < 0.001


def test_training_points_split_evenly_over_the_bands():
    points = training_points(SQUARE, SQUARE_FACES, 40_000, (0.001, 0.05), 0.0, 0.6, np.random.default_rng(3))
    tight = np.abs(points[:, 2]) < 0.004  # the tight band's points and a few of the wide band's
    assert tight.mean() == pytest.approx(0.5 + 0.5 * 0.0638, abs=0.015)


def test_training_points_uniform_fraction_fills_the_bounding_cube_in_shuffled_order():
    points = training_points(SQUARE, SQUARE_FACES, 40_000, (0.001,), 0.5, 0.6, np.random.default_rng(4))
    assert np.all(np.abs(points) <= 0.6)
    far = np.abs(points[:, 2]) > 0.01  # uniform points, almost all of them
    assert far.mean() == pytest.approx(0.5 * (1 - 0.01 / 0.6), abs=0.01)
    assert far[:20_000].mean() == pytest.approx(far[20_000:].mean(), abs=0.02)  # near and uniform are mixed
    assert points[far][:, 2].max() > 0.55 and points[far][:, 2].min() < -0.55


def test_training_points_depend_on_the_generator_alone():
    args = (SQUARE, SQUARE_FACES, 1000, (0.01, 0.04), 0.2, 0.6)
    first = training_points(*args, np.random.default_rng(5))
    assert np.array_equal(first, training_points(*args, np.random.default_rng(5)))
    assert not np.array_equal(first, training_points(*args, np.random.default_rng(6)))
