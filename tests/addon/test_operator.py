"""Discover Parts in real Blender with the fake engine: write-back, re-run, undo and every failure path."""

from __future__ import annotations

import threading
import time

import bpy
import numpy as np
import pytest
from conftest import make_lollipop, scene_fingerprint, select_only

from blender_addon.engine_link import client
from blender_addon.operators import jobs
from blender_addon.scene import scene_io


def discover(undo: bool = False):
    return bpy.ops.partsdf.discover_parts("EXEC_DEFAULT", undo)


def vertex_membership(obj) -> np.ndarray:
    """(n, groups) 0/1 membership of each vertex in each vertex group."""
    members = np.zeros((len(obj.data.vertices), len(obj.vertex_groups)), int)
    for vertex in obj.data.vertices:
        for element in vertex.groups:
            members[vertex.index, element.group] = 1
    return members


def job_folders(prefs) -> list:
    """Job folders left in the cache folder (the model cache beside them is kept on purpose)."""
    from pathlib import Path

    folder = Path(prefs.cache_dir)
    return list(folder.glob("partsdf-job-*")) if folder.exists() else []


def test_write_back_groups_materials_colours_and_part_objects(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    assert discover() == {"FINISHED"}
    members = vertex_membership(obj)
    assert (members.sum(axis=1) == 1).all(), "every vertex in exactly one part group"
    assert [g.name for g in obj.vertex_groups] == ["Part 01", "Part 02", "Part 03"]
    materials = list(obj.data.materials)
    assert [m.name for m in materials] == [f"Lollipop Part {i:02d}" for i in (1, 2, 3)]
    assert len({tuple(m.diffuse_color) for m in materials}) == 3
    used = {p.material_index for p in obj.data.polygons}
    assert used == {0, 1, 2}
    colors = obj.data.color_attributes["PartSDF Parts"]
    assert colors.domain == "CORNER" and len(colors.data) == len(obj.data.loops)
    parts = bpy.data.collections["Lollipop parts"]
    assert len(parts.objects) == 3
    for part_object in parts.objects:
        assert np.allclose(np.array(part_object.matrix_world), np.array(obj.matrix_world))
        assert part_object.partsdf.source == obj and len(part_object.data.polygons) == 12
    assert obj["partsdf_engine_version"] == "fake-1" and obj["partsdf_settings"]["quality"] == "fast"
    assert obj["partsdf_settings"]["parts"] == 3 and obj["partsdf_settings"]["types"] == "auto"
    state = obj.partsdf
    assert [p.vertex_count for p in state.parts] == list(members.sum(axis=0))
    assert job_folders(prefs) == []


def test_part_objects_sit_on_the_parts_in_world_space(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    discover()
    local = np.array([v.co for v in obj.data.vertices])
    vertex_labels = np.searchsorted(np.quantile(local[:, 0], [1 / 3, 2 / 3]), local[:, 0], side="right")
    for item in obj.partsdf.parts:
        # The fake engine's part mesh is the box of its part's vertices in the coordinates it was sent.
        box = np.array([v.co for v in item.mesh_object.data.vertices])
        members = local[vertex_labels == item.part_id]
        np.testing.assert_allclose(box.min(0), members.min(0), atol=1e-5)
        np.testing.assert_allclose(box.max(0), members.max(0) + 1e-3, atol=1e-5)
        np.testing.assert_allclose(np.array(item.mesh_object.matrix_world), np.array(obj.matrix_world), atol=1e-6)


def test_rerun_replaces_instead_of_piling_up(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    discover()
    first = scene_fingerprint()
    discover()
    assert scene_fingerprint() == first
    scene.partsdf.settings.parts = 2
    scene.partsdf.settings.build_meshes = False
    discover()
    assert [g.name for g in obj.vertex_groups] == ["Part 01", "Part 02"]
    assert len(obj.data.materials) == 2 and "Lollipop parts" not in bpy.data.collections
    assert not any(o.name.startswith("Lollipop Part") for o in bpy.data.objects)
    assert not any(m.name.startswith("Lollipop Part 03") for m in bpy.data.materials)


def test_user_materials_and_groups_survive_reruns(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    obj.data.materials.append(bpy.data.materials.new("Paint"))
    obj.vertex_groups.new(name="Pin")
    discover()
    discover()
    assert [m.name for m in obj.data.materials][0] == "Paint" and len(obj.data.materials) == 4
    assert [g.name for g in obj.vertex_groups][0] == "Pin"


def test_one_undo_step_restores_the_scene(scene, prefs, fake_python):
    """Headless bpy pushes an operator's undo step only when called with undo=True, as the UI does."""
    prefs.python_path = fake_python("ok")
    make_lollipop()
    bpy.ops.ed.undo_push(message="before")
    before = scene_fingerprint()
    assert discover(undo=True) == {"FINISHED"}
    assert scene_fingerprint() != before
    bpy.ops.ed.undo()
    assert scene_fingerprint() == before


def test_edit_mode_edits_are_flushed_and_mode_kept(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="SELECT")
    bpy.ops.mesh.subdivide()
    vertex_count_in_edit = len(obj.data.vertices)
    assert discover() == {"FINISHED"}
    assert obj.mode == "EDIT"
    bpy.ops.object.mode_set(mode="OBJECT")
    assert len(obj.data.vertices) > vertex_count_in_edit
    assert (vertex_membership(obj).sum(axis=1) == 1).all()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("nothing", "Nothing is active"),
        ("camera", "is a camera object, not a mesh"),
        ("empty", "has an empty mesh"),
    ],
)
def test_bad_selection_is_refused_clearly(scene, prefs, fake_python, setup, message):
    prefs.python_path = fake_python("ok")
    make_lollipop()
    if setup == "nothing":
        select_only(None)
    elif setup == "camera":
        bpy.ops.object.camera_add()
    else:
        mesh = bpy.data.meshes.new("Empty")
        empty = bpy.data.objects.new("Empty", mesh)
        scene.collection.objects.link(empty)
        select_only(empty)
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match=message):
        discover()
    assert scene_fingerprint() == before and job_folders(prefs) == []


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("crash", "exit code 1"),
        ("garbage", "not understood"),
        ("missing", "missing dependency"),
    ],
)
def test_engine_failures_leave_the_scene_unchanged(scene, prefs, fake_python, mode, message):
    prefs.python_path = fake_python("ok")
    make_lollipop()
    discover()
    prefs.python_path = fake_python(mode)
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match=f"PartSDF failed: .*{message}"):
        discover()
    assert scene_fingerprint() == before and job_folders(prefs) == []
    assert jobs.active_job() is None


def test_missing_external_python_is_reported(scene, prefs, tmp_path):
    prefs.python_path = str(tmp_path / "nowhere" / "python3")
    make_lollipop()
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="cannot start the engine"):
        discover()
    assert scene_fingerprint() == before and job_folders(prefs) == []


def test_cancel_leaves_the_scene_unchanged(scene, prefs, fake_python):
    prefs.python_path = fake_python("hang")
    make_lollipop()
    before = scene_fingerprint()
    timer = threading.Timer(1.0, jobs.request_cancel)
    timer.start()
    started = time.monotonic()
    assert discover() == {"CANCELLED"}
    assert time.monotonic() - started < 1.0 + client.CANCEL_GRACE_S
    assert scene_fingerprint() == before and job_folders(prefs) == []
    assert jobs.active_job() is None


def test_loading_a_file_stops_a_running_engine(scene, prefs, fake_python):
    """The load_pre handler stops the engine (the modal operator is cancelled by Blender the same way)."""
    prefs.python_path = fake_python("hang")
    make_lollipop()
    job = jobs.start_job(bpy.context)
    jobs._active = job
    try:
        time.sleep(0.3)
        assert job.process.running
        bpy.ops.wm.read_homefile(use_empty=True)
        assert not job.process.running and job.process.outcome.cancelled
        assert jobs.active_job() is None and not job.job_dir.exists()
    finally:
        jobs._active = None
        job.process.stop()
        client.remove_job_dir(job.job_dir)


def test_mesh_edited_during_the_run_is_not_overwritten(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    job = jobs.start_job(bpy.context)
    job.process.wait(interval=0.02)
    obj.data.vertices.add(1)
    before = scene_fingerprint()
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"CANCELLED"} and level == "ERROR" and "edited while the engine ran" in message
    assert scene_fingerprint() == before and not job.job_dir.exists()


def test_polygon_labels_take_the_majority_of_triangles():
    triangle_polygons = np.array([0, 0, 0, 1, 1, 2])
    face_labels = np.array([4, 2, 4, 1, 1, 3])
    assert scene_io.polygon_labels(triangle_polygons, face_labels, 3).tolist() == [4, 1, 3]
