"""Registering and unregistering the add-on, twice, leaves Blender clean."""

from __future__ import annotations

import addon_utils
import bpy
from conftest import ADDON

from blender_addon.operators import edit, part_list, run
from blender_addon.ui import panel, preferences, properties

ALL_CLASSES = (
    *properties.classes,
    *preferences.classes,
    *run.classes,
    *part_list.classes,
    *edit.classes,
    *panel.classes,
)


def registered() -> list[bool]:
    return [cls.is_registered for cls in ALL_CLASSES]


def test_register_and_unregister_twice(addon):
    for _ in range(2):
        addon_utils.disable(ADDON, default_set=True)
        assert addon_utils.check(ADDON) == (False, False)
        assert not any(registered())
        assert not hasattr(bpy.types.Scene, "partsdf") and not hasattr(bpy.types.Object, "partsdf")
        assert not hasattr(bpy.ops.partsdf, "discover_parts") or not _operator_exists("partsdf.discover_parts")
        assert len([h for h in bpy.app.handlers.load_pre if h.__module__ == ADDON]) == 0
        addon_utils.enable(ADDON, default_set=True)
        assert addon_utils.check(ADDON) == (True, True)
        assert all(registered())
        assert len([h for h in bpy.app.handlers.load_pre if h.__module__ == ADDON]) == 1
        assert bpy.context.preferences.addons[ADDON].preferences.device in {"auto", "cpu", "cuda", "mps"}


def _operator_exists(idname: str) -> bool:
    module, name = idname.split(".")
    try:
        getattr(getattr(bpy.ops, module), name).get_rna_type()
    except (AttributeError, KeyError):
        return False
    return True


def test_settings_map_onto_engine_options(scene):
    settings = scene.partsdf.settings
    settings.quality, settings.auto_parts, settings.parts = "high", True, 9
    settings.auto_types, settings.types, settings.seed, settings.build_meshes = False, 4, 11, False
    assert properties.run_options(settings).as_dict() == {
        "quality": "high",
        "parts": None,
        "types": 4,
        "seed": 11,
        "build_meshes": False,
        "features": "raw",
    }
    settings.features = "dino"  # the shared prototypes decide the types: a hand count is not sent
    assert properties.run_options(settings).as_dict()["types"] is None


def test_check_engine_reports_torch_and_device(prefs, fake_python):
    prefs.python_path = fake_python("info")
    assert bpy.ops.partsdf.check_engine() == {"FINISHED"}
    assert preferences._last_check["text"] == "PartSDF engine fake-1, torch 0.0-fake, device cpu"
    prefs.python_path = fake_python("crash")
    try:
        bpy.ops.partsdf.check_engine()
    except RuntimeError as error:
        assert "Engine check failed" in str(error)
    else:
        raise AssertionError("a failing engine check must report an error")
