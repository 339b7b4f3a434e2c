"""Marching cubes of analytic SDFs (engine.mesh.marching): closed meshes, right volumes, exact near the surface."""

import numpy as np
import pytest
import trimesh

from engine.mesh.marching import grid_mesh, mesh_from_sdf, sample_grid

RADIUS = 0.4


def ball(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points, axis=1) - RADIUS


def test_a_sphere_gives_a_closed_outward_mesh_of_the_right_volume():
    vertices, faces = mesh_from_sdf(ball, 64)
    assert vertices.dtype == np.float64 and faces.dtype == np.int64
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.02)  # positive: faces point outward
    spacing = 1.2 / 63
    assert np.all(np.abs(np.linalg.norm(vertices, axis=1) - RADIUS) < 0.5 * spacing)


def test_a_solid_past_the_grid_border_is_closed_at_the_border():
    box = lambda points: np.abs(points).max(axis=1) - 0.7  # larger than the [-0.6, 0.6]^3 grid
    vertices, faces = mesh_from_sdf(box, 24)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(1.2**3, rel=0.1)


def test_coarse_to_fine_sampling_is_exact_wherever_the_sign_is_in_doubt():
    axis = np.linspace(-0.6, 0.6, 41)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    exact = ball(grid).reshape(41, 41, 41)
    values = sample_grid(ball, axis)
    spacing = axis[1] - axis[0]
    near = np.abs(exact) <= 2 * spacing
    assert np.array_equal(values[near], exact[near])
    assert np.array_equal(np.sign(values), np.sign(exact))
    assert (values != exact).any()  # far nodes were not evaluated


def test_channels_are_sampled_together():
    axis = np.linspace(-0.6, 0.6, 25)
    two = lambda points: np.stack([ball(points), ball(points - [0.3, 0, 0])], axis=1)
    values = sample_grid(two, axis)
    assert values.shape == (25, 25, 25, 2)
    first, _ = grid_mesh(values[..., 0], axis)
    assert len(first) and np.allclose(grid_mesh(sample_grid(ball, axis), axis)[0], first)


def test_nothing_inside_gives_an_empty_mesh():
    vertices, faces = mesh_from_sdf(lambda points: ball(points) + 1.0, 16)
    assert vertices.shape == (0, 3) and faces.shape == (0, 3)
