import numpy as np
import pytest
import trimesh

from engine.mesh.graph import piece_ids, unique_edges, vertex_normals
from engine.mesh.marching import mesh_from_sdf
from engine.segment.convexity import BridgeVeto, SolidSide, concavity, merge_nearly_convex
from engine.segment.instances import merge_across_weak_cuts
from engine.segment.types import group_types
from engine.settings import SegmentSettings


def _cube_points(center, size, count, rng):
    return center + (rng.random((count, 3)) - 0.5) * size


def _bar(low, high, count, rng):
    """(count, 3) points on the surface of the box [low, high]."""
    box = trimesh.creation.box(bounds=[low, high])
    return trimesh.sample.sample_surface(box, count, seed=int(rng.integers(1 << 31)))[0]


def test_concavity_is_zero_for_a_convex_set_and_deep_for_a_crescent():
    rng = np.random.default_rng(0)
    sphere = rng.normal(size=(20000, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    assert concavity(sphere, rng) < 0.05  # the floor is the points' spacing
    # A thick half ring (radii 0.5 and 1): its hull bridges the hole, whose centre is 0.5 from the ring.
    angles = rng.uniform(0, np.pi, 4000)
    radii = np.where(np.arange(4000) % 2 == 0, 1.0, 0.5)
    ring = np.c_[radii * np.cos(angles), radii * np.sin(angles), rng.uniform(-0.1, 0.1, 4000)]
    assert concavity(ring, rng) == pytest.approx(0.5, abs=0.05)


def test_nearly_convex_neighbours_merge_and_an_l_corner_stays():
    rng = np.random.default_rng(0)
    # Three regions in a chain: two halves of one straight bar, then a bar at a right angle.
    first = _bar([0.0, -0.05, -0.05], [0.5, 0.05, 0.05], 300, rng)
    second = _bar([0.5, -0.05, -0.05], [1.0, 0.05, 0.05], 300, rng)
    third = _bar([0.9, 0.05, -0.05], [1.0, 1.0, 0.05], 300, rng)
    vertices = np.r_[first, second, third]
    regions = np.repeat([0, 1, 2], 300)
    edges = np.array([[0, 300], [300, 600]])  # first touches second, second touches third
    merged = merge_nearly_convex(regions, edges, vertices, seed=0, threshold=0.05)
    assert merged.tolist() == [0] * 600 + [1] * 300
    assert merge_nearly_convex(regions, edges, vertices, seed=0, target=1).max() == 0


def test_a_refused_merge_leaves_the_next_nearly_convex_pair_to_merge():
    rng = np.random.default_rng(0)
    # One straight bar in three thirds: both neighbouring pairs are convex; the first pair is refused.
    thirds = [_bar([x, -0.05, -0.05], [x + 0.3, 0.05, 0.05], 300, rng) for x in (0.0, 0.3, 0.6)]
    vertices, regions = np.concatenate(thirds), np.repeat([0, 1, 2], 300)
    edges = np.array([[0, 300], [300, 600]])

    def first_pair(first, second):
        return bool(first[0] or second[0])

    merged = merge_nearly_convex(regions, edges, vertices, seed=0, threshold=0.05, refuse=first_pair)
    assert merged.tolist() == [0] * 300 + [1] * 600


def test_the_bridge_veto_keeps_two_handles_in_a_v_apart_and_lets_a_straight_bar_merge():
    rng = np.random.default_rng(0)
    first = _bar([0.0, -0.05, -0.05], [0.5, 0.05, 0.05], 400, rng)
    straight_on = _bar([0.5, -0.05, -0.05], [1.0, 0.05, 0.05], 400, rng)
    # the other handle: from the same end, at 40 degrees (a V, as the two handles of pliers)
    angle = np.radians(40)
    turn = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    other_handle = first @ turn.T
    vertices = np.r_[first, straight_on, other_handle]
    masks = [np.arange(1200) // 400 == k for k in range(3)]
    veto = BridgeVeto(vertices, ratio=2.5, floor=0.01, seed=0)
    assert not veto(masks[0], masks[1])
    assert veto(masks[0], masks[2])


RATIO = SegmentSettings().bridge_ratio


def _capsule(start, end, radius):
    start, end = np.asarray(start, float), np.asarray(end, float)

    def sdf(points):
        axis = end - start
        along = np.clip(((points - start) @ axis) / (axis @ axis), 0.0, 1.0)
        return np.linalg.norm(points - (start + along[:, None] * axis), axis=1) - radius

    return sdf


def _solid_side(vertices, faces, margin=0.02):
    """The solid of faces wound outward, each piece on its own, as ``segment_surface`` builds it."""
    return SolidSide(vertices, vertex_normals(vertices, faces), piece_ids(unique_edges(faces), len(vertices)), margin)


def _vetoes(vertices, faces):
    """The bridge veto at the default ratio over the whole hull only, and also judged outside the solid."""
    return (BridgeVeto(vertices, RATIO, floor=0.02, seed=0),
            BridgeVeto(vertices, RATIO, floor=0.02, seed=0, side=_solid_side(vertices, faces)))


def test_patches_of_a_sphere_merge_when_the_veto_also_asks_outside_the_solid():
    # Two small caps side by side: each one's hull base lies inside the sphere, yet counts as concavity
    # over the whole hull, and their union's base is deeper: the whole-hull measure alone refuses.
    vertices, faces = mesh_from_sdf(lambda p: np.linalg.norm(p, axis=1) - 0.4, 48)
    directions = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    angles = [np.arccos(np.clip(directions @ [np.cos(a), np.sin(a), 0.0], -1, 1)) for a in (0.35, -0.35)]
    first = (angles[0] < 0.35) & (angles[0] <= angles[1])
    second = (angles[1] < 0.35) & (angles[1] < angles[0])
    whole_hull, with_side = _vetoes(vertices, faces)
    assert whole_hull(first, second)
    assert not with_side(first, second)


def test_offset_patches_of_a_flat_face_merge_when_the_veto_also_asks_outside_the_solid():
    # Two squares side by side on a slab's top, offset: their union's hull spans the notch between their
    # outlines, but over the slab's own face, not over empty space.
    def slab(points):
        q = np.abs(points) - [0.45, 0.03, 0.45]
        return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0)

    vertices, faces = mesh_from_sdf(slab, 64)
    vertices = vertices + np.random.default_rng(0).normal(scale=0.002, size=vertices.shape)  # not exactly flat
    x, y, z = vertices.T
    top = y > 0.025
    first = top & (x > -0.3) & (x <= 0.0) & (z > -0.3) & (z < 0.0)
    second = top & (x > 0.0) & (x < 0.3) & (z > -0.15) & (z < 0.15)
    whole_hull, with_side = _vetoes(vertices, faces)
    assert whole_hull(first, second)
    assert not with_side(first, second)


def test_on_separate_pieces_each_is_its_own_solid():
    # A loose barbell's sphere with the bar's end inside it: two caps of the sphere where the bar enters.
    # Their union's hull base lies inside the sphere but beside the bar, on the bar's outer side: judged
    # against every piece it counts as bridged space; against the sphere's own piece it is inside.
    sphere_vertices, sphere_faces = mesh_from_sdf(lambda p: np.linalg.norm(p, axis=1) - 0.4, 48)
    bar_vertices, bar_faces = mesh_from_sdf(_capsule([0.0, 0, 0], [0.55, 0, 0], 0.12), 48)
    vertices = np.r_[sphere_vertices, bar_vertices]
    faces = np.r_[sphere_faces, bar_faces + len(sphere_vertices)]
    directions = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    on_sphere = np.arange(len(vertices)) < len(sphere_vertices)
    angles = [np.arccos(np.clip(directions @ [np.cos(a), np.sin(a), 0.0], -1, 1)) for a in (0.35, -0.35)]
    first = on_sphere & (angles[0] < 0.35) & (angles[0] <= angles[1])
    second = on_sphere & (angles[1] < 0.35) & (angles[1] < angles[0])
    whole_hull, with_side = _vetoes(vertices, faces)
    assert whole_hull(first, second)
    assert not with_side(first, second)
    side = _solid_side(vertices, faces)
    inside_sphere_off_the_bar = np.array([[0.0, 0.25, 0.0]])
    assert not side.around(on_sphere)(inside_sphere_off_the_bar)[0]
    assert side.around(~on_sphere)(inside_sphere_off_the_bar)[0]


def test_handles_in_a_v_stay_apart_and_a_bar_merges_with_the_side_judged():
    angle = np.radians(40)
    first = _capsule([-0.4, 0, 0], [0, 0, 0], 0.05)
    other = _capsule([0, 0, 0], [-0.4 * np.cos(angle), 0.4 * np.sin(angle), 0], 0.05)
    vertices, faces = mesh_from_sdf(lambda p: np.minimum(first(p), other(p)), 64)
    lower = vertices[:, 1] < np.tan(angle / 2) * -vertices[:, 0]
    assert all(veto(lower, ~lower) for veto in _vetoes(vertices, faces))
    vertices, faces = mesh_from_sdf(_capsule([-0.4, 0, 0], [0.4, 0, 0], 0.05), 64)
    left = vertices[:, 0] < 0.0
    assert not any(veto(left, ~left) for veto in _vetoes(vertices, faces))


def test_a_refused_merge_is_skipped_for_the_next_pair_and_asked_only_once_while_unchanged():
    path = np.array([[i, i + 1] for i in range(7)])
    regions = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    weights = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 0.9, 1.0])  # 0|1 strongest, then 2|3; 1|2 is a cut
    asked = []

    def refuse_the_first_pair(first, second):
        asked.append((int(np.argmax(first)), int(np.argmax(second))))
        return bool(first[0] and second[2])

    merged = merge_across_weak_cuts(regions, path, weights, threshold=0.0, refuse=refuse_the_first_pair)
    assert merged.tolist() == [0, 0, 1, 1, 2, 2, 2, 2]
    assert asked == [(0, 2), (4, 6)]


def test_a_fragment_of_one_piece_does_not_merge_into_the_piece_it_pokes_into():
    rng = np.random.default_rng(0)
    # A ball (piece 0) and a bent stick (piece 1) whose tip pokes into the ball: the tip alone is
    # inside the ball's hull (the most convex union), but it belongs with the rest of its stick.
    ball = rng.normal(size=(600, 3))
    ball = 0.5 * ball / np.linalg.norm(ball, axis=1, keepdims=True)
    tip = _bar([-0.05, -0.05, -0.6], [0.05, 0.05, -0.3], 100, rng)
    stick = np.r_[_bar([-0.05, -0.05, -1.2], [0.05, 0.05, -0.6], 200, rng),
                  _bar([-0.05, -0.05, -1.3], [0.8, 0.05, -1.2], 200, rng)]
    vertices = np.r_[ball, tip, stick]
    regions = np.repeat([0, 1, 2], [600, 100, 400])
    pieces = np.repeat([0, 1], [600, 500])
    edges = np.array([[0, 600], [650, 750]])  # the tip touches the ball and its stick
    assert merge_nearly_convex(regions, edges, vertices, seed=0, target=2)[:700].tolist() == [0] * 700
    kept = merge_nearly_convex(regions, edges, vertices, seed=0, target=2, pieces=pieces)
    assert kept.tolist() == [0] * 600 + [1] * 500


def test_same_shaped_parts_share_a_type_wherever_they_are():
    rng = np.random.default_rng(0)
    legs = [_cube_points(np.array([x, 0, 0]), [0.05, 0.5, 0.05], 200, rng) for x in (-1, 1, 3)]
    top = _cube_points(np.array([0, 1, 0]), [2.0, 0.05, 1.0], 400, rng)
    vertices = np.concatenate(legs + [top])
    labels = np.repeat([0, 1, 2, 3], [200, 200, 200, 400])
    types, names = group_types(vertices, labels, None)
    assert types.tolist() == [0, 0, 0, 1]
    assert names == ("Rod", "Panel")
    forced, _ = group_types(vertices, labels, 1)
    assert set(forced) == {0}


def test_the_thickness_cue_and_the_cuts_are_kept_on_one_piece_and_dropped_on_touching_pieces():
    from engine.segment.segmentation import build_surface_graph
    from engine.settings import SegmentSettings

    ball = trimesh.creation.icosphere(subdivisions=2, radius=0.3)
    one_vertices, one_faces = np.asarray(ball.vertices), np.asarray(ball.faces)
    two_vertices = np.r_[one_vertices, one_vertices + [0.4, 0.0, 0.0]]  # a second ball crossing the first
    two_faces = np.r_[one_faces, one_faces + len(one_vertices)]
    settings = SegmentSettings(max_parts=4, activation_scale=1.0)  # random features at full strength cut
    for vertices, faces, kept in ((one_vertices, one_faces, True), (two_vertices, two_faces, False)):
        features = np.random.default_rng(0).normal(size=(len(vertices), 4))
        thickness = np.full((len(vertices), 2), 0.5)
        graph = build_surface_graph(vertices, faces, features, thickness, settings)
        assert (graph.log_thickness is not None) == kept
        assert graph.cuts.any() == kept  # the split along cuts too: one piece only


def test_a_cluster_spanning_a_closed_crease_is_split_along_it():
    """A collar standing on a slab, both in one k-means cluster: the crease around the collar's foot cuts it off."""
    from dataclasses import replace

    from engine.mesh.marching import mesh_from_sdf
    from engine.segment.segmentation import build_surface_graph, segment_surface
    from engine.settings import SegmentSettings

    def collar_on_slab(points):
        slab = np.max(np.abs(points - [0.0, -0.1, 0.0]) - [0.4, 0.1, 0.4], axis=1)
        radial = np.linalg.norm(points[:, [0, 2]], axis=1) - 0.12
        collar = np.maximum(radial, np.abs(points[:, 1] - 0.1) - 0.1)
        return np.minimum(slab, collar)

    vertices, faces = mesh_from_sdf(collar_on_slab, 40)
    settings = SegmentSettings(max_parts=4, use_activations=False, use_thickness=False)
    graph = build_surface_graph(vertices, faces, np.zeros((len(vertices), 1)), None, settings)
    one_cluster = replace(graph, clusters=np.zeros(len(vertices), np.int64), clusters_seed=0)
    labels = segment_surface(vertices, faces, one_cluster, settings, 0).part_labels
    collar_top, slab_bottom = vertices[:, 1] > 0.15, vertices[:, 1] < -0.15
    assert len(set(labels[collar_top])) == 1 and len(set(labels[slab_bottom])) == 1
    assert labels[collar_top][0] != labels[slab_bottom][0]
    no_cuts = replace(one_cluster, cuts=np.zeros(len(graph.edges), bool))
    uncut = segment_surface(vertices, faces, no_cuts, settings, 0).part_labels
    assert len(set(uncut)) == 1  # without the cut edges the cluster stays whole
