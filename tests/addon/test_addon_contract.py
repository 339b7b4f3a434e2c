"""The add-on's contract is the engine's own file, loaded without the engine package or torch."""

from __future__ import annotations

import json
import subprocess
import sys

import bpy
import numpy as np
import pytest
from conftest import REPO

import engine.contract
from blender_addon.engine_link import client, contract
from engine.outputs import part_colors

ALONE = """
import importlib.util
spec = importlib.util.spec_from_file_location("partsdf_addon_contract", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""
WITH_ADDON = """
import os, tempfile
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp()
import bpy
import blender_addon
module = blender_addon.engine_link.contract
"""
REPORT = """
import json
print(json.dumps({
    "file": module.load().__file__,
    "heavy": sorted(m for m in sys.modules if m in ("torch", "engine") or m.startswith(("torch.", "engine."))),
}))
"""


def test_the_addon_loads_the_engines_contract_file():
    loaded = contract.load()
    assert loaded.__file__ == engine.contract.__file__ == str(REPO / "engine" / "contract.py")
    assert contract.load() is loaded, "loaded once"
    assert loaded.MESSAGE_TYPES == engine.contract.MESSAGE_TYPES
    for name in ("EXIT_OK", "EXIT_INTERNAL", "EXIT_BAD_INPUT", "EXIT_CANCELLED", "SEGMENTATION", "VERTEX_LABELS",
                 "FACE_LABELS", "MODEL_WEIGHTS", "MODEL_INFO", "SURFACE_GRAPH", "MODEL_FILES", "PART_MESH_FOLDER",
                 "UNION_MESH", "OWN_NAMES"):
        assert getattr(loaded, name) == getattr(engine.contract, name), name
    for name in ("EXIT_CANCELLED", "SEGMENTATION", "FACE_LABELS", "MODEL_WEIGHTS", "MODEL_INFO", "MODEL_FILES"):
        assert getattr(contract, name) == getattr(engine.contract, name), name


@pytest.mark.parametrize("how", ["alone", "with the add-on"])
def test_loading_the_contract_imports_neither_the_engine_nor_torch(how):
    """A fresh interpreter loads the contract, the engine package importable on its path, and imports neither."""
    path = REPO / "blender_addon" / "engine_link" / "contract.py"
    body = ALONE.format(path=str(path)) if how == "alone" else WITH_ADDON
    script = f"import sys\nsys.path.insert(0, {str(REPO)!r})\n{body}{REPORT}"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["file"] == str(REPO / "engine" / "contract.py")
    assert report["heavy"] == []


def test_client_decodes_exactly_the_engines_messages():
    for message_type in engine.contract.MESSAGE_TYPES:
        line = engine.contract.encode(message_type, message="x")
        assert client.decode_event(line) == {"type": message_type, "message": "x"}
    for line in ('{"type": "HELLO"}', "[1, 2]", "not json", '"DONE"'):
        assert client.decode_event(line) is None


def test_part_colours_are_the_engines():
    ids = np.arange(64)
    np.testing.assert_allclose([contract.part_color(int(i)) for i in ids], part_colors(ids))


def test_a_new_part_takes_the_engines_colour_for_its_id(parts):
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="DESELECT")
    bpy.ops.object.mode_set(mode="OBJECT")
    parts.data.polygons[0].select = True
    bpy.ops.object.mode_set(mode="EDIT")
    assert bpy.ops.partsdf.new_part() == {"FINISHED"}
    bpy.ops.object.mode_set(mode="OBJECT")
    item = parts.partsdf.parts[parts.partsdf.active_index]
    assert item.part_id == 3
    np.testing.assert_allclose(item.color, part_colors(np.array([item.part_id]))[0], atol=1e-6)
