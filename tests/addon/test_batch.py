"""The headless batch script end to end (a real subprocess with bpy, the fake engine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import bpy
import pytest
from conftest import REPO, SANDBOX, make_lollipop

BATCH = REPO / "scripts" / "batch_segment.py"


def run_batch(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(SANDBOX / "batch blender")}
    command = [sys.executable, str(BATCH), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def inputs(scene, tmp_path):
    """A folder (space, non-ASCII name) with a .blend of two meshes and a camera, an .obj and a broken .stl."""
    folder = tmp_path / "in put é"
    folder.mkdir()
    make_lollipop()
    bpy.ops.mesh.primitive_cube_add(location=(4, 0, 0))
    bpy.ops.object.camera_add()
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "scène.blend"), copy=True)
    bpy.ops.wm.obj_export(filepath=str(folder / "thing.obj"), export_materials=False)
    (folder / "broken.stl").write_text("this is not an STL file\n")
    return folder


def test_batch_processes_blend_and_obj_and_fails_on_a_bad_file(inputs, tmp_path, fake_python):
    output = tmp_path / "out é"
    fake = fake_python("ok")
    done = run_batch("--", "--input", str(inputs), "--output", str(output), "--python", fake, "--parts", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"] == 3 and [os.path.basename(p) for p in summary["failed"]] == ["broken.stl"]
    blend_report = json.loads((output / "scène.json").read_text(encoding="utf-8"))
    assert blend_report["ok"] and sorted(o["object"] for o in blend_report["objects"]) == ["Cube", "Lollipop"]
    assert all(len(o["parts"]) == 2 for o in blend_report["objects"])
    assert json.loads((output / "thing.json").read_text(encoding="utf-8"))["ok"]
    assert "error" in json.loads((output / "broken.json").read_text(encoding="utf-8"))
    assert "Part 01" in done.stdout and "2 of 3 inputs segmented" in done.stdout
    bpy.ops.wm.open_mainfile(filepath=str(output / "scène.blend"))
    lollipop = bpy.data.objects["Lollipop"]
    assert [g.name for g in lollipop.vertex_groups] == ["Part 01", "Part 02"]
    assert len(bpy.data.collections["Lollipop parts"].objects) == 2
    bpy.ops.wm.open_mainfile(filepath=str(output / "thing.blend"))
    assert len(bpy.data.objects["thing"].partsdf.parts) == 2


def test_batch_named_objects_and_clean_exit(inputs, tmp_path, fake_python):
    output = tmp_path / "out"
    blend = str(inputs / "scène.blend")
    fake = fake_python("ok")
    done = run_batch("--input", blend, "--output", str(output), "--objects", "Cube", "--python", fake, "--preview")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((output / "scène.json").read_text(encoding="utf-8"))
    assert [o["object"] for o in report["objects"]] == ["Cube"]
    preview = output / "scène.png"
    assert report["preview"] == str(preview) and preview.read_bytes()[:4] == b"\x89PNG"
    missing = run_batch("--input", blend, "--output", str(output), "--objects", "Nope", "--python", fake_python("ok"))
    assert missing.returncode == 1 and "no such object" in missing.stdout


def test_batch_reports_an_engine_crash(inputs, tmp_path, fake_python):
    output = tmp_path / "out"
    done = run_batch("--input", str(inputs / "thing.obj"), "--output", str(output), "--python", fake_python("crash"))
    assert done.returncode == 1
    report = json.loads((output / "thing.json").read_text(encoding="utf-8"))
    assert "exit code 1" in report["objects"][0]["error"]


@pytest.mark.parametrize("file_format", ["obj", "glb"])
def test_batch_exports_each_part_as_a_file(inputs, tmp_path, fake_python, file_format):
    output = tmp_path / "out"
    done = run_batch("--input", str(inputs / "thing.obj"), "--output", str(output), "--python", fake_python("ok"),
                     "--parts", "2", "--export-parts", file_format)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((output / "thing.json").read_text(encoding="utf-8"))
    exported = report["objects"][0]["exported"]
    assert len(exported) == 2 and all(os.path.isfile(p) for p in exported)
    for path in exported:
        data = open(path, "rb").read()
        assert data[:4] == b"glTF" if file_format == "glb" else data.count(b"\nf ") > 0


def test_a_shared_features_batch_lists_the_librarys_types(inputs, tmp_path, fake_python):
    output = tmp_path / "out"
    done = run_batch("--input", str(inputs), "--output", str(output), "--python", fake_python("ok"), "--parts", "2",
                     "--features", "dino")
    assert done.returncode == 1, done.stdout + done.stderr  # the broken .stl
    summary = json.loads((output / "summary.json").read_text(encoding="utf-8"))
    table = {entry["name"]: entry for entry in summary["types"]}
    assert sorted(table) == ["type 0", "type 1"]  # the fake engine's names, one part of each per object
    assert all(entry["parts"] == 3 and len(entry["inputs"]) == 2 for entry in table.values())
    plain = run_batch("--input", str(inputs / "thing.obj"), "--output", str(tmp_path / "plain"), "--python",
                      fake_python("ok"), "--parts", "2")
    assert json.loads((tmp_path / "plain" / "summary.json").read_text(encoding="utf-8"))["types"] is None, plain.stdout
