import numpy as np

from engine.mesh.graph import vertex_areas, vertex_normals
from engine.mesh.marching import mesh_from_sdf
from engine.segment.walls import far_side_vertices, merge_wall_sides
from engine.settings import SegmentSettings

SHARE = SegmentSettings().wall_share


def _box(half_extents):
    half = np.asarray(half_extents)

    def sdf(points):
        q = np.abs(points) - half
        return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0)

    return sdf


def _diameters(sdf, vertices, faces, step=0.002):
    """(n,) distance along the inward normal to where ``sdf`` turns positive again (a ray marched in steps)."""
    inward = -vertex_normals(vertices, faces)
    distance = np.full(len(vertices), np.nan)
    travelled = np.full(len(vertices), 2 * step)
    while np.isnan(distance).any() and travelled[0] < 2.0:
        outside = sdf(vertices + travelled[:, None] * inward) > 0.0
        distance[outside & np.isnan(distance)] = travelled[outside & np.isnan(distance)]
        travelled += step
    return distance


def _merged(sdf, labels_of):
    vertices, faces = mesh_from_sdf(sdf, 48)
    diameter = _diameters(sdf, vertices, faces)
    labels = labels_of(vertices)
    far = far_side_vertices(vertices, vertex_normals(vertices, faces), diameter)
    return labels, merge_wall_sides(labels, far, diameter, vertex_areas(vertices, faces), SHARE)


def test_the_two_sides_of_a_thin_slab_are_one_part():
    labels, merged = _merged(_box([0.4, 0.04, 0.4]), lambda v: (v[:, 1] > 0.0).astype(int))
    assert len(np.unique(labels)) == 2
    assert len(np.unique(merged)) == 1


def test_a_cap_that_looks_across_a_thick_block_stays_apart():
    # The top face sees the bottom face straight through, but from farther than the face is wide.
    block = _box([0.3, 0.3, 0.3])
    labels, merged = _merged(block, lambda v: (v[:, 1] > 0.29).astype(int))
    assert np.array_equal(merged, labels)


def test_a_rod_that_sees_itself_across_keeps_its_neighbours():
    # A rod on a plate: the rod's inward rays leave on its own far side; the plate's top and bottom join.
    def rod_on_plate(points):
        plate = _box([0.45, 0.03, 0.45])(points)
        rod = np.maximum(np.linalg.norm(points[:, [0, 2]], axis=1) - 0.06, np.abs(points[:, 1] - 0.25) - 0.25)
        return np.minimum(plate, rod)

    def labels_of(vertices):
        on_rod = (np.linalg.norm(vertices[:, [0, 2]], axis=1) < 0.07) & (vertices[:, 1] > 0.04)
        return np.where(on_rod, 2, (vertices[:, 1] > 0.0).astype(int))

    labels, merged = _merged(rod_on_plate, labels_of)
    rod = labels == 2
    assert len(np.unique(merged)) == 2
    assert len(np.unique(merged[rod])) == 1 and not np.isin(merged[rod], merged[~rod]).any()


def test_unread_vertices_have_no_far_side():
    vertices, faces = mesh_from_sdf(_box([0.3, 0.05, 0.3]), 32)
    diameter = np.full(len(vertices), np.nan)
    assert (far_side_vertices(vertices, vertex_normals(vertices, faces), diameter) == -1).all()
