import numpy as np

from engine.mesh.graph import concave_angles, unique_edges, vertex_normals
from engine.mesh.marching import mesh_from_sdf
from engine.segment.clustering import edge_weights
from engine.segment.convexity import merge_nearly_convex
from engine.segment.ends import CreaseEndVeto
from engine.segment.instances import piece_contacts
from engine.segment.segmentation import PIECE_CONTACT, _spacing
from engine.settings import SegmentSettings

SETTINGS = SegmentSettings()


def _rod(radius, low, high):
    middle, half = (low + high) / 2, (high - low) / 2

    def sdf(points):
        return np.maximum(np.linalg.norm(points[:, [0, 2]], axis=1) - radius, np.abs(points[:, 1] - middle) - half)

    return sdf


def _shaft():
    """A stepped shaft: a thick body up to y = 0.1 and a thin end above it; their union is nearly convex."""
    return mesh_from_sdf(_union(_rod(0.12, -0.45, 0.1), _rod(0.07, 0.0, 0.45)), 64)


def _union(*sdfs):
    return lambda points: np.min([sdf(points) for sdf in sdfs], axis=0)


def _veto(vertices, faces):
    edges = unique_edges(faces)
    angles = concave_angles(vertices, vertex_normals(vertices, faces), edges)
    weights = edge_weights(None, angles, SETTINGS.crease_angle)
    touching = np.concatenate([edges, piece_contacts(vertices, edges, PIECE_CONTACT * _spacing(vertices, edges))])
    return CreaseEndVeto(edges, weights, touching, SETTINGS.end_crease_weight), edges


def test_a_shafts_thin_end_stays_apart_from_its_body():
    # The union of the two is nearly convex, so without the veto the convex merge joins them.
    vertices, faces = _shaft()
    veto, edges = _veto(vertices, faces)
    regions = (vertices[:, 1] > 0.1 + 0.01).astype(np.int64)  # the thin end above the step's face
    assert veto(regions == 1, regions == 0) and veto(regions == 0, regions == 1)
    assert len(np.unique(merge_nearly_convex(regions, edges, vertices, 0, threshold=0.05))) == 1
    kept = merge_nearly_convex(regions, edges, vertices, 0, threshold=0.05, refuse=veto)
    assert np.array_equal(kept, regions)


def test_a_cut_off_the_crease_is_no_end():
    # The same shaft's body cut across its middle: an end, but its boundary is no crease.
    vertices, faces = _shaft()
    veto, _ = _veto(vertices, faces)
    regions = (vertices[:, 1] > -0.2).astype(np.int64)
    assert not veto(regions == 0, regions == 1)


def test_a_region_beyond_the_thin_end_makes_it_no_end():
    # The shaft cut across its body and again short of its tip: the pieces on either side of the step
    # each touch a third region.
    vertices, faces = _shaft()
    veto, _ = _veto(vertices, faces)
    regions = np.digitize(vertices[:, 1], [-0.2, 0.1 + 0.01, 0.3])  # body's foot, body, thin end, its tip
    assert not veto(regions == 2, regions == 1)
    assert veto((regions == 2) | (regions == 3), regions == 1)  # the whole thin end is an end


def test_a_ball_threaded_between_two_plates_joins_its_rod():
    # A baluster with a ball between two rails: the ball and each rod piece have neighbours on both sides,
    # so neither is an end, and the baluster merges whole.
    plates = [lambda p, y=y: np.linalg.norm(np.maximum(np.abs(p - [0, y, 0]) - [0.4, 0.05, 0.2], 0), axis=1)
              + np.minimum((np.abs(p - [0, y, 0]) - [0.4, 0.05, 0.2]).max(axis=1), 0) for y in (-0.4, 0.4)]
    ball = lambda p: np.linalg.norm(p, axis=1) - 0.12  # noqa: E731
    vertices, faces = mesh_from_sdf(_union(*plates, _rod(0.05, -0.4, 0.4), ball), 72)
    veto, edges = _veto(vertices, faces)
    y, radial = vertices[:, 1], np.linalg.norm(vertices[:, [0, 2]], axis=1)
    on_rod = radial < 0.055
    regions = np.select([y < -0.34, y > 0.34, on_rod & (y < -0.12), on_rod & (y > 0.12)], [0, 1, 2, 3], 4)
    _, _, lower_rod, upper_rod, bead = (regions == label for label in range(5))
    assert not veto(lower_rod, bead) and not veto(bead, upper_rod)
    merged = merge_nearly_convex(regions, edges, vertices, 0, threshold=0.05, refuse=veto)
    assert len(np.unique(merged[lower_rod | bead | upper_rod])) == 1
    assert len(np.unique(merged)) == 3


def test_separate_pieces_that_touch_are_left_to_the_pieces_rules():
    # Two closed rods standing on each other share no edge: no crease between them to judge.
    first_vertices, first_faces = mesh_from_sdf(_rod(0.1, -0.4, 0.0), 40)
    second_vertices, second_faces = mesh_from_sdf(_rod(0.06, 0.0, 0.4), 40)
    vertices = np.concatenate([first_vertices, second_vertices])
    faces = np.concatenate([first_faces, second_faces + len(first_vertices)])
    veto, _ = _veto(vertices, faces)
    regions = np.repeat([0, 1], [len(first_vertices), len(second_vertices)])
    assert not veto(regions == 0, regions == 1)


def test_a_piece_touching_the_thin_end_makes_it_no_end():
    # A separate cap touching the shaft's tip is a neighbour too (a contact, not an edge).
    shaft_vertices, shaft_faces = _shaft()
    shaft_regions = np.digitize(shaft_vertices[:, 1], [-0.2, 0.1 + 0.01])  # foot, body, thin end
    alone, _ = _veto(shaft_vertices, shaft_faces)
    assert alone(shaft_regions == 2, shaft_regions == 1)
    cap_vertices, cap_faces = mesh_from_sdf(_rod(0.09, 0.45, 0.55), 48)
    veto, _ = _veto(np.r_[shaft_vertices, cap_vertices], np.r_[shaft_faces, cap_faces + len(shaft_vertices)])
    regions = np.r_[shaft_regions, np.full(len(cap_vertices), 3)]
    assert not veto(regions == 2, regions == 1)


def test_the_convex_merge_keeps_the_thin_end_in_auto_mode_only_with_the_rule():
    from dataclasses import replace

    from engine.segment.segmentation import build_surface_graph, segment_surface

    vertices, faces = _shaft()
    settings = SegmentSettings(use_activations=False, use_thickness=False)
    graph = build_surface_graph(vertices, faces, np.zeros((len(vertices), 1)), None, settings)
    thin_end = (vertices[:, 1] > 0.1 + 0.01).astype(np.int64)
    two_clusters = replace(graph, clusters=thin_end, clusters_seed=0)
    kept = segment_surface(vertices, faces, two_clusters, settings, 0).part_labels
    assert len(np.unique(kept)) == 2 and len(np.unique(kept[thin_end == 1])) == 1
    merged = segment_surface(vertices, faces, two_clusters, replace(settings, end_crease_weight=None), 0)
    assert len(np.unique(merged.part_labels)) == 1
