"""The engine client against real subprocesses (the fake engine), without Blender objects."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from blender_addon.engine_link import client
from blender_addon.engine_link.result import ResultError, load_result, read_obj

VERTICES = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], float)
FACES = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3], [1, 2, 4]])


def run(fake_python, mode: str, job_dir: Path, parts: int = 2) -> client.EngineProcess:
    config = client.EngineConfig(python=fake_python(mode), device="cpu", threads=1)
    options = client.RunOptions(quality="fast", parts=parts)
    mesh = client.write_mesh(job_dir, VERTICES, FACES)
    command = client.segment_command(config, options, mesh, job_dir / "result")
    return client.EngineProcess(command, client.engine_env(config)).start()


def test_segment_command_maps_every_option(tmp_path):
    config = client.EngineConfig(python="/x/py", device="cuda", threads=4)
    options = client.RunOptions(quality="high", parts=5, types=2, seed=7, build_meshes=False, features="dino")
    command = client.segment_command(config, options, tmp_path / "mesh.npz", tmp_path / "out")
    assert command[:5] == ["/x/py", "-m", "engine", "segment", str(tmp_path / "mesh.npz")]
    text = " ".join(command)
    for fragment in ("--events", "--quality high", "--parts 5", "--types 2", "--seed 7", "--device cuda",
                     "--features dino"):
        assert fragment in text
    assert "--threads 4" in text and command[-1] == "--no-parts"
    auto = client.segment_command(client.EngineConfig(), client.RunOptions(), tmp_path / "m.npz", tmp_path / "o")
    assert auto[0] == sys.executable and "--parts" not in auto and "--types" not in auto and "--no-parts" not in auto
    assert "--features raw" in " ".join(auto)


def test_engine_env_points_at_the_engine_and_isolates_user_site():
    env = client.engine_env(client.EngineConfig(threads=2, site_dirs=("/wheels/site-packages",)))
    assert env["PYTHONPATH"].split(os.pathsep) == [str(client.extension_root()), "/wheels/site-packages"]
    assert (client.extension_root() / "engine").is_dir()
    assert env["PYTHONNOUSERSITE"] == "1" and env["OMP_NUM_THREADS"] == "2"
    external = client.engine_env(client.EngineConfig(python="/opt/py", site_dirs=("/wheels/site-packages",)))
    assert external["PYTHONPATH"] == str(client.extension_root())


def test_job_files_are_plain_arrays_and_removed(tmp_path):
    job_dir = client.make_job_dir(str(tmp_path / "cache é"))
    mesh = client.write_mesh(job_dir, VERTICES, FACES)
    with np.load(mesh, allow_pickle=False) as data:
        assert data["vertices"].dtype == np.float64 and data["faces"].dtype == np.int64
    labels = client.write_face_labels(job_dir, np.arange(len(FACES)) % 2)
    assert np.load(labels, allow_pickle=False).dtype == np.int64
    client.remove_job_dir(job_dir)
    assert not job_dir.exists()


def test_successful_run_streams_events_and_result(fake_python, tmp_path):
    process = run(fake_python, "ok", tmp_path, parts=2)
    events = []
    outcome = process.wait(on_event=events.append, interval=0.02)
    assert outcome.ok and outcome.exit_code == 0
    assert [e["type"] for e in events][0] == "STATUS" and events[-1]["type"] == "DONE"
    assert any(e["type"] == "PROGRESS" for e in events)
    result = load_result(outcome.output, len(FACES))
    assert [p.name for p in result.parts] == ["Part 01", "Part 02"]
    assert set(result.face_labels) <= {0, 1} and len(result.meshes) == 2


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("garbage", "not understood: 'Hello, this is not JSON'"),
        ("crash", "exit code 1 (RuntimeError: boom)"),
        ("missing", "missing dependency: 'torch'"),
    ],
)
def test_failures_become_one_clear_line(fake_python, tmp_path, mode, expected):
    outcome = run(fake_python, mode, tmp_path).wait(interval=0.02)
    assert not outcome.ok and not outcome.cancelled
    assert expected in outcome.message


def test_missing_interpreter_is_an_outcome_not_an_exception(tmp_path):
    config = client.EngineConfig(python=str(tmp_path / "no such python"))
    process = client.EngineProcess(client.info_command(config), client.engine_env(config)).start()
    assert not process.running and "cannot start the engine" in process.outcome.message


def test_cancel_stops_the_engine_quickly(fake_python, tmp_path):
    process = run(fake_python, "hang", tmp_path)
    deadline = time.monotonic() + 10
    while not any(e["type"] == "PROGRESS" for e in process.poll()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    started = time.monotonic()
    process.cancel()
    outcome = process.wait(interval=0.02)
    assert outcome.cancelled and outcome.exit_code == 130
    assert time.monotonic() - started < client.CANCEL_GRACE_S
    assert not (tmp_path / "result").exists()


def test_stop_all_kills_running_engines(fake_python, tmp_path):
    process = run(fake_python, "hang", tmp_path)
    time.sleep(0.3)
    client.stop_all(timeout=2.0)
    assert not process.running and process.outcome.cancelled


def test_kill_without_error_message_is_reported():
    outcome = client.interpret(-9, [{"type": "PROGRESS", "stage": "fit", "fraction": 0, "overall": 0}], [], [], False)
    assert outcome.message == "the engine was killed by signal 9"


def test_result_checks_sizes_and_paths(fake_python, tmp_path):
    outcome = run(fake_python, "ok", tmp_path).wait(interval=0.02)
    with pytest.raises(ResultError, match="expected \\(6,\\)"):
        load_result(outcome.output, 6)
    document = json.loads((outcome.output / "segmentation.json").read_text())
    document["parts"][0]["mesh"] = "../../escape.obj"
    (outcome.output / "segmentation.json").write_text(json.dumps(document))
    with pytest.raises(ResultError, match="outside the result folder"):
        load_result(outcome.output, len(FACES))


def test_read_obj_fans_polygons(tmp_path):
    path = tmp_path / "quad.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvn 0 0 1\nf 1//1 2//1 3//1 4//1\n")
    vertices, faces = read_obj(path)
    assert vertices.shape == (4, 3) and faces.tolist() == [[0, 1, 2], [0, 2, 3]]
