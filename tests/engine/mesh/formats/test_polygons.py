import numpy as np

from engine.mesh.formats.polygons import fan_triangulate


def test_fan_triangulate_mixed_polygons():
    faces = fan_triangulate(np.arange(12), np.array([3, 5, 4]))
    np.testing.assert_array_equal(faces, [[0, 1, 2], [3, 4, 5], [3, 5, 6], [3, 6, 7], [8, 9, 10], [8, 10, 11]])
