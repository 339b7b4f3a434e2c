"""Bad input through the real CLI subprocess: exit 2, one line that says what to do, before any work.

Each case runs ``python -m engine segment ... --events`` and checks the exit code, that stderr holds one
``error:`` line and no traceback, that no fitting started, and what OUT (and its parent) hold afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mesh") / "box.obj"
    trimesh.creation.box().export(path)
    return path


def segment(*args: str | Path) -> tuple[int, list[str], list[dict]]:
    """Exit code, stderr lines and protocol events of one CLI run."""
    defaults = ["--events", "--quality", "fast", "--threads", "1"]  # given first: a case may override them
    done = subprocess.run([sys.executable, "-m", "engine", "segment", *defaults, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, [line for line in done.stderr.splitlines() if line.strip()], events


def assert_refused(result, *words: str) -> str:
    code, stderr, events = result
    assert code == 2, stderr
    errors = [line for line in stderr if line.startswith("error:")]
    assert len(errors) == 1 and not any("Traceback" in line for line in stderr), stderr
    assert not any(e.get("type") == "PROGRESS" and e.get("stage") == "fit" and e["fraction"] > 0 for e in events)
    assert [e for e in events if e["type"] == "ERROR"][0]["exit_code"] == 2
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999999"])
def test_seeds_out_of_range(box, tmp_path, seed):
    assert_refused(segment(box, "-o", tmp_path / "out", "--seed", seed), "--seed")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value", [("--parts", "0"), ("--types", "-3"), ("--threads", "0")])
def test_counts_out_of_range(box, tmp_path, option, value):
    assert_refused(segment(box, "-o", tmp_path / "out", option, value), option)


@pytest.mark.parametrize("model_json, words", [
    ("[]", ["model.json is damaged"]),
    ('{"fit": {}}', ["model.json is damaged"]),
    (None, ["no model.json"]),
])
def test_reuse_folders_that_cannot_be_reused(box, tmp_path, model_json, words):
    reuse = tmp_path / "old"
    reuse.mkdir()
    (reuse / "model.pt").write_bytes(b"")
    if model_json is not None:
        (reuse / "model.json").write_text(model_json)
    assert_refused(segment(box, "-o", tmp_path / "out", "--reuse", reuse), "--reuse", *words)


def test_reuse_with_weights_of_another_network_is_one_line(box, tmp_path, segmented_lollipop):
    reuse = tmp_path / "old"
    shutil.copytree(segmented_lollipop, reuse)
    info = json.loads((reuse / "model.json").read_text())
    info["fit"]["model"]["width"] = 2 * info["fit"]["model"]["width"]
    (reuse / "model.json").write_text(json.dumps(info))
    assert_refused(segment(box, "-o", tmp_path / "out", "--reuse", reuse), "does not match")


def test_out_that_is_a_file_is_left_alone(box, tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("my notes")
    assert_refused(segment(box, "-o", out), "is a file")
    assert out.read_text() == "my notes"


def test_out_whose_parent_is_a_file(box, tmp_path):
    (tmp_path / "parent").write_text("x")
    assert_refused(segment(box, "-o", tmp_path / "parent" / "out"), "is a file")


def test_out_in_a_folder_that_cannot_be_written(box, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        assert_refused(segment(box, "-o", locked / "out"), "cannot write")
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)
    assert list(locked.iterdir()) == []


def test_a_foreign_folder_is_refused_and_untouched(box, tmp_path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8")
    before = tree(out)
    assert_refused(segment(box, "-o", out), "not a PartSDF output folder")
    assert tree(out) == before


def test_a_user_file_in_an_earlier_output_is_never_deleted(box, tmp_path, segmented_lollipop):
    out = tmp_path / "earlier"
    shutil.copytree(segmented_lollipop, out)
    (out / "my notes.txt").write_text("keep me")
    before = tree(out)
    assert_refused(segment(box, "-o", out), "my notes.txt")
    assert tree(out) == before


def test_a_folder_given_as_the_mesh(tmp_path):
    assert_refused(segment(tmp_path, "-o", tmp_path / "out"), "is a folder")


def test_split_part_without_labels_names_the_missing_labels(box, tmp_path):
    assert_refused(segment(box, "-o", tmp_path / "out", "--split-part", "1"), "--labels")


def test_stale_staging_of_a_killed_run_is_removed_and_a_live_one_kept(box, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.partial-{dead.stdout.strip()}-abc"
    live = tmp_path / f".out.partial-{os.getpid()}-def"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "vertex_labels.npy").write_bytes(b"half")
    assert_refused(segment(box, "-o", tmp_path / "out", "--seed", "-1"), "--seed")  # refused before the sweep
    assert stale.exists()
    assert_refused(segment(tmp_path / "missing.obj", "-o", tmp_path / "out"), "not found")
    assert not stale.exists() and live.exists()


def test_finished_output_has_the_users_permissions(segmented_lollipop):
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(segmented_lollipop.stat().st_mode) == 0o777 & ~umask


def test_unmet_part_count_warns_and_is_noted(lollipop, segmented_lollipop, tmp_path):
    path = lollipop[0]
    code, stderr, events = segment(path, "-o", tmp_path / "out", "--reuse", segmented_lollipop, "--parts", "256",
                                   "--no-parts")
    assert code == 0, stderr
    document = json.loads((tmp_path / "out" / "segmentation.json").read_text())
    found = len(document["parts"])
    assert found < 256
    assert any("asked for 256 parts" in e["message"] for e in events if e["type"] == "WARN")
    assert any(f"the surface gave {found}" in note for note in document["notes"])
    progress = [e for e in events if e["type"] == "PROGRESS"]
    assert progress[-1]["overall"] == 1.0, "the progress ends at 100 % even with stages skipped"
    assert np.load(tmp_path / "out" / "vertex_labels.npy").shape == (len(lollipop[1]),)


def test_an_obj_with_uv_seams_and_an_unused_vertex_gets_one_label_per_declared_vertex(lollipop, segmented_lollipop,
                                                                                       tmp_path):
    """As DCC tools export: a `vt` per corner (seams everywhere) and a stray `v` line no face uses."""
    from engine.mesh.loading import load_mesh

    vertices, faces = load_mesh(lollipop[0])  # the positions the saved model was fitted to, to the last bit
    lines = [f"v {x!r} {y!r} {z!r}" for x, y, z in vertices.tolist()] + ["v 30 0 0"]
    lines += [f"vt {u % 1:.3f} 0.5" for u in range(3 * len(faces))]
    lines += [f"f {a + 1}/{3 * i + 1} {b + 1}/{3 * i + 2} {c + 1}/{3 * i + 3}" for i, (a, b, c) in enumerate(faces)]
    path = tmp_path / "exported.obj"
    path.write_text("\n".join(lines) + "\n")
    code, stderr, _ = segment(path, "-o", tmp_path / "out", "--reuse", segmented_lollipop, "--no-parts")
    assert code == 0, stderr  # the stray vertex changes neither the welded mesh nor its hash
    labels = np.load(tmp_path / "out" / "vertex_labels.npy")
    assert labels.shape == (len(vertices) + 1,)
    np.testing.assert_array_equal(labels[:-1], np.load(segmented_lollipop / "vertex_labels.npy"))
    nearest = int(np.argmin(np.linalg.norm(vertices - [30, 0, 0], axis=1)))
    assert labels[-1] == labels[nearest], "a vertex on no face takes its nearest vertex's part"


def test_usage_errors_are_one_line_too(box, tmp_path):
    for args, word in (((box, "-o", ""), "folder name"), ((box, "-o", tmp_path / "o", "--parts", "abc"), "--parts"),
                       ((box, "-o", tmp_path / "o", "--quality", "ultra"), "--quality")):
        code, stderr, _ = segment(*args)
        assert code == 2 and len(stderr) == 1 and stderr[0].startswith("error:") and word in stderr[0], stderr


def test_labels_in_an_npz_archive_and_an_npz_that_is_not_one(box, tmp_path):
    np.savez(tmp_path / "labels.npz", labels=np.zeros(8, np.int64))
    assert_refused(segment(box, "-o", tmp_path / "out", "--labels", tmp_path / "labels.npz"), "np.save")
    np.save(tmp_path / "mesh.npy", np.zeros((8, 3)))
    (tmp_path / "mesh.npy").rename(tmp_path / "mesh.npz")
    assert_refused(segment(tmp_path / "mesh.npz", "-o", tmp_path / "out"), "not an .npz archive")


@pytest.mark.parametrize("weights", [b"", bytes(range(256)) * 20])
def test_reuse_with_damaged_weights_is_one_line(box, tmp_path, segmented_lollipop, weights):
    reuse = tmp_path / "old"
    shutil.copytree(segmented_lollipop, reuse)
    (reuse / "model.pt").write_bytes(weights)
    assert_refused(segment(box, "-o", tmp_path / "out", "--reuse", reuse), "does not match")


def test_zero_area_faces_are_refused_not_a_crash(tmp_path):
    path = tmp_path / "collinear.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 2 0 0\nv 0 1 1\nv 0 0 3\nf 1 2 3\nf 4 4 5\n")
    assert_refused(segment(path, "-o", tmp_path / "out"), "degenerate")


def test_out_as_a_symbolic_link_is_refused_before_work(box, tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert_refused(segment(box, "-o", tmp_path / "dangling"), "symbolic link")
    assert (tmp_path / "dangling").is_symlink()


def test_part_ids_that_cannot_come_back_as_int32_are_refused(box, tmp_path):
    np.save(tmp_path / "big.npy", np.full(8, 2**31 + 7, np.int64))
    assert_refused(segment(box, "-o", tmp_path / "out", "--labels", tmp_path / "big.npy"), "at most")
