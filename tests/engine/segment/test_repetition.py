import numpy as np

from engine.mesh.graph import vertex_areas
from engine.mesh.marching import mesh_from_sdf
from engine.segment.repetition import CopyVeto, copy_distance


def _spheres_joined_by(neck_radius: float, right_radius: float = 0.2):
    """Two spheres 0.6 apart joined by a rod of ``neck_radius``: (vertices, faces, left mask, right mask)."""

    def sdf(points):
        left = np.linalg.norm(points - [-0.3, 0.0, 0.0], axis=1) - 0.2
        right = np.linalg.norm(points - [0.3, 0.0, 0.0], axis=1) - right_radius
        rod = np.maximum(np.linalg.norm(points[:, 1:], axis=1) - neck_radius, np.abs(points[:, 0]) - 0.3)
        return np.minimum(np.minimum(left, right), rod)

    vertices, faces = mesh_from_sdf(sdf, 64)
    return vertices, faces, vertices[:, 0] < 0.0, vertices[:, 0] >= 0.0


def test_mirror_and_translated_copies_are_near_and_different_shapes_far():
    rng = np.random.default_rng(0)
    blob = rng.normal(size=(500, 3)) * [0.3, 0.1, 0.05] + [1.0, 0.0, 0.0]
    assert copy_distance(blob, blob * [-1, 1, 1]) < 0.05  # its mirror image in the plane x = 0
    assert copy_distance(blob, blob + [0.0, 2.0, 0.0]) < 0.05
    assert copy_distance(blob, rng.normal(size=(500, 3)) * 0.15 + [-1.0, 0.0, 0.0]) > 0.2


def test_copies_joined_at_a_neck_stay_apart():
    vertices, faces, left, right = _spheres_joined_by(0.05)
    veto = CopyVeto(vertices, faces, vertex_areas(vertices, faces), neck=1.0, seed=0)
    assert veto(left, right)


def test_copies_joined_along_a_long_seam_and_different_shapes_may_merge():
    vertices, faces, left, right = _spheres_joined_by(0.19)  # nearly as wide as the spheres: one body
    assert not CopyVeto(vertices, faces, vertex_areas(vertices, faces), neck=1.0, seed=0)(left, right)
    vertices, faces, left, right = _spheres_joined_by(0.05, right_radius=0.12)
    assert not CopyVeto(vertices, faces, vertex_areas(vertices, faces), neck=1.0, seed=0)(left, right)


def test_separate_pieces_that_touch_are_left_to_the_piece_rules():
    vertices, faces, left, right = _spheres_joined_by(0.0)  # no rod: two closed spheres
    assert not CopyVeto(vertices, faces, vertex_areas(vertices, faces), neck=1.0, seed=0)(left, right)
