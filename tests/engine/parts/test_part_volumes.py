"""Per-part SDFs on small real fits: ownership against ground truth, closed meshes, union volume."""

import json

import numpy as np
import pytest
import torch
import trimesh

from bench.metrics import hungarian_match, ownership_accuracy
from bench.shapes import benchmark_shapes, sphere
from engine.cli import main
from engine.field.probing import evaluate
from engine.mesh.marching import mesh_from_sdf
from engine.parts.part_fields import fit_part_field
from engine.parts.part_meshes import is_watertight, mesh_volume, part_meshes
from engine.pipeline import run
from engine.progress import Reporter
from engine.settings import FitSettings, ModelSettings, PartFieldSettings, run_settings


class Collect(Reporter):
    def __init__(self):
        super().__init__()
        self.warnings = []
        self.stages = []

    def stage(self, name):
        self.stages.append(name)
        super().stage(name)

    def warn(self, message):
        self.warnings.append(message)


@pytest.fixture(scope="module")
def lollipop_run(lollipop):
    _, vertices, faces, truth = lollipop
    reporter = Collect()
    result = run(vertices, faces, run_settings("fast", threads=2), reporter)
    return result, truth, reporter


def test_interior_ownership_matches_ground_truth_on_the_lollipop(lollipop_run):
    result, truth, reporter = lollipop_run
    assert "parts" in reporter.stages
    shape = benchmark_shapes()["lollipop"]
    points = np.random.default_rng(1).uniform(-0.6, 0.6, size=(60_000, 3))
    points = points[shape.sdf(points) < 0]
    true_owner = shape.part_sdfs(points).argmin(axis=1)
    channels = evaluate(result.parts.field, result.field.normalisation.to_unit(points), torch.device("cpu"))
    match = hungarian_match(truth, result.vertex_labels)
    assert ownership_accuracy(true_owner, channels.argmin(axis=1), match) >= 0.95
    true_share = np.bincount(true_owner) / len(true_owner)
    predicted = np.array([match.get(p, -1) for p in range(channels.shape[1])])[channels.argmin(axis=1)]
    predicted_share = np.bincount(predicted[predicted >= 0], minlength=len(true_share)) / len(true_owner)
    assert np.all(np.abs(predicted_share - true_share) <= 0.25 * true_share)


def test_every_part_mesh_is_closed_and_the_union_keeps_the_volume(lollipop_run, lollipop):
    result, _, reporter = lollipop_run
    _, vertices, faces, _ = lollipop
    meshes = result.parts.meshes
    assert len(meshes.parts) == result.segmentation.part_labels.max() + 1
    for part_vertices, part_faces in meshes.parts:
        assert len(part_faces) > 100 and is_watertight(part_faces)
        assert mesh_volume(part_vertices, part_faces) > 0
    union_vertices, union_faces = meshes.union
    assert is_watertight(union_faces)
    scale = result.field.normalisation.scale
    shape_volume = mesh_volume(vertices, faces)
    assert mesh_volume(union_vertices, union_faces) / scale**3 == pytest.approx(shape_volume, rel=0.05)
    part_sum = sum(mesh_volume(v, f) for v, f in meshes.parts) / scale**3
    assert shape_volume * 0.95 <= part_sum <= shape_volume * 1.25  # parts overlap a little along their cuts
    assert not [w for w in reporter.warnings if "thinner" in w]


def test_segment_lists_the_part_meshes_it_writes(segmented_lollipop):
    document = json.loads((segmented_lollipop / "segmentation.json").read_text())
    files = document["files"]
    assert (segmented_lollipop / files["union_mesh"]).is_file()
    assert (segmented_lollipop / files["part_field"]).is_file()
    listed = {part["mesh"] for part in document["parts"]}
    on_disk = {f"parts/{p.name}" for p in (segmented_lollipop / "parts").iterdir()}
    assert listed == on_disk and len(listed) == len(document["parts"])
    for part in document["parts"]:
        mesh = trimesh.load(segmented_lollipop / part["mesh"], process=False)
        assert part["mesh_watertight"] and mesh.is_watertight
        assert part["mesh_volume"] == pytest.approx(mesh.volume, rel=1e-3)


def test_no_parts_skips_the_stage(segmented_lollipop, lollipop, tmp_path):
    out = tmp_path / "no_parts"
    code = main(["segment", str(lollipop[0]), "-o", str(out), "--quality", "fast", "--threads", "2",
                 "--reuse", str(segmented_lollipop), "--no-parts"])
    assert code == 0
    document = json.loads((out / "segmentation.json").read_text())
    assert "union_mesh" not in document["files"] and "part_field" not in document["files"]
    assert all("mesh" not in part for part in document["parts"])
    assert not (out / "parts").exists() and not (out / "union.obj").exists()
    assert "parts" not in document["timings"] and "part_fit" not in document["timings"]


def test_loose_pieces_each_get_their_own_closed_part():
    def two_balls(points):
        return np.minimum(sphere((-0.25, 0, 0), 0.18)(points), sphere((0.25, 0, 0), 0.18)(points))

    vertices, faces = mesh_from_sdf(two_balls, 64)
    result = run(vertices, faces, run_settings("fast", threads=2), Reporter())
    assert len(result.parts.meshes.parts) == 2
    centres = []
    for part_vertices, part_faces in result.parts.meshes.parts:
        assert is_watertight(part_faces)
        centres.append(result.field.normalisation.from_unit(part_vertices).mean(axis=0)[0])
    assert sorted(np.sign(centres)) == [-1, 1]


def test_a_tiny_part_gets_a_closed_mesh_or_none_never_a_crash(lollipop):
    _, vertices, faces, truth = lollipop
    unit = (vertices - vertices.mean(axis=0)) / np.ptp(vertices, axis=0).max()
    labels = truth.copy()
    labels[np.argmax(unit[:, 1])] = 2  # one vertex alone is a third part
    fit = FitSettings(model=ModelSettings(width=32, hidden_layers=3, skip_layer=2), iterations=60)
    from engine.field.model import SDFDecoder

    torch.manual_seed(0)
    model, report = fit_part_field(SDFDecoder(fit.model), unit, faces, labels, fit,
                                   PartFieldSettings(iterations=40, pool_size=20_000, surface_samples=5_000),
                                   0, torch.device("cpu"))
    assert report.iterations == 40 and np.isfinite(report.final_loss)
    meshes = part_meshes(lambda p: evaluate(model, p, torch.device("cpu")), 48, 0.05)
    assert len(meshes.parts) == 3
    for _, part_faces in meshes.parts:
        assert len(part_faces) == 0 or is_watertight(part_faces)


def test_given_labels_skip_clustering_and_build_those_parts(segmented_lollipop, lollipop, tmp_path):
    path, _, _, truth = lollipop
    labels = tmp_path / "edited.npy"
    np.save(labels, truth * 5 + 3)  # any non-negative ids; kept as given
    out = tmp_path / "from_labels"
    code = main(["segment", str(path), "-o", str(out), "--quality", "fast", "--threads", "2",
                 "--reuse", str(segmented_lollipop), "--labels", str(labels)])
    assert code == 0
    document = json.loads((out / "segmentation.json").read_text())
    assert "probe" not in document["timings"] and document["timings"]["fit"] < 1.0
    np.testing.assert_array_equal(np.load(out / "vertex_labels.npy"), truth * 5 + 3)
    assert [p["id"] for p in document["parts"]] == [3, 8]
    assert [bool(p["mesh"]) for p in document["parts"]] == [True, True]


def test_face_labels_round_trip_and_a_one_face_part_gets_a_note_not_a_mesh(segmented_lollipop, lollipop,
                                                                             tmp_path):
    path, vertices, faces, truth = lollipop
    face_labels = truth[faces[:, 0]] * 10 + 4  # ids 4 and 14
    top = int(np.argmax(vertices[faces].mean(axis=1)[:, 1]))
    face_labels[top] = 99  # New Part from Selection on one face
    np.save(tmp_path / "faces.npy", face_labels)
    out = tmp_path / "from_faces"
    code = main(["segment", str(path), "-o", str(out), "--quality", "fast", "--threads", "2",
                 "--reuse", str(segmented_lollipop), "--face-labels", str(tmp_path / "faces.npy")])
    assert code == 0
    np.testing.assert_array_equal(np.load(out / "face_labels.npy"), face_labels)
    parts = {p["id"]: p for p in json.loads((out / "segmentation.json").read_text())["parts"]}
    assert sorted(parts) == [4, 14, 99]
    assert parts[99]["mesh"] is None and "too small" in parts[99]["note"] and parts[99]["face_count"] == 1
    for part_id in (4, 14):
        assert parts[part_id]["mesh"].startswith(f"parts/{part_id:02d}_")
        assert (out / parts[part_id]["mesh"]).is_file()


@pytest.mark.parametrize("bad", [np.zeros(5, dtype=np.int64), np.full(10, 1.5), "negative"])
def test_bad_labels_are_refused_with_exit_2(lollipop, tmp_path, bad, capsys):
    path, vertices, _, _ = lollipop
    labels = tmp_path / "bad.npy"
    np.save(labels, np.full(len(vertices), -1) if isinstance(bad, str) else bad)
    code = main(["segment", str(path), "-o", str(tmp_path / "out"), "--quality", "fast", "--labels", str(labels)])
    assert code == 2 and not (tmp_path / "out").exists()
    assert "labels" in capsys.readouterr().err


def test_split_part_divides_one_part_by_its_activations(segmented_lollipop, lollipop, tmp_path):
    path, vertices, _, truth = lollipop
    labels = tmp_path / "one.npy"
    np.save(labels, np.full(len(vertices), 7))  # the whole lollipop as one part
    out = tmp_path / "split"
    code = main(["segment", str(path), "-o", str(out), "--quality", "fast", "--threads", "2", "--no-parts",
                 "--reuse", str(segmented_lollipop), "--labels", str(labels), "--split-part", "7", "--parts", "2"])
    assert code == 0
    split = np.load(out / "vertex_labels.npy")
    assert set(split.tolist()) == {7, 8}  # the part keeps its id, the new piece takes the next
    from bench.metrics import adjusted_rand

    assert adjusted_rand(truth, split) > 0.5  # the activations tell the stick from the ball
    bad = main(["segment", str(path), "-o", str(tmp_path / "bad"), "--quality", "fast", "--no-parts",
                "--reuse", str(segmented_lollipop), "--labels", str(labels), "--split-part", "3"])
    assert bad == 2


def test_a_single_part_is_the_whole_shape(lollipop):
    _, vertices, faces, _ = lollipop
    unit = (vertices - vertices.mean(axis=0)) / np.ptp(vertices, axis=0).max()
    fit = FitSettings(model=ModelSettings(width=32, hidden_layers=3, skip_layer=2), iterations=60)
    from engine.field.model import SDFDecoder

    torch.manual_seed(0)
    model, report = fit_part_field(SDFDecoder(fit.model), unit, faces, np.zeros(len(unit), np.int64), fit,
                                   PartFieldSettings(iterations=30, pool_size=20_000, surface_samples=5_000),
                                   0, torch.device("cpu"))
    assert np.isfinite(report.final_loss)
    assert evaluate(model, unit[:100], torch.device("cpu")).shape == (100, 1)


def test_open_input_still_gets_closed_part_meshes(lollipop):
    """A mesh with a hole (the lollipop with a cap of its ball cut away): closed parts or a warning."""
    _, vertices, faces, _ = lollipop
    top = vertices[faces].mean(axis=1)[:, 1] > vertices[:, 1].max() - 0.03
    reporter = Collect()
    result = run(vertices, faces[~top], run_settings("fast", threads=2), reporter)
    for _, part_faces in result.parts.meshes.parts:
        assert len(part_faces) == 0 or is_watertight(part_faces)
    empty = sum(len(f) == 0 for _, f in result.parts.meshes.parts)
    assert empty == len([w for w in reporter.warnings if "thinner" in w])


def test_watertight_check_refuses_holes_doubled_faces_and_facing_copies():
    faces = trimesh.creation.icosphere(subdivisions=2).faces
    assert is_watertight(faces) and is_watertight(faces[:, ::-1])
    assert not is_watertight(faces[:-1])
    assert not is_watertight(np.concatenate([faces, faces[:1]]))
    assert not is_watertight(np.concatenate([faces, faces[:, ::-1]]))
    assert not is_watertight(np.zeros((0, 3), dtype=np.int64))
