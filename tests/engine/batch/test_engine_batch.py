"""``python -m engine batch`` end to end: real engine processes, a bad file, a killed engine, resume."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trimesh

from engine.batch.inputs import collect_inputs, output_name
from engine.batch.scheduling import plan_workers

REPO = Path(__file__).resolve().parents[3]
FAST = ["--quality", "fast", "--no-parts", "--seed", "0"]


def make_library(folder: Path, count: int) -> list[Path]:
    """``count`` small closed meshes in two folders (spheres on sticks of different sizes), and a bad file."""
    paths = []
    for i in range(count):
        head = trimesh.creation.icosphere(subdivisions=2, radius=0.4 + 0.05 * i)
        stick = trimesh.creation.cylinder(radius=0.08, height=1.5, sections=12)
        stick.apply_translation([0.0, 0.0, -0.8])
        path = folder / ("props" if i % 2 else "plants") / f"mesh_{i:02d}.obj"
        path.parent.mkdir(parents=True, exist_ok=True)
        trimesh.util.concatenate([head, stick]).export(path)
        paths.append(path)
    (folder / "props").mkdir(parents=True, exist_ok=True)
    (folder / "props" / "broken.obj").write_text("v 0 0 0\nv 1 0 0\nf 1 2 3\n")  # a face on a missing vertex
    return paths


def batch(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kwargs.setdefault("cwd", REPO)
    return subprocess.Popen([sys.executable, "-m", "engine", "batch", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def engine_pids(name: str) -> list[int]:
    """Engine processes (``engine segment``) working on a file called ``name``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"segment" in command and any(part.endswith(name.encode()) for part in command):
            pids.append(int(entry.name))
    return pids


def test_inputs_mirror_folders_keep_suffixes_and_skip_the_output_folder(tmp_path):
    make_library(tmp_path / "lib", 2)
    (tmp_path / "lib" / "notes.txt").write_text("not a mesh")
    out = tmp_path / "lib" / "results"  # inside the input: its files are never inputs
    (out / "old").mkdir(parents=True)
    trimesh.creation.box().export(out / "old" / "x.obj")
    items = collect_inputs(tmp_path / "lib", out)
    assert [i.source.name for i in items] == ["mesh_00.obj", "broken.obj", "mesh_01.obj"]
    assert output_name(tmp_path / "a" / "b.PLY", tmp_path) == Path("a") / "b_ply"
    listing = tmp_path / "list.txt"
    listing.write_text("# two of them\nlib/plants/mesh_00.obj\n\nlib/props/mesh_01.obj  # the prop\n",
                       encoding="utf-8-sig")  # Notepad's byte-order mark
    assert [i.output.relative_to(out) for i in collect_inputs(listing, out)] == [
        Path("plants/mesh_00_obj"), Path("props/mesh_01_obj")]


def test_the_engine_command_line_loads_no_batch_machinery_until_batch_runs():
    check = "import sys, engine.cli; print(sorted(m for m in sys.modules if m.startswith(('numpy', 'engine.batch.'))))"
    loaded = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "['engine.batch.command']"


def test_workers_times_threads_fit_the_cores_and_the_memory():
    assert plan_workers(16, None, None) == (16, 1)
    assert plan_workers(16, 4, None) == (4, 4)
    assert plan_workers(16, None, 4) == (4, 4)
    assert plan_workers(16, None, None, memory_gb=8.0) == (4, 1)
    assert plan_workers(2, None, None) == (2, 1)


def test_bad_arguments_exit_2_with_one_line_before_any_work(tmp_path):
    (tmp_path / "empty").mkdir()
    make_library(tmp_path / "lib", 1)
    (tmp_path / "lib" / "plants" / "mesh_00.OBJ").write_text("v 0 0 0\n")
    lib, out = str(tmp_path / "lib"), str(tmp_path / "o")
    for args, reason in ((["/nonexistent/folder", "-o", out], "does not exist"),
                         ([str(tmp_path / "empty"), "-o", out], "no mesh"),
                         ([lib, "-o", out, "--workers", "0"], "--workers"),
                         ([lib, "-o", out, "--threads", "0"], "--threads"),
                         ([lib, "-o", out], "would share the output folder")):  # mesh_00.obj and mesh_00.OBJ
        done = batch(*args)
        stdout, stderr = done.communicate(timeout=60)
        assert done.returncode == 2, stderr
        assert stderr.strip().count("\n") == 0 and stderr.startswith("error: ") and reason in stderr, stderr
    assert not (tmp_path / "o").exists()


def test_a_relative_output_folder_is_the_callers_not_the_engines(tmp_path):
    make_library(tmp_path / "lib", 1)
    (tmp_path / "lib" / "props" / "broken.obj").unlink()
    run = batch("lib", "-o", "results", "--backend", "local", *FAST, cwd=tmp_path)
    stderr = run.communicate(timeout=300)[1]
    assert run.returncode == 0, stderr
    assert (tmp_path / "results" / "plants" / "mesh_00_obj" / "segmentation.json").is_file()
    assert not (REPO / "results").exists()


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_library_with_a_bad_file_and_a_killed_engine_finishes_and_resumes(tmp_path, backend):
    if backend == "ray":
        pytest.importorskip("ray")
    make_library(tmp_path / "lib", 11)  # and the broken file: a dozen inputs
    out = tmp_path / "out"
    run = batch(str(tmp_path / "lib"), "-o", str(out), "--backend", backend, "--workers", "2", *FAST)
    killed = []
    deadline = time.monotonic() + 240
    while not killed and time.monotonic() < deadline and run.poll() is None:
        for pid in engine_pids("mesh_03.obj"):
            time.sleep(1.0)  # mid-run: the engine has started fitting
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:  # it finished first: the assertion below says so
                pass
        time.sleep(0.05)
    stdout, stderr = run.communicate(timeout=600)
    assert killed, "the engine of mesh_03 was never seen running"
    assert run.returncode == 1, stderr  # one input failed: the broken file
    summary = json.loads((out / "summary.json").read_text())
    by_name = {Path(r["input"]).name: r for r in summary["inputs"]}
    assert summary["totals"]["ok"] == 11 and summary["totals"]["failed"] == 1
    assert by_name["broken.obj"]["exit_code"] == 2 and by_name["broken.obj"]["attempts"] == 1
    assert "vertex" in by_name["broken.obj"]["error"]  # the engine's own one-line reason
    assert by_name["mesh_03.obj"]["status"] == "ok" and by_name["mesh_03.obj"]["attempts"] == 2
    assert all(r["parts"] and r["parts"] >= 1 for name, r in by_name.items() if name != "broken.obj")
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 12 and {row["status"] for row in rows} == {"ok", "failed"}
    assert (out / "props" / "mesh_03_obj" / "segmentation.json").is_file()

    again = batch(str(tmp_path / "lib"), "-o", str(out), "--backend", backend, *FAST)
    stderr = again.communicate(timeout=300)[1]
    assert again.returncode == 1, stderr  # the broken file fails again
    totals = json.loads((out / "summary.json").read_text())["totals"]
    assert totals["skipped"] == 11 and totals["failed"] == 1 and totals["ok"] == 0, stderr


@pytest.mark.parametrize(("backend", "stop"), [("local", signal.SIGINT), ("ray", signal.SIGTERM)])
def test_ctrl_c_leaves_only_complete_outputs_and_a_rerun_finishes_the_rest(tmp_path, backend, stop):
    if backend == "ray":
        pytest.importorskip("ray")
    make_library(tmp_path / "lib", 5)
    (tmp_path / "lib" / "props" / "broken.obj").unlink()
    out = tmp_path / "out"
    run = batch(str(tmp_path / "lib"), "-o", str(out), "--backend", backend, "--workers", "1", *FAST)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(out.rglob("segmentation.json")):
        time.sleep(0.2)
    time.sleep(1.5)  # the next input is being fitted
    run.send_signal(stop)
    stderr = run.communicate(timeout=120)[1]
    assert run.returncode == 130, stderr
    finished = {p.parent for p in out.rglob("segmentation.json")}
    folders = {p for p in out.rglob("*") if p.is_dir() and p.name.endswith("_obj")}
    assert 1 <= len(finished) < 5 and folders == finished  # no half-written folder
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["cancelled"] >= 1 and summary["totals"]["ok"] == len(finished)

    again = batch(str(tmp_path / "lib"), "-o", str(out), "--backend", "local", *FAST)
    stderr = again.communicate(timeout=300)[1]
    assert again.returncode == 0, stderr
    totals = json.loads((out / "summary.json").read_text())["totals"]
    assert totals["skipped"] == len(finished) and totals["ok"] == 5 - len(finished)


def test_a_blend_goes_through_blender_and_without_blender_fails_with_what_to_do(tmp_path):
    pytest.importorskip("bpy")
    library = tmp_path / "lib"
    library.mkdir()
    scene = library / "scene.blend"
    script = ("import bpy\nbpy.ops.wm.read_factory_settings(use_empty=True)\n"
              "bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(0, 0, 0.8))\n"
              "bpy.ops.mesh.primitive_cylinder_add(radius=0.08, depth=1.4)\n"
              "bpy.ops.object.select_all(action='SELECT')\nbpy.ops.object.join()\n"
              f"bpy.ops.wm.save_as_mainfile(filepath={str(scene)!r})\n")
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=120)
    without = batch(str(library), "-o", str(tmp_path / "a"), "--backend", "local", *FAST)
    stderr = without.communicate(timeout=120)[1]
    record = json.loads((tmp_path / "a" / "summary.json").read_text())["inputs"][0]
    assert without.returncode == 1 and record["status"] == "failed" and "--blender" in record["error"], stderr
    run = batch(str(library), "-o", str(tmp_path / "b"), "--backend", "local", "--blender", sys.executable, *FAST)
    stderr = run.communicate(timeout=300)[1]
    record = json.loads((tmp_path / "b" / "summary.json").read_text())["inputs"][0]
    assert run.returncode == 0 and record["status"] == "ok" and record["parts"] >= 2, stderr
    assert (tmp_path / "b" / "scene_blend" / "scene.blend").is_file()
    assert not list((tmp_path / "b").glob(".*partial"))


def test_a_shared_features_batch_writes_the_librarys_type_table(tmp_path):
    make_library(tmp_path / "lib", 2)  # one mesh in each folder
    (tmp_path / "lib" / "props" / "broken.obj").unlink()
    out = tmp_path / "out"
    stderr = batch(str(tmp_path / "lib"), "-o", str(out), "--backend", "local", "--workers", "2", "--features",
                   "dino", *FAST).communicate(timeout=600)[1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["ok"] == 2, stderr
    assert summary["run"]["options"]["features"] == "dino"
    table = summary["types"]
    assert all(entry["name"].startswith("Kind ") for entry in table)
    assert sum(entry["parts"] for entry in table) == sum(r["parts"] for r in summary["inputs"])
    assert max(len(entry["inputs"]) for entry in table) >= 2, "spheres on sticks share a kind across files"
    for record in summary["inputs"]:
        document = json.loads((Path(record["output"]) / "segmentation.json").read_text())
        assert record["part_types"] == [part["type_name"] for part in document["parts"]]
