import numpy as np

from bench.collection.primitives import box, capsule, cylinder, ellipsoid, frame, smooth_min, sphere, torus_arc


def test_frame_is_a_rotation_whose_last_row_is_the_axis():
    rows = frame([1.0, 2.0, 2.0])
    np.testing.assert_allclose(rows @ rows.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(rows[2], np.array([1.0, 2.0, 2.0]) / 3.0)


def test_primitives_are_exact_at_known_points():
    p = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    np.testing.assert_allclose(capsule([0, 0, -1], [0, 0, 1], 0.5)(p), [-0.5, 0.5, 0.5])
    np.testing.assert_allclose(cylinder([0, 0, -1], [0, 0, 1], 0.5)(p), [-0.5, 0.5, 1.0])
    np.testing.assert_allclose(ellipsoid([0, 0, 0], [0.5, 0.5, 0.5])(p), sphere([0, 0, 0], 0.5)(p))
    np.testing.assert_allclose(box([0, 0, 0], [0.5, 0.5, 0.5], rounding=0.1)(p), [-0.5, 0.5, 1.5])


def test_a_rotated_box_turns_with_its_frame():
    turned = box([0, 0, 0], [0.1, 0.1, 1.0], frame([1.0, 0.0, 0.0]))  # the long third axis along x
    np.testing.assert_allclose(turned(np.array([[0.0, 0.0, 0.9], [0.9, 0.0, 0.0]])), [0.8, -0.1], atol=1e-12)


def test_torus_arc_is_a_torus_when_full_and_capped_when_partial():
    torus = torus_arc([0, 0, 0], [0, 0, 1], 1.0, 0.2)
    rows = frame([0, 0, 1])
    on_circle = np.array([np.cos(a) * rows[0] + np.sin(a) * rows[1] for a in np.linspace(0, 6, 7)])
    np.testing.assert_allclose(torus(on_circle), -0.2, atol=1e-12)
    half = torus_arc([0, 0, 0], [0, 0, 1], 1.0, 0.2, arc=np.pi)
    inside, beyond = np.array([np.sin(1.0) * rows[1] + np.cos(1.0) * rows[0]]), np.array([-rows[1]])
    assert half(inside)[0] < 0 < half(beyond)[0]
    np.testing.assert_allclose(half(beyond), np.sqrt(2.0) - 0.2, atol=1e-12)  # to the nearer end cap


def test_smooth_min_never_exceeds_the_hard_min_and_is_hard_at_zero_blend():
    values = np.random.default_rng(0).normal(size=(100, 3))
    assert (smooth_min(values, 0.2) <= values.min(axis=1) + 1e-12).all()
    np.testing.assert_array_equal(smooth_min(values, 0.0), values.min(axis=1))
