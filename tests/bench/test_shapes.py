import numpy as np

from bench.shapes import benchmark_shapes, box, cylinder, loose_railing_mesh, shape_mesh, sphere


def test_primitives_are_exact_at_known_points():
    p = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    np.testing.assert_allclose(sphere([0, 0, 0], 0.5)(p), [-0.5, 0.5, 1.5])
    np.testing.assert_allclose(box([0, 0, 0], [0.5, 0.5, 0.5])(p), [-0.5, 0.5, 1.5])
    np.testing.assert_allclose(cylinder([0, 0, 0], 0.5, 1.0, "y")(p), [-0.5, 0.5, 1.0])


def test_ground_truth_is_argmin_of_parts():
    shape = benchmark_shapes()["snowman"]
    points = np.array([[0.0, -0.15, 0.0], [0.0, 0.35, 0.0]])
    assert shape.labels(points).tolist() == [0, 1]


def test_benchmark_has_the_ten_shapes_with_their_part_counts():
    counts = {name: len(shape.parts) for name, shape in benchmark_shapes().items()}
    assert counts == {"snowman": 2, "lollipop": 2, "barbell": 3, "mushroom": 2, "tower": 3, "table": 5,
                      "tpipe": 2, "l_shape": 2, "chair": 6, "railing": 10}


def test_shape_mesh_is_one_welded_closed_surface_with_every_part_present():
    vertices, faces, labels = shape_mesh(benchmark_shapes()["table"])
    assert np.bincount(labels).tolist().count(0) == 0 and labels.max() == 4
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, uses = np.unique(edges, axis=0, return_counts=True)
    assert (uses == 2).all()  # closed 2-manifold


def test_loose_railing_is_ten_separate_pieces():
    vertices, faces, labels = loose_railing_mesh()
    assert labels.max() == 9
    assert (labels[faces[:, 0]] == labels[faces[:, 1]]).all()
