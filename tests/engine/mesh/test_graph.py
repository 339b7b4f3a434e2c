import numpy as np
import pytest
import trimesh

from engine.mesh.graph import covering_pieces, piece_ids, region_boundary_lengths, unique_edges


def test_covering_pieces_finds_what_one_closed_piece_hides_inside_another():
    big = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
    small = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    small_vertices = np.asarray(small.vertices) + [0.9, 0.0, 0.0]  # half sunk into the big sphere's side
    vertices = np.concatenate([big.vertices, small_vertices])
    faces = np.concatenate([big.faces, small.faces + len(big.vertices)])
    pieces = piece_ids(unique_edges(faces), len(vertices))
    covering = covering_pieces(vertices, faces, pieces, offset=0.02)
    # clearly inside or outside (the faceted surfaces and the 0.02 offset blur a band at the crossing)
    small_radius = np.linalg.norm(small_vertices, axis=1)
    big_to_small = np.linalg.norm(np.asarray(big.vertices) - [0.9, 0, 0], axis=1)
    assert (covering[len(big.vertices):][small_radius < 0.95] == pieces[0]).all()
    assert (covering[len(big.vertices):][small_radius > 1.0] == -1).all()
    assert (covering[:len(big.vertices)][big_to_small < 0.25] == pieces[-1]).all()
    assert (covering[:len(big.vertices)][big_to_small > 0.3] == -1).all()
    assert (small_radius < 0.95).sum() > 10 and (big_to_small < 0.25).sum() > 3
    assert set(np.unique(covering)) == {-1, pieces[0], pieces[-1]}
    one = covering_pieces(np.asarray(big.vertices), np.asarray(big.faces), np.zeros(len(big.vertices), int), 0.02)
    assert (one == -1).all()  # a single closed surface hides nothing


def test_close_crease_gaps_closes_an_edge_between_two_crease_vertices_and_nothing_else():
    from engine.mesh.graph import close_crease_gaps

    # 0-1 and 2-3 are crease edges, 1-2 reads convex between them (the gap), 2-4 leads off the crease.
    edges = np.array([[0, 1], [1, 2], [2, 3], [2, 4]])
    angles = np.array([0.5, 0.0, 0.8, 0.0])
    assert close_crease_gaps(angles, edges, 5).tolist() == [0.5, 0.5, 0.8, 0.0]


def test_region_boundary_length_is_the_cut_length_however_finely_triangulated():
    for size in (0.05, 0.02):
        mesh = trimesh.creation.cylinder(radius=0.2, height=1.0, sections=48).subdivide_to_size(size)
        vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
        regions = (vertices[:, 2] > 0.01).astype(np.int64)  # cut around the middle
        lengths = region_boundary_lengths(regions, faces, vertices, 2)
        assert abs(lengths[0, 1] - 2 * np.pi * 0.2) < 0.03


def test_region_boundary_lengths_in_a_triangle_of_three_regions_meet_at_its_centroid():
    vertices = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    lengths = region_boundary_lengths(np.array([0, 1, 2]), np.array([[0, 1, 2]]), vertices, 3)
    centroid = vertices.mean(axis=0)
    expected = {(0, 1): [0.5, 0.0, 0.0], (1, 2): [0.5, 0.5, 0.0], (0, 2): [0.0, 0.5, 0.0]}  # edge midpoints
    for (a, b), midpoint in expected.items():
        assert lengths[a, b] == lengths[b, a] == pytest.approx(np.linalg.norm(np.array(midpoint) - centroid))
