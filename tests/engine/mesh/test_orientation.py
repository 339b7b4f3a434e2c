"""Consistent, outward winding (engine.mesh.orientation) on small synthetic meshes."""

import numpy as np
import pytest
import trimesh

from engine.mesh.orientation import orient_consistently


def signed_volume(vertices, faces):
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float((a * np.cross(b, c)).sum() / 6.0)


def directed_edges_unique(faces):
    """Every shared edge is traversed once in each direction (no directed edge twice)."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return len(np.unique(directed, axis=0)) == len(directed)


def same_winding(a, b):
    """The same triangles with the same winding (corner order up to rotation)."""
    return np.array_equal(rotate_smallest_first(a), rotate_smallest_first(b))


def rotate_smallest_first(faces):
    shift = np.argmin(faces, axis=1)
    return faces[np.arange(len(faces))[:, None], (shift[:, None] + np.arange(3)) % 3]


def same_triangles(a, b):
    return np.array_equal(np.sort(a, axis=1), np.sort(b, axis=1))


def flip(faces, mask):
    faces = faces.copy()
    faces[mask] = faces[mask][:, ::-1]
    return faces


@pytest.fixture(scope="module")
def sphere():
    mesh = trimesh.creation.icosphere(subdivisions=3)
    return np.asarray(mesh.vertices), np.asarray(mesh.faces, dtype=np.int64)


def test_half_flipped_closed_sphere_becomes_consistent_and_outward(sphere):
    vertices, faces = sphere
    bad = np.random.default_rng(0).random(len(faces)) < 0.5
    report = orient_consistently(vertices, flip(faces, bad))
    assert directed_edges_unique(report.faces)
    assert signed_volume(vertices, report.faces) > 0
    assert same_winding(report.faces, faces)
    assert report.flipped_count == bad.sum() and np.array_equal(report.flipped, bad)
    assert (report.components, report.closed_components) == (1, 1)
    assert report.conflicting_edges == 0 and report.nonmanifold_edges == 0
    assert "reoriented" in report.warning()


def test_one_flipped_hemisphere_is_fixed(sphere):
    vertices, faces = sphere
    upper = vertices[faces].mean(axis=1)[:, 2] > 0
    report = orient_consistently(vertices, flip(faces, upper))
    assert same_winding(report.faces, faces) and report.flipped_count == upper.sum()


def test_inside_out_closed_mesh_is_turned_outward(sphere):
    vertices, faces = sphere
    report = orient_consistently(vertices, faces[:, ::-1])
    assert signed_volume(vertices, report.faces) > 0 and directed_edges_unique(report.faces)
    assert report.flipped_count == len(faces) and report.inverted_components == 1


def test_consistent_mesh_is_unchanged(sphere, unit_cube):
    for vertices, faces in (sphere, unit_cube):
        report = orient_consistently(vertices, faces)
        assert report.flipped_count == 0 and report.inverted_components == 0
        assert np.array_equal(report.faces, faces) and report.warning() is None


def test_two_components_one_inside_out(sphere):
    vertices, faces = sphere
    both = np.concatenate([vertices, vertices * 0.5 + [3.0, 0.0, 0.0]])
    second = faces[:, ::-1] + len(vertices)
    bad = np.random.default_rng(1).random(len(faces)) < 0.3
    report = orient_consistently(both, np.concatenate([flip(faces, bad), second]))
    assert report.components == 2 and report.closed_components == 2 and report.inverted_components == 1
    assert directed_edges_unique(report.faces)
    half = len(faces)
    assert signed_volume(both, report.faces[:half]) > 0 and signed_volume(both, report.faces[half:]) > 0
    assert report.flipped_count == bad.sum() + half


def test_open_hemisphere_becomes_consistent_and_outward(sphere):
    vertices, faces = sphere
    bowl = faces[vertices[faces].mean(axis=1)[:, 2] < 0]
    bad = np.random.default_rng(2).random(len(bowl)) < 0.5
    for start in (bowl, bowl[:, ::-1], flip(bowl, bad)):
        report = orient_consistently(vertices, start)
        assert directed_edges_unique(report.faces) and same_winding(report.faces, bowl)
        assert report.closed_components == 0
        assert same_triangles(report.faces, start)


def test_flat_sheet_keeps_its_majority_winding():
    xs, ys = np.meshgrid(np.arange(6.0), np.arange(6.0), indexing="ij")
    vertices = np.stack([xs.ravel(), ys.ravel(), np.zeros(36)], axis=1)
    index = np.arange(36).reshape(6, 6)
    quads = np.stack([index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]], axis=-1).reshape(-1, 4)
    faces = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    bad = np.zeros(len(faces), bool)
    bad[::7] = True
    for start in (faces, faces[:, ::-1]):
        report = orient_consistently(vertices, flip(start, bad))
        assert same_winding(report.faces, start) and report.flipped_count == bad.sum()


def test_hollow_shell_keeps_its_inward_cavity(sphere):
    vertices, faces = sphere
    both = np.concatenate([vertices, vertices * 0.5])
    hollow = np.concatenate([faces, faces[:, ::-1] + len(vertices)])  # inner wall faces the cavity
    report = orient_consistently(both, hollow)
    assert report.flipped_count == 0 and report.components == 2
    embedded = np.concatenate([faces, faces + len(vertices)])  # an outward solid inside: kept too
    assert orient_consistently(both, embedded).flipped_count == 0
    bad = np.random.default_rng(3).random(len(faces)) < 0.2
    mixed = np.concatenate([faces, flip(faces[:, ::-1], bad) + len(vertices)])
    assert same_winding(orient_consistently(both, mixed).faces, hollow)


def test_non_manifold_edge_does_not_crash():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0.3, 0.3, 0.3]], float)
    faces = np.array([[0, 1, 2], [1, 0, 3], [0, 1, 4], [1, 0, 5], [2, 2, 1]])  # four faces on edge 0-1
    report = orient_consistently(vertices, faces)
    assert report.nonmanifold_edges == 1 and report.faces.shape == faces.shape
    assert same_triangles(report.faces, faces)
    tetra = np.array([[0, 2, 1], [0, 1, 4], [1, 2, 4], [2, 0, 4], [0, 1, 3]])  # a closed tetra plus a fin
    for start in (tetra, flip(tetra, np.array([True, True, True, True, False]))):
        report = orient_consistently(vertices, start)
        assert report.nonmanifold_edges == 1 and report.closed_components == 0
        assert same_winding(report.faces[:4], tetra[:4])  # the tetra, open at the fin's edge, is still outward


def test_moebius_strip_reports_the_conflict():
    count = 12
    angle = np.linspace(0, 2 * np.pi, count, endpoint=False)
    twist = angle / 2
    centre = np.stack([np.cos(angle), np.sin(angle), np.zeros(count)], axis=1)
    offset = np.stack([np.cos(angle) * np.cos(twist), np.sin(angle) * np.cos(twist), np.sin(twist)], axis=1) * 0.3
    vertices = np.concatenate([centre - offset, centre + offset])  # i: one side, count + i: the other
    faces = []
    for i in range(count):
        j = (i + 1) % count
        a, b, c, d = i, j, count + j, count + i
        if j == 0:  # the half twist swaps the sides
            b, c = count, 0
        faces += [[a, b, c], [a, c, d]]
    report = orient_consistently(vertices, np.array(faces))
    assert report.conflicting_edges >= 1 and report.components == 1
    assert "non-orientable" in report.warning()


def test_empty_faces():
    report = orient_consistently(np.zeros((4, 3)), np.zeros((0, 3), np.int64))
    assert report.faces.shape == (0, 3) and report.flipped_count == 0


def test_numpy_winding_numbers_match_libigl(sphere):
    from engine.mesh.orientation import _solid_angle_sum, _winding_numbers

    vertices, faces = sphere
    points = np.array([[0.0, 0.0, 0.0], [0.5, 0.2, -0.1], [2.0, 0.0, 0.0], [0.0, -3.0, 1.0]])
    expected = np.array([1.0, 1.0, 0.0, 0.0])
    assert np.allclose(_solid_angle_sum(vertices, faces, points), expected, atol=1e-9)
    assert np.allclose(_winding_numbers(vertices, faces, points), expected, atol=1e-6)


def test_a_sphere_with_half_its_normals_flipped_is_one_part_and_the_run_says_so():
    from engine.pipeline import run
    from engine.progress import Reporter
    from engine.settings import run_settings

    class Collect(Reporter):
        def __init__(self):
            super().__init__()
            self.warnings: list[str] = []

        def warn(self, message: str) -> None:
            self.warnings.append(message)

    sphere = trimesh.creation.icosphere(subdivisions=3)
    faces = np.array(sphere.faces)
    upper = sphere.vertices[faces].mean(axis=1)[:, 2] > 0
    faces[upper] = faces[upper][:, ::-1]
    reporter = Collect()
    result = run(np.array(sphere.vertices), faces, run_settings("fast", threads=2, part_meshes=False), reporter)
    assert len(set(result.vertex_labels.tolist())) == 1
    assert any("reoriented" in note for note in result.notes)
    assert any("reoriented" in warning for warning in reporter.warnings)
    np.testing.assert_array_equal(result.welded.faces.shape, faces.shape)
