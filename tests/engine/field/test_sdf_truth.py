"""engine.field.sdf_truth: ground-truth signed distance (negative inside) from each backend."""

import numpy as np
import pytest
import trimesh

from engine.field.sdf_truth import available_backends, signed_distance_function


@pytest.mark.parametrize("backend", available_backends())
def test_the_overlap_of_two_interpenetrating_closed_pieces_is_inside(backend):
    """Two spheres as separate closed pieces crossing each other (a kitbashed asset): a ray from a point
    in both crosses two surfaces, so ray-cast parity alone calls it outside."""
    ball = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    vertices = np.r_[ball.vertices, ball.vertices + [0.3, 0.0, 0.0]]
    faces = np.r_[ball.faces, ball.faces + len(ball.vertices)]
    overlap = np.array([[0.15, 0.0, 0.0], [0.15, 0.1, 0.05], [0.1, -0.1, 0.0]])
    outside = np.array([[0.15, 0.35, 0.0], [-0.4, 0.0, 0.0]])
    distance = signed_distance_function(vertices, faces, backend)
    assert (distance(overlap) < 0).all(), "inside both pieces is inside"
    assert (distance(outside) > 0).all()
    one = signed_distance_function(np.asarray(ball.vertices), np.asarray(ball.faces), backend)
    assert one(np.zeros((1, 3)))[0] == pytest.approx(-0.3, abs=0.01)
