import numpy as np
import pytest

from engine.segment.instances import (
    RegionThickness,
    merge_across_weak_cuts,
    merge_small_regions,
    piece_contacts,
    split_into_instances,
)

# A path graph 0-1-2-3-4-5-6-7.
PATH = np.array([[i, i + 1] for i in range(7)])


def test_each_type_splits_into_its_connected_pieces():
    types = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    assert split_into_instances(types, PATH).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_small_fragment_joins_the_neighbour_it_touches_most():
    regions = np.array([0, 0, 0, 1, 2, 2, 2, 2])
    merged = merge_small_regions(regions, PATH, min_size=2)
    assert merged.max() == 1 and merged[3] in (merged[2], merged[4])


def test_piece_contacts_join_only_different_pieces_that_come_close():
    # two segments touching end to end (vertices 1 and 2 coincide) and a third far away
    vertices = np.array([[0.0, 0, 0], [1, 0, 0], [1, 0, 0], [2, 0, 0], [9, 0, 0], [10, 0, 0]])
    edges = np.array([[0, 1], [2, 3], [4, 5]])
    assert piece_contacts(vertices, edges, 0.1).tolist() == [[1, 2]]
    assert piece_contacts(vertices[:2], edges[:1], 5.0).shape == (0, 2)  # one piece: no contacts


def test_loose_pieces_are_never_merged():
    edges = np.array([[0, 1], [2, 3]])
    regions = np.array([0, 0, 1, 1])
    assert merge_small_regions(regions, edges, min_size=5).tolist() == [0, 0, 1, 1]
    assert merge_across_weak_cuts(regions, edges, np.ones(2), target=1).tolist() == [0, 0, 1, 1]


def test_merging_keeps_the_boundary_with_the_lowest_affinity():
    regions = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    weights = np.array([1, 0.9, 1, 0.01, 1, 0.9, 1.0])
    merged = merge_across_weak_cuts(regions, PATH, weights, target=2)
    assert merged.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    auto = merge_across_weak_cuts(regions, PATH, weights, threshold=0.05)
    assert auto.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_a_thin_region_on_a_thick_one_stays_cut_where_the_surface_alone_would_merge_them():
    regions = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    weights = np.ones(7)  # no crease, no activation change anywhere
    diameters = np.array([0.3, 0.3, 0.3, 0.3, 0.05, 0.05, 0.05, 0.05])  # a palm, then a finger
    thickness = RegionThickness(np.log(diameters), np.ones(8), scale=0.6)
    assert merge_across_weak_cuts(regions, PATH, weights, threshold=0.05).tolist() == [0] * 8
    cut = merge_across_weak_cuts(regions, PATH, weights, threshold=0.05, thickness=thickness)
    assert cut.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_thickness_affinity_is_one_for_equal_regions_and_falls_to_one_over_e_at_the_scale():
    thickness = RegionThickness(np.log(np.array([1.0, 1.0, 1.0, np.e ** 0.6])), np.ones(4), scale=0.6)
    affinity = thickness.affinity(np.array([0, 1, 2, 2]), np.array([[0, 1], [0, 2]]))
    assert affinity[0] == 1.0
    assert affinity[1] == pytest.approx(np.exp(-0.25))  # region 2's mean log diameter is 0.3: half the scale
