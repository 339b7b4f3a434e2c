import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from bench.metrics import adjusted_rand
from engine.cli import main
from engine.contract import decode


def test_segment_finds_the_lollipop_parts_and_writes_the_folder(lollipop, segmented_lollipop):
    _, vertices, faces, truth = lollipop
    out = segmented_lollipop
    labels = np.load(out / "vertex_labels.npy", allow_pickle=False)
    assert labels.dtype == np.int32 and labels.shape == (len(vertices),)
    assert adjusted_rand(truth, labels) >= 0.9
    document = json.loads((out / "segmentation.json").read_text())
    assert document["format_version"] == 1 and len(document["parts"]) == 2
    assert sum(p["vertex_count"] for p in document["parts"]) == len(vertices)
    assert np.load(out / "face_labels.npy").shape == (len(faces),)
    for name in document["files"].values():
        assert (out / name).is_file()
    assert not list(out.parent.glob(".*partial*"))


def test_recluster_reuses_the_model_with_another_count(lollipop, segmented_lollipop, tmp_path):
    path = lollipop[0]
    out = tmp_path / "three"
    assert main(["segment", str(path), "-o", str(out), "--reuse", str(segmented_lollipop), "--parts", "3"]) == 0
    document = json.loads((out / "segmentation.json").read_text())
    assert len(document["parts"]) == 3
    assert document["timings"]["fit"] < 1.0  # nothing was trained
    # The saved surface graph was used: no activations were read, so the classifier was not re-scored.
    assert document["quality"]["classifier_surface_accuracy"] is None


def test_reuse_on_another_mesh_is_refused(segmented_lollipop, tmp_path, unit_cube):
    import trimesh

    vertices, faces = unit_cube
    path = tmp_path / "cube.obj"
    trimesh.Trimesh(vertices, faces, process=False).export(path)
    out = tmp_path / "out"
    assert main(["segment", str(path), "-o", str(out), "--reuse", str(segmented_lollipop)]) == 2
    assert not out.exists()


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "content, suffix",
    [
        (b"", ".obj"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", ".obj"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv nan 0 1\nf 1 2 3\nf 1 2 4\n", ".obj"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nf 1 2 3\nf 2 4 3\n", ".obj"),
        (b"hello", ".xyz"),
    ],
    ids=["empty", "three-vertices", "nan", "flat", "unknown-format"],
)
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, content, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    out = tmp_path / "out"
    result = _run_cli("segment", str(path), "-o", str(out), "--quality", "fast", "--events")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    messages = [decode(line) for line in result.stdout.splitlines()]
    assert messages[-1]["type"] == "ERROR" and messages[-1]["exit_code"] == 2
    assert not out.exists()


def test_out_of_range_indices_in_npz(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, vertices=np.eye(4, 3), faces=np.array([[0, 1, 9]]))
    result = _run_cli("segment", str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "indices" in result.stderr


def test_huge_mesh_is_refused_before_any_work(tmp_path):
    count = 1_000_001
    vertices = np.random.default_rng(0).random((count + 2, 3))
    faces = np.stack([np.arange(count), np.arange(count) + 1, np.arange(count) + 2], axis=1)
    path = tmp_path / "huge.npz"
    np.savez(path, vertices=vertices, faces=faces)
    result = _run_cli("segment", str(path), "-o", str(tmp_path / "out"), "--quality", "fast")
    assert result.returncode == 2 and "Decimate" in result.stderr


def test_info_reports_torch_and_backends():
    result = _run_cli("info")
    info = json.loads(result.stdout)
    assert info["device"] in ("cpu", "cuda", "mps") and info["sdf_backends"]


def _segment_with_events(path, out, ignoring_sigint=False):
    """The engine as the add-on starts it; ``ignoring_sigint``: started by a parent that ignores SIGINT
    (a shell's background job: the child inherits the disposition)."""
    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "engine", "segment", str(path), "-o", str(out), "--quality", "fast",
                             "--threads", "2", "--events"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, preexec_fn=ignore_sigint if ignoring_sigint else None)


def _messages_until(process, wanted: str) -> list[dict]:
    messages = []
    for line in process.stdout:
        messages.append(decode(line))
        if messages[-1]["type"] in (wanted, "ERROR", "DONE"):
            break
    return messages


def test_labels_come_first_in_a_complete_folder_then_the_part_meshes_replace_it(lollipop, tmp_path):
    out = tmp_path / "out"
    process = _segment_with_events(lollipop[0], out)
    before = _messages_until(process, "LABELS")
    assert before[-1]["type"] == "LABELS" and before[-1]["output"] == str(out) and before[-1]["parts"] == 2
    early = json.loads((out / "segmentation.json").read_text())
    early_labels = np.load(out / "vertex_labels.npy")
    assert [part.get("mesh") for part in early["parts"]] == [None, None]
    assert not (out / "union.obj").exists() and (out / "model.pt").is_file()
    assert {m["stage"] for m in before if m["type"] == "PROGRESS"} >= {"fit", "segment"}
    after = _messages_until(process, "DONE")
    assert process.wait(timeout=300) == 0 and after[-1]["type"] == "DONE"
    assert any(m["type"] == "PROGRESS" and m["stage"] == "parts" for m in after)
    final = json.loads((out / "segmentation.json").read_text())
    assert all((out / part["mesh"]).is_file() for part in final["parts"]) and (out / "union.obj").is_file()
    assert np.array_equal(np.load(out / "vertex_labels.npy"), early_labels)
    assert [p["id"] for p in final["parts"]] == [p["id"] for p in early["parts"]]


@pytest.mark.parametrize("ignoring_sigint", [False, pytest.param(True, marks=pytest.mark.skipif(
    sys.platform == "win32", reason="POSIX signal dispositions"))])
def test_a_cancel_while_meshes_are_built_keeps_the_labels_folder(lollipop, tmp_path, ignoring_sigint):
    out = tmp_path / "out"
    process = _segment_with_events(lollipop[0], out, ignoring_sigint)
    assert _messages_until(process, "LABELS")[-1]["type"] == "LABELS"
    process.send_signal(signal.SIGINT)
    after = _messages_until(process, "ERROR")
    assert process.wait(timeout=60) == 130 and after[-1] == {"type": "ERROR", "message": "cancelled", "exit_code": 130}
    document = json.loads((out / "segmentation.json").read_text())
    assert len(document["parts"]) == 2 and not (out / "union.obj").exists()
    assert not list(tmp_path.glob(".out.*"))  # no staging folder left behind


def test_serve_runs_requests_in_one_process_until_its_input_ends(lollipop, tmp_path):
    path = lollipop[0]
    first, second = tmp_path / "first", tmp_path / "second"
    requests = [
        {"segment": [str(path), "-o", str(first), "--quality", "fast", "--threads", "2", "--no-parts"]},
        "not json",
        {"segment": [str(path), "-o", str(second), "--reuse", str(first), "--parts", "3", "--no-parts"]},
        {"segment": ["--parts", "0"]},
    ]
    stdin = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in requests) + "\n"
    result = subprocess.run([sys.executable, "-m", "engine", "serve"], input=stdin, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    endings = [m for m in map(decode, result.stdout.splitlines()) if m["type"] in ("DONE", "ERROR")]
    assert [m["type"] for m in endings] == ["DONE", "ERROR", "DONE", "ERROR"]
    assert endings[1]["exit_code"] == 2 and endings[3]["exit_code"] == 2
    assert endings[0]["parts"] == 2 and endings[2]["parts"] == 3
    assert json.loads((second / "segmentation.json").read_text())["timings"]["fit"] < 1.0


def test_a_reused_field_is_saved_with_its_own_architecture(segmented_lollipop, lollipop, tmp_path):
    """A field from another preset (here fast's, reused by a high-quality re-cluster) stays loadable."""
    from engine.outputs import load_field

    out = tmp_path / "high"
    assert main(["segment", str(lollipop[0]), "-o", str(out), "--reuse", str(segmented_lollipop),
                 "--quality", "high", "--no-parts"]) == 0
    saved = json.loads((out / "model.json").read_text())["fit"]["model"]
    assert saved == json.loads((segmented_lollipop / "model.json").read_text())["fit"]["model"]
    assert load_field(out).model.settings.width == saved["width"]


def test_a_warm_engine_keeps_a_reused_field_until_its_files_change(segmented_lollipop, tmp_path):
    import os
    import shutil

    from engine.cli import _reused_field
    from engine.outputs import load_field

    folder = tmp_path / "model"
    shutil.copytree(segmented_lollipop, folder)
    first = _reused_field(folder, load_field)
    assert _reused_field(folder, load_field) is first
    info = folder / "model.json"
    os.utime(info, ns=(info.stat().st_atime_ns, info.stat().st_mtime_ns + 10**9))
    assert _reused_field(folder, load_field) is not first
