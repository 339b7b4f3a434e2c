"""bench.psb: the Princeton benchmark's scores, its held-out rule, and a run on a small folder laid out like it."""

import numpy as np
import pytest
import trimesh

from bench.psb import (
    development_meshes,
    human_consistency,
    medoid,
    rand_index_error,
    render_psb,
    run_psb,
)
from engine.errors import BadInputError
from engine.segment.given_parts import majority_face_labels


def test_rand_index_error_counts_the_weighted_pairs_that_two_labelings_disagree_on():
    halves, one = np.array([0, 0, 1, 1]), np.zeros(4, int)
    weights = np.ones(4)
    assert rand_index_error(halves, halves, weights) == 0.0
    assert rand_index_error(halves, 1 - halves, weights) == 0.0  # ids do not matter
    assert rand_index_error(halves, one, weights) == pytest.approx(0.5)  # 8 of 16 ordered pairs split
    heavy = np.array([1.0, 1.0, 0.0, 0.0])  # the second half weighs nothing: nothing left to disagree on
    assert rand_index_error(halves, one, heavy) == pytest.approx(0.0)


def test_the_medoid_is_the_labeling_closest_to_the_others():
    weights = np.ones(6)
    early, middle, late = np.array([0, 0, 0, 0, 1, 1]), np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 1, 1, 1, 1])
    assert medoid([early, middle, late], weights) == 1
    assert np.isnan(human_consistency([middle], weights))


def _benchmark_folder(root, lollipop):
    path, vertices, faces, truth = lollipop
    (root / "off").mkdir(parents=True)
    face_truth = majority_face_labels(truth, faces)
    for mesh_id in (2, 3, 22):
        trimesh.Trimesh(vertices, faces, process=False).export(root / "off" / f"{mesh_id}.off")
        seg = root / "seg" / "Benchmark" / str(mesh_id)
        seg.mkdir(parents=True)
        np.savetxt(seg / f"{mesh_id}_0.seg", face_truth, fmt="%d")
        np.savetxt(seg / f"{mesh_id}_1.seg", np.where(np.arange(len(faces)) < 50, 1 - face_truth, face_truth), fmt="%d")
    # A held-out id: its files are not meshes, so the run fails if anything opens them.
    (root / "off" / "6.off").write_text("held out: never open\n")
    return root


def test_held_out_meshes_are_never_listed_and_a_wrong_folder_is_refused(tmp_path, lollipop):
    data = _benchmark_folder(tmp_path / "psb", lollipop)
    assert [m.id for m in development_meshes(data)] == [2, 3, 22]
    assert [m.id for m in development_meshes(data, per_category=1)] == [2, 22]
    assert [m.id for m in development_meshes(data, per_category=1, skip_per_category=1)] == [3]
    assert development_meshes(data)[2].category == "Cup" and development_meshes(data)[2].kind == "man-made"
    with pytest.raises(BadInputError, match="off/ and seg/Benchmark"):
        development_meshes(tmp_path)


def test_a_run_scores_each_category_and_draws_the_contact_sheet(tmp_path, lollipop):
    data = _benchmark_folder(tmp_path / "psb", lollipop)
    output, image = tmp_path / "psb.md", tmp_path / "sheet.png"
    fields = tmp_path / "fields"
    arguments = ["--data", str(data), "--per-category", "1", "--quality", "fast", "--no-baselines", "--fields",
                 str(fields), "--image", str(image)]
    assert run_psb([*arguments, "--output", str(output)]) == 0
    text = output.read_text()
    human_row = next(line for line in text.splitlines() if line.startswith("| Human |"))
    cells = [c.strip() for c in human_row.strip("|").split("|")]
    assert cells[2] == "1" and float(cells[5]) < 0.1, "the lollipop's two parts are found"
    header = [c.strip() for c in next(line for line in text.splitlines() if line.startswith("| category")).strip("|")
              .split("|")]
    without_creases = float(cells[header.index("PartSDF without creases")])
    assert 0.0 <= without_creases <= 1.0 and "PartSDF without thickness" in header
    assert "| Cup |" in text and "| **all** |" in text and "held out" in text
    assert image.stat().st_size > 10_000 and image.read_bytes()[:4] == b"\x89PNG"
    # The saved field arrays re-segment without a fit: the same scores (seconds differ).
    saved = sorted(path.name for path in fields.iterdir())
    assert saved and all(name.endswith("-fast-seed0.npz") for name in saved)
    again = tmp_path / "again.md"
    assert run_psb([*arguments, "--output", str(again)]) == 0
    assert sorted(path.name for path in fields.iterdir()) == saved

    def scores(markdown):
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in markdown.splitlines()
                if line.startswith("| ") and not line.startswith("| category") and "---" not in line]
        return [row[:-1] for row in rows]  # all but the seconds

    assert scores(again.read_text()) == scores(text)
    with pytest.raises(BadInputError, match="--features raw"):
        run_psb([*arguments, "--output", str(again), "--features", "dino"])


def test_several_seeds_report_their_mean_spread_and_each_seed():
    def row(mesh_id, kind, errors):
        return {"id": mesh_id, "category": "Cup" if kind == "man-made" else "Human", "kind": kind,
                "human_parts": 2, "human_consistency": 0.05, "rand_error_by_seed": errors, "ablations": {},
                "methods": {"partsdf": {"rand_error": float(np.mean(errors)), "ari_medoid": 0.5, "parts": 2,
                                        "seconds": 1.0}}}

    rows = [row(22, "man-made", [0.1, 0.3]), row(23, "man-made", [0.2, 0.2]), row(2, "organic", [0.05, 0.15])]
    text = render_psb(rows, (), "python -m bench psb --seeds 2", "test machine", None)

    def cells(start):
        line = next(line for line in text.splitlines() if line.startswith(start))
        return [c.strip() for c in line.strip("|").split("|")]

    header, cup = cells("| category"), cells("| Cup |")
    assert float(cup[header.index("partsdf RI error")]) == pytest.approx(0.2)
    assert float(cup[header.index("PartSDF seed spread")]) == pytest.approx(0.1), "mean of 0.2 and 0.0"
    assert "man-made 0.150, 0.250; organic 0.050, 0.150" in text and "means over 2 seeds" in text
    single = render_psb([row(22, "man-made", [0.1])], (), "python -m bench psb", "test machine", None)
    assert "seed spread" not in single and "by seed" not in single
