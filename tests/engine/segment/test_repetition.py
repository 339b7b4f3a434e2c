import numpy as np

from engine.mesh.graph import vertex_areas
from engine.mesh.marching import mesh_from_sdf
from engine.segment.repetition import CopyVeto, copy_distance
from engine.settings import SegmentSettings

NECK = SegmentSettings().copy_neck


def _veto(vertices, faces):
    return CopyVeto(vertices, faces, vertex_areas(vertices, faces), neck=NECK, seed=0)


def _spheres_joined_by(neck_radius: float, right_radius: float = 0.2, gap: float = 0.3):
    """Two spheres 2 * ``gap`` apart joined by a rod of ``neck_radius``: (vertices, faces, left mask, right mask)."""

    def sdf(points):
        left = np.linalg.norm(points - [-gap, 0.0, 0.0], axis=1) - 0.2
        right = np.linalg.norm(points - [gap, 0.0, 0.0], axis=1) - right_radius
        rod = np.maximum(np.linalg.norm(points[:, 1:], axis=1) - neck_radius, np.abs(points[:, 0]) - gap)
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
    assert _veto(vertices, faces)(left, right)


def test_a_round_bar_cut_in_its_middle_may_merge_again():
    def bar(points):
        return np.maximum(np.linalg.norm(points[:, 1:], axis=1) - 0.08, np.abs(points[:, 0]) - 0.4)

    vertices, faces = mesh_from_sdf(bar, 64)
    assert not _veto(vertices, faces)(vertices[:, 0] < 0.0, vertices[:, 0] >= 0.0)  # seam sqrt 2 girths


def test_different_shapes_of_one_area_may_merge():
    def sdf(points):
        ball = np.linalg.norm(points - [-0.3, 0.0, 0.0], axis=1) - 0.2
        slab = np.max(np.abs(points - [0.32, 0.0, 0.0]) - [0.04, 0.25, 0.25], axis=1)  # about the ball's area
        rod = np.maximum(np.linalg.norm(points[:, 1:], axis=1) - 0.05, np.abs(points[:, 0]) - 0.3)
        return np.minimum(np.minimum(ball, slab), rod)

    vertices, faces = mesh_from_sdf(sdf, 64)
    left, right = vertices[:, 0] < 0.0, vertices[:, 0] >= 0.0
    areas = vertex_areas(vertices, faces)
    assert 0.6 < areas[left].sum() / areas[right].sum() < 1.6  # the area test passes: the shape decides
    assert not _veto(vertices, faces)(left, right)


def test_separate_pieces_are_left_to_the_piece_rules():
    vertices, faces, left, right = _spheres_joined_by(0.0)  # two closed spheres, no seam between them
    assert not _veto(vertices, faces)(left, right)
