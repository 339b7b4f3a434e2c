"""Fixtures for the add-on tests: real Blender (the bpy module) in a sandbox.

BLENDER_USER_RESOURCES points at a throw-away folder (with a space and a
non-ASCII letter in its name) before bpy is imported, so nothing touches the
user's Blender configuration. The repository's add-on is enabled once per
session; each test starts from an empty file.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
SANDBOX = Path(tempfile.mkdtemp(prefix="partsdf sandbox é "))
os.environ["BLENDER_USER_RESOURCES"] = str(SANDBOX / "blender")

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402  (importable once bpy is)

ADDON = "blender_addon"


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SANDBOX, ignore_errors=True)


def engine_available() -> bool:
    return (REPO / "engine" / "__main__.py").is_file()


@pytest.fixture(scope="session")
def addon():
    """The repository's add-on, enabled through addon_utils (so its preferences exist)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    module = addon_utils.enable(ADDON, default_set=True)
    assert addon_utils.check(ADDON) == (True, True)
    yield module
    addon_utils.disable(ADDON, default_set=True)


@pytest.fixture
def prefs(addon, tmp_path):
    """Add-on preferences reset for one test; job folders go to a per-test cache folder."""
    preferences = bpy.context.preferences.addons[ADDON].preferences
    preferences.python_path = ""
    preferences.device = "cpu"
    preferences.threads = 1
    preferences.cache_dir = str(tmp_path / "cache dir é")
    preferences.keep_engine = False  # a process per run (the fake engines); the real-engine tests keep it warm
    return preferences


@pytest.fixture
def scene(addon):
    """An empty file with default run settings."""
    bpy.ops.wm.read_homefile(use_empty=True)
    settings = bpy.context.scene.partsdf.settings
    settings.quality = "fast"
    settings.auto_parts, settings.parts = False, 3
    return bpy.context.scene


@pytest.fixture
def fake_python(tmp_path):
    """make(mode) -> path of an executable that stands in for the engine's Python (a real subprocess)."""
    folder = tmp_path / "fake engine é"
    folder.mkdir()

    def make(mode: str) -> str:
        script = folder / f"python {mode}"
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_ENGINE}" {mode} "$@"\n', encoding="utf-8")
        script.chmod(0o755)
        return str(script)

    if os.name == "nt":
        pytest.skip("the fake engine is a POSIX shell script")
    return make


def make_lollipop(name: str = "Lollipop"):
    """A sphere on a stick, joined into one mesh object, moved and scaled (so transforms matter)."""
    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(0, 0, 1.2), segments=16, ring_count=8)
    head = bpy.context.active_object
    bpy.ops.mesh.primitive_cylinder_add(radius=0.08, depth=1.4, location=(0, 0, 0.1), vertices=12)
    stick = bpy.context.active_object
    with bpy.context.temp_override(active_object=head, selected_editable_objects=[head, stick]):
        bpy.ops.object.join()
    head.name = name
    head.location = (1.0, 2.0, 0.5)
    head.rotation_euler = (0.3, 0.0, 0.7)
    head.scale = (1.5, 1.5, 1.5)
    bpy.context.view_layer.update()
    select_only(head)
    return head


def select_only(obj) -> None:
    for other in bpy.context.view_layer.objects:
        other.select_set(False)
    if obj is not None:
        obj.select_set(True)
    bpy.context.view_layer.objects.active = obj


HEAD_POLYGONS = 16 * 8  # the lollipop's UV sphere (16 segments, 8 rings) comes first in the joined mesh
RED, BLUE = (1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)


def dress_lollipop(obj) -> None:
    """Give the lollipop an asset's look: a 'Candy' material on the head, 'Wood' on the stick, and a
    vertex colour attribute 'Paint', red on the head and blue on the stick (its UV map comes with it)."""
    mesh = obj.data
    for name in ("Candy", "Wood"):
        mesh.materials.append(bpy.data.materials.new(name))
    head = np.arange(len(mesh.polygons)) < HEAD_POLYGONS
    mesh.polygons.foreach_set("material_index", np.where(head, 0, 1).astype(np.int32))
    head_vertices = np.zeros(len(mesh.vertices), bool)
    for polygon in mesh.polygons[:HEAD_POLYGONS]:
        head_vertices[list(polygon.vertices)] = True
    paint = mesh.color_attributes.new("Paint", "FLOAT_COLOR", "POINT")
    paint.data.foreach_set("color", np.where(head_vertices[:, None], RED, BLUE).astype(np.float32).ravel())
    mesh.update()


def scene_fingerprint() -> dict:
    """What a run may change, to assert that a failed or cancelled run changed nothing."""
    objects = {}
    for obj in bpy.data.objects:
        entry = {"type": obj.type, "keys": sorted(obj.keys()), "groups": [g.name for g in obj.vertex_groups]}
        if obj.type == "MESH":
            entry["materials"] = [m.name if m else None for m in obj.data.materials]
            entry["colors"] = list(obj.data.color_attributes.keys())
            entry["parts"] = len(obj.partsdf.parts)
        objects[obj.name] = entry
    return {
        "objects": objects,
        "materials": sorted(m.name for m in bpy.data.materials),
        "collections": sorted(c.name for c in bpy.data.collections),
        "meshes": sorted(m.name for m in bpy.data.meshes),
    }


@pytest.fixture
def parts(scene, prefs, fake_python):
    """The lollipop with the fake engine's three parts (split along x), in Object Mode."""
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    assert bpy.ops.partsdf.discover_parts("EXEC_DEFAULT") == {"FINISHED"}
    return obj


def wait_for_training(job) -> None:
    """Wait until the fit's training steps run (not only its stage start, which precedes the SDF sampling: a
    cancel that lands in a long C call is answered only after it, and past the grace the engine is killed)."""
    deadline = time.monotonic() + 120
    while not any(e["type"] == "PROGRESS" and e.get("stage") == "fit" and e.get("fraction", 0) > 0
                  for e in job.process.poll()):
        assert job.process.running and time.monotonic() < deadline
        time.sleep(0.05)
