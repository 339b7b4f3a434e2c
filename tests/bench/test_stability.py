import numpy as np

from bench.shapes import benchmark_shapes
from bench.stability import JITTER, agreement, stability_meshes


def test_stability_meshes_are_three_resolutions_and_a_jittered_copy_of_the_reference():
    shape = benchmark_shapes()["lollipop"]
    meshes = stability_meshes(shape)
    assert list(meshes) == ["0.8x", "1x", "1.2x", "jitter"]
    sizes = [len(meshes[name][0]) for name in ("0.8x", "1x", "1.2x")]
    assert sizes == sorted(sizes) and sizes[0] < sizes[2]
    reference, jittered = meshes["1x"], meshes["jitter"]
    np.testing.assert_array_equal(reference[1], jittered[1])
    moved = np.abs(jittered[0] - reference[0]).max()
    assert 0 < moved < 10 * JITTER * 2


def test_agreement_carries_labels_by_nearest_vertex_and_ignores_label_names():
    reference = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]])
    labels = np.array([0, 0, 1, 1])
    finer = np.array([[0.0, 0, 0], [0.9, 0, 0], [1.1, 0, 0], [2.1, 0, 0], [2.9, 0, 0]])
    assert agreement(reference, labels, finer, np.array([5, 5, 5, 7, 7])) == 1.0
    assert agreement(reference, labels, finer, np.array([5, 7, 5, 7, 5])) < 0.5
