"""One Blender line's end-to-end check of a built extension zip, as a new user would meet it.

    <python with bpy> tests/matrix/extension_check.py --zip ZIP --report OUT.json [--torch-wheels DIR]

Run by ``scripts/blender_matrix.py`` with each Blender's bpy module (the same script runs under
``blender -b --factory-startup --python-exit-code 1 --python``). In a sandbox
(BLENDER_USER_RESOURCES), it installs the zip with Blender's own extension installer, enables it,
and, if the zip carries no torch (Blender 5.1+ on Linux), checks that Discover Parts refuses with the
one line that says what to do, then runs Install PyTorch from ``--torch-wheels``. Then Discover
Parts on a small generated mesh (fast preset, 2 parts), moved and rotated; the write-back is checked
(vertex groups, materials, colour attribute, one closed part object per part, placed on the object),
the add-on disabled, and the interpreter left normally: the exit code must be 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# The caller (scripts/blender_matrix.py) names the sandbox and removes it afterwards.
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="partsdf-matrix-"))

import bpy  # noqa: E402  (after the sandbox is set)

BLENDER = bpy.app.version_string
import addon_utils  # noqa: E402  (importable once bpy is)

MODULE = "bl_ext.user_default.partsdf"


def arguments() -> argparse.Namespace:
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]
    parser = argparse.ArgumentParser()
    parser.add_argument("--zip", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--torch-wheels", default="", help="wheel folder for Install PyTorch (zips without torch)")
    return parser.parse_args(argv)


def lollipop():
    """A sphere on a stick joined into one object, moved and rotated."""
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(0, 0, 1.2), segments=16, ring_count=8)
    head = bpy.context.active_object
    bpy.ops.mesh.primitive_cylinder_add(radius=0.08, depth=1.4, location=(0, 0, 0.1), vertices=12)
    stick = bpy.context.active_object
    with bpy.context.temp_override(active_object=head, selected_editable_objects=[head, stick]):
        bpy.ops.object.join()
    head.name = "Lollipop"
    head.location, head.rotation_euler = (1.0, 2.0, 0.5), (0.3, 0.0, 0.7)
    bpy.context.view_layer.update()
    bpy.context.view_layer.objects.active = head
    head.select_set(True)
    return head


def install_torch_if_missing(package, torch_wheels: str, report: dict) -> None:
    runtime, preferences = package.engine_link.runtime, package.ui.preferences
    report["torch_bundled"] = runtime.has_torch(None)
    if runtime.has_torch(preferences.runtime_folder()):
        return
    try:
        bpy.ops.partsdf.discover_parts()
        raise AssertionError("Discover Parts ran without torch")
    except RuntimeError as error:
        assert "Install PyTorch" in str(error), error
        report["refusal_without_torch"] = str(error).strip().splitlines()[-1]
    if not torch_wheels:
        raise AssertionError("this zip has no torch; pass --torch-wheels to install it")
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.torch_find_links = torch_wheels
    started = time.monotonic()
    assert bpy.ops.partsdf.install_torch() == {"FINISHED"}
    report["torch_install_s"] = round(time.monotonic() - started, 1)
    assert runtime.has_torch(preferences.runtime_folder())


def check_write_back(obj) -> dict:
    parts = obj.partsdf.parts
    assert len(parts) == 2, f"{len(parts)} parts"
    assert len(obj.vertex_groups) == 2 and len(obj.data.materials) == 2
    assert "PartSDF Parts" in obj.data.color_attributes and "partsdf_part" in obj.data.attributes
    objects = [item.mesh_object for item in parts]
    assert all(o is not None and len(o.data.polygons) > 100 for o in objects), "one closed mesh per part"
    placed = [max(abs(a - b) for row_a, row_b in zip(o.matrix_world, obj.matrix_world, strict=True)
                  for a, b in zip(row_a, row_b, strict=True)) for o in objects]
    assert max(placed) < 1e-6, "part objects sit on the object"
    return {"parts": len(parts), "part_faces": [len(o.data.polygons) for o in objects]}


def main() -> None:
    args = arguments()
    report = {"blender": BLENDER, "python": sys.version.split()[0], "zip": args.zip.name}
    started = time.monotonic()
    bpy.ops.extensions.package_install_files(filepath=str(args.zip.resolve()), repo="user_default",
                                             enable_on_install=True)
    assert addon_utils.check(MODULE) == (True, True), "the extension is not enabled after install"
    report["install_s"] = round(time.monotonic() - started, 1)
    package = sys.modules[MODULE]
    obj = lollipop()
    settings = bpy.context.scene.partsdf.settings
    settings.quality, settings.auto_parts, settings.parts, settings.build_meshes = "fast", False, 2, True
    install_torch_if_missing(package, args.torch_wheels, report)
    started = time.monotonic()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    report["discover_s"] = round(time.monotonic() - started, 1)
    report.update(check_write_back(obj))
    addon_utils.disable(MODULE, default_set=True)
    assert addon_utils.check(MODULE)[1] is False
    report["ok"] = True
    args.report.write_text(json.dumps(report, indent=2))


main()
