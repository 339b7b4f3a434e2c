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
    # a palm, then a finger: thinner in diameter and in radius
    thickness = np.log(np.repeat([[0.3, 0.1], [0.05, 0.02]], 4, axis=0))
    region_thickness = RegionThickness(thickness, np.ones(8), scale=0.6)
    assert merge_across_weak_cuts(regions, PATH, weights, threshold=0.05).tolist() == [0] * 8
    cut = merge_across_weak_cuts(regions, PATH, weights, threshold=0.05, thickness=region_thickness)
    assert cut.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_thickness_affinity_takes_the_smaller_change_of_diameter_and_radius():
    # region 1: the diameter changes (another face of a box), the radius does not; region 2: both change by 0.3
    thickness = np.log(np.array([[1.0, 1.0], [np.e ** 2, 1.0], [np.e ** 0.3, np.e ** 0.3]]))
    affinity = RegionThickness(thickness, np.ones(3), scale=0.6).affinity(np.array([0, 1, 2]),
                                                                           np.array([[0, 1], [0, 2]]))
    assert affinity[0] == 1.0
    assert affinity[1] == pytest.approx(np.exp(-0.25))  # a difference of half the scale



def test_a_region_without_a_thickness_reading_is_not_compared():
    thickness = np.log(np.array([[1.0, 1.0], [np.nan, np.nan], [np.e, np.e]]))
    affinity = RegionThickness(thickness, np.ones(3), scale=0.6).affinity(np.array([0, 1, 2]),
                                                                           np.array([[0, 1], [0, 2]]))
    assert affinity[0] == 1.0 and affinity[1] == pytest.approx(np.exp(-(1 / 0.6) ** 2))
