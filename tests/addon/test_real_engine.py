"""Discover Parts, cancel, engine check and the batch script with the real engine (fast preset, 1 thread)."""

from __future__ import annotations

import json
import time

import bpy
import numpy as np
import pytest
from conftest import BLUE, RED, dress_lollipop, engine_available, make_lollipop, wait_for_training
from test_batch import run_batch
from test_operator import job_folders, vertex_membership

from blender_addon.engine_link import client
from blender_addon.operators import jobs
from blender_addon.scene import part_views

pytestmark = pytest.mark.skipif(not engine_available(), reason="the engine CLI (engine/__main__.py) is not there yet")


@pytest.fixture
def two_parts(scene, prefs):
    settings = scene.partsdf.settings
    settings.quality, settings.auto_parts, settings.parts, settings.seed = "fast", False, 2, 0
    prefs.keep_engine = True  # as users run it: one warm engine
    return settings


def fit_fractions(job: jobs.Job) -> list[float]:
    """Wait for the job; the in-stage fractions its PROGRESS events gave for the fit stage."""
    events = []
    job.process.wait(on_event=events.append)
    return [e["fraction"] for e in events if e["type"] == "PROGRESS" and e["stage"] == "fit"]


def test_discover_parts_on_a_lollipop(two_parts, prefs):
    obj = make_lollipop()
    head_vertices = 16 * 7 + 2  # the UV sphere comes first in the joined mesh
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    members = vertex_membership(obj)
    assert members.shape[1] == 2 and (members.sum(axis=1) == 1).all()
    labels = members.argmax(axis=1)
    head, stick = np.bincount(labels[:head_vertices]).argmax(), np.bincount(labels[head_vertices:]).argmax()
    assert head != stick, "the sphere and the stick should be different parts"
    assert len(obj.data.materials) == 2 and "PartSDF Parts" in obj.data.color_attributes
    assert obj["partsdf_engine_version"] and obj["partsdf_engine_version"] != "fake-1"
    part_objects = [p.mesh_object for p in obj.partsdf.parts if p.mesh_object is not None]
    assert len(part_objects) == 2, "the real engine writes one closed mesh per part"
    collection = bpy.data.collections[f"{obj.name} parts"]
    assert set(collection.objects) == set(part_objects)
    low, high = np.min([v.co for v in obj.data.vertices], axis=0), np.max([v.co for v in obj.data.vertices], axis=0)
    for part_object in part_objects:
        corners = np.array([v.co for v in part_object.data.vertices])
        assert len(part_object.data.polygons) > 100
        assert (corners.min(axis=0) > low - 0.05).all() and (corners.max(axis=0) < high + 0.05).all()
    assert job_folders(prefs) == []


def test_part_meshes_keep_the_assets_materials_uvs_and_colours(two_parts, prefs):
    obj = make_lollipop()
    dress_lollipop(obj)
    uv = np.empty(len(obj.data.loops) * 2, np.float32)
    obj.data.uv_layers["UVMap"].data.foreach_get("uv", uv)
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    head_z = max(v.co.z for v in obj.data.vertices) - 0.5  # the sphere's centre, in object space
    seen = set()
    for item in obj.partsdf.parts:
        mesh = item.mesh_object.data
        assert [m.name for m in mesh.materials] == ["Candy", "Wood"]
        centres = np.array([p.center.z for p in mesh.polygons])
        is_head = bool(np.median(centres) > head_z - 0.3)
        seen.add(is_head)
        materials = np.array([p.material_index for p in mesh.polygons])
        assert np.mean(materials == (0 if is_head else 1)) > 0.9  # Candy on the head, Wood on the stick
        part_uv = np.empty(len(mesh.loops) * 2, np.float32)
        mesh.uv_layers["UVMap"].data.foreach_get("uv", part_uv)
        assert part_uv.min() >= uv.min() - 1e-5 and part_uv.max() <= uv.max() + 1e-5 and part_uv.std() > 0.05
        paint = np.empty(len(mesh.loops) * 4, np.float32)
        mesh.color_attributes["Paint"].data.foreach_get("color", paint)
        expected = np.array(RED if is_head else BLUE)
        assert np.mean(np.abs(paint.reshape(-1, 4) - expected).max(axis=1) < 0.05) > 0.9
    assert seen == {True, False}, "one part mesh is the head, the other the stick"


def test_shared_library_features_name_types_by_prototype_and_ignore_a_hand_type_count(two_parts, prefs):
    two_parts.features, two_parts.build_meshes = "dino", False
    two_parts.auto_types, two_parts.types = False, 5  # greyed out in the panel: the prototypes decide
    obj = make_lollipop()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    assert len(obj.partsdf.parts) == 2
    assert all(item.type_name.startswith("Kind ") for item in obj.partsdf.parts)
    assert obj["partsdf_settings"]["features"] == "dino" and obj["partsdf_settings"]["types"] == "auto"


def test_cancel_stops_the_real_engine(two_parts, prefs):
    make_lollipop()
    job = jobs.start_job(bpy.context)
    jobs._active = job
    try:
        wait_for_training(job)
        started = time.monotonic()
        jobs.request_cancel()
        outcome = job.process.wait(interval=0.05)
        assert outcome.cancelled and time.monotonic() - started < client.CANCEL_GRACE_S + 1
        assert not (job.job_dir / "result").exists()
    finally:
        jobs._active = None
        job.process.stop()
        client.remove_job_dir(job.job_dir)


def test_check_engine_with_the_real_engine(prefs):
    assert bpy.ops.partsdf.check_engine() == {"FINISHED"}


def test_batch_with_the_real_engine(scene, tmp_path):
    make_lollipop()
    mesh = tmp_path / "lolli pop é.obj"
    bpy.ops.wm.obj_export(filepath=str(mesh), export_materials=False)
    output = tmp_path / "out"
    options = ["--quality", "fast", "--parts", "2", "--threads", "1", "--device", "cpu"]
    done = run_batch("--input", str(mesh), "--output", str(output), *options)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((output / "lolli pop é.json").read_text(encoding="utf-8"))
    assert report["ok"] and len(report["objects"][0]["parts"]) == 2


def test_recluster_with_the_real_engine_trains_nothing(two_parts, prefs):
    obj = make_lollipop()
    two_parts.build_meshes = False
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    obj.partsdf.parts[0].locked = True
    two_parts.parts = 3
    job = jobs.start_job(bpy.context, jobs.RECLUSTER)
    fit_steps = fit_fractions(job)
    assert fit_steps and all(f in (0.0, 1.0) for f in fit_steps), "a re-cluster must not train"
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"FINISHED"}, message
    assert obj.partsdf.parts[0].locked and len(obj.partsdf.parts) >= 2
    assert (vertex_membership(obj).sum(axis=1) == 1).all()


def test_moved_object_one_face_part_and_rebuild_with_the_real_engine(two_parts, prefs):
    """Discover, move and rotate the object, make a part of one face, rebuild: each part its own mesh or a note."""
    obj = make_lollipop()
    two_parts.build_meshes = False
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    obj.location, obj.rotation_euler = (-3.0, 1.0, 0.0), (0.0, 1.2, 0.4)
    bpy.context.view_layer.update()
    top = max(obj.data.polygons, key=lambda p: p.center.z).index
    ids = part_views.read_part_ids(obj.data)
    ids[top] = ids.max() + 1  # New Part from Selection on the top face
    part_views.add_part(obj, int(ids[top]), "Tip", (1.0, 0.0, 0.0))
    part_views.set_part_ids(obj, ids)
    job = jobs.start_job(bpy.context, jobs.REBUILD)
    assert all(f in (0.0, 1.0) for f in fit_fractions(job)), "the move kept the cached model"
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"FINISHED"} and "no mesh for Tip" in message, message
    assert any("holds no vertex" in w for w in job.process.outcome.warnings)
    items = {item.label: item for item in obj.partsdf.parts}
    assert items["Tip"].mesh_object is None
    local = np.array([v.co for v in obj.data.vertices])
    centers = np.array([p.center for p in obj.data.polygons])
    for item in obj.partsdf.parts:
        if item.label == "Tip":
            continue
        part_mesh = np.array([v.co for v in item.mesh_object.data.vertices])
        own = centers[ids == item.part_id]
        assert np.linalg.norm(part_mesh.mean(0) - own.mean(0)) < 0.25 * np.ptp(local, axis=0).max()
        np.testing.assert_allclose(np.array(item.mesh_object.matrix_world), np.array(obj.matrix_world), atol=1e-6)


def _follow(job: jobs.Job, obj, on_labels=None) -> dict:
    """Wait for a job, handling events as the operator does; what the object held when LABELS arrived."""
    seen = {}

    def on_event(event: dict) -> None:
        jobs.handle_event(bpy.context, job, event)
        if event["type"] == "LABELS":
            seen["parts"] = len(obj.partsdf.parts)
            seen["part_objects"] = sum(p.mesh_object is not None for p in obj.partsdf.parts)
            seen["groups"] = len(obj.vertex_groups)
            if on_labels is not None:
                on_labels()

    job.process.wait(on_event=on_event, interval=0.05)
    return seen


def test_parts_are_written_as_soon_as_they_exist_and_the_meshes_follow(two_parts, prefs):
    obj = make_lollipop()
    job = jobs.start_job(bpy.context)
    seen = _follow(job, obj)
    assert seen == {"parts": 2, "part_objects": 0, "groups": 2}, "the parts come before their meshes"
    assert job.parts_written.startswith("2 parts (")
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"FINISHED"} and level == "INFO", message
    assert sum(p.mesh_object is not None for p in obj.partsdf.parts) == 2 and len(obj.vertex_groups) == 2
    assert message.startswith("PartSDF: 2 parts (") and ", 2 part meshes in " in message, message
    assert job_folders(prefs) == []


def test_cancel_after_the_parts_keeps_them_and_stops_only_the_meshes(two_parts, prefs):
    obj = make_lollipop()
    job = jobs.start_job(bpy.context)
    jobs._active = job
    try:
        seen = _follow(job, obj, on_labels=jobs.request_cancel)
    finally:
        jobs._active = None
    assert seen["parts"] == 2 and job.process.outcome.cancelled
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"FINISHED"} and level == "WARNING" and "part meshes cancelled" in message, message
    assert len(obj.partsdf.parts) == 2 and all(p.mesh_object is None for p in obj.partsdf.parts)
    assert (vertex_membership(obj).sum(axis=1) == 1).all()
    assert job_folders(prefs) == []


def test_parts_edited_while_their_meshes_are_built_get_no_stale_meshes(two_parts, prefs):
    obj = make_lollipop()
    job = jobs.start_job(bpy.context)

    def move_a_face() -> None:  # as if the user reassigned a face while the meshes were being built
        ids = part_views.read_part_ids(obj.data)
        ids[0] = ids.max() if ids[0] != ids.max() else ids.min()
        part_views.set_part_ids(obj, ids)

    _follow(job, obj, on_labels=move_a_face)
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"FINISHED"} and level == "ERROR" and "Rebuild Part Meshes" in message, message
    assert len(obj.partsdf.parts) == 2 and all(p.mesh_object is None for p in obj.partsdf.parts)
