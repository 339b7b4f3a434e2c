"""The thickness read from a fitted field (engine.field.thickness) on a real fitted ball."""

import numpy as np
import pytest
import torch
import trimesh

from engine.field.fitting import fit_sdf
from engine.field.thickness import FARTHEST, deepest_before_exit, first_exit, surface_thickness
from engine.settings import FitSettings, ModelSettings

CPU = torch.device("cpu")
RADIUS = 0.3
SMALL = FitSettings(model=ModelSettings(width=32, hidden_layers=3, skip_layer=2, frequencies=2), iterations=150,
                    batch_size=512, learning_rate=5e-3, pool_size=6000, pools=1)


@pytest.fixture(scope="module")
def ball_and_field():
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=RADIUS)
    vertices, faces = np.asarray(sphere.vertices), np.asarray(sphere.faces)
    model, _ = fit_sdf(vertices, faces, SMALL, seed=0, device=CPU)
    return vertices, faces, model


def test_a_ball_is_as_thick_as_its_diameter_and_radius_whichever_way_its_faces_are_wound(ball_and_field):
    vertices, faces, model = ball_and_field
    thickness = surface_thickness(model, vertices, faces, CPU, seed=0)
    flipped = surface_thickness(model, vertices, faces[:, ::-1], CPU, seed=0)
    assert thickness.shape == (len(vertices), 2)
    assert np.median(thickness[:, 0]) == pytest.approx(2 * RADIUS, rel=0.15)
    assert np.mean(np.abs(thickness[:, 0] / (2 * RADIUS) - 1) < 0.25) > 0.9
    # the deepest point is the centre, 0.3 in, but the fit learns distances only up to its clamp
    assert SMALL.clamp * 0.8 < np.median(thickness[:, 1]) < min(RADIUS, SMALL.clamp * 1.6)
    np.testing.assert_array_equal(thickness, flipped)


def test_a_large_mesh_is_read_at_a_seeded_sample_of_its_vertices(ball_and_field):
    vertices, faces, model = ball_and_field
    full = surface_thickness(model, vertices, faces, CPU, seed=0)
    sampled = surface_thickness(model, vertices, faces, CPU, seed=3, limit=100)
    read = np.isfinite(sampled[:, 0])
    assert read.sum() == 100 and np.isnan(sampled[~read]).all()
    np.testing.assert_allclose(sampled[read], full[read], rtol=1e-5)
    np.testing.assert_array_equal(np.isfinite(surface_thickness(model, vertices, faces, CPU, seed=3, limit=100)),
                                  np.isfinite(sampled))


def test_a_ray_that_never_leaves_the_solid_has_the_farthest_diameter(ball_and_field):
    _, _, model = ball_and_field
    centre = np.array([[0.0, 0.0, 0.0]])  # a point in no proper face: no normal, its ray stays inside
    triangle = np.array([[0, 0, 0]])
    diameter, radius = surface_thickness(model, centre, triangle, CPU, seed=0)[0]
    assert diameter == pytest.approx(FARTHEST) and SMALL.clamp * 0.8 < radius < RADIUS


def test_the_exit_is_interpolated_between_samples_and_bounded_where_the_ray_never_crosses():
    steps = np.array([0.1, 0.2, 0.4])
    # columns: leaves between 0.2 and 0.4; never inside; never leaves; leaves between 0.1 and 0.2
    values = np.array([[-1.0, 1.0, -1.0, -3.0],
                       [-1.0, 1.0, -1.0, 1.0],
                       [1.0, 1.0, -1.0, 1.0]])
    exits = first_exit(values, steps)
    assert exits == pytest.approx([0.3, 0.1, 0.4, 0.1 + 0.1 * 0.75])



def test_the_radius_is_the_deepest_sample_before_the_first_exit():
    values = np.array([[-0.1, 0.2, -0.1],
                       [-0.3, 0.2, -0.2],
                       [0.1, 0.2, -0.3],
                       [-0.9, 0.2, -0.4]])  # column 0 leaves, then enters another solid: that depth is not counted
    assert deepest_before_exit(values) == pytest.approx([0.3, 0.0, 0.4])
