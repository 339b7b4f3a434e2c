"""Panel and list drawing against a recording layout that only accepts real UILayout names."""

from __future__ import annotations

import threading

import bpy
from conftest import make_lollipop

from blender_addon.operators import jobs
from blender_addon.ui import panel

LAYOUT_PROPERTIES = {p.identifier for p in bpy.types.UILayout.bl_rna.properties}
LAYOUT_FUNCTIONS = {f.identifier for f in bpy.types.UILayout.bl_rna.functions}


class RecordingLayout:
    """Stands in for bpy.types.UILayout; fails on any method or attribute Blender's layout lacks."""

    def __init__(self, calls: list):
        object.__setattr__(self, "calls", calls)

    def __getattr__(self, name):
        assert name in LAYOUT_FUNCTIONS, f"UILayout has no method {name}"

        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            if name == "operator":
                return type("OperatorProperties", (), {})()
            return RecordingLayout(self.calls)

        return call

    def __setattr__(self, name, value):
        assert name in LAYOUT_PROPERTIES, f"UILayout has no property {name}"


def draw(panel_class, calls: list) -> None:
    holder = type("PanelSelf", (), {"layout": RecordingLayout(calls)})()
    panel_class.draw(holder, bpy.context)


def test_settings_panel_draws_button_then_progress(scene, prefs, fake_python):
    calls = []
    draw(panel.PARTSDF_PT_discover, calls)
    assert ("operator", ("partsdf.discover_parts",), {"icon": "MOD_EXPLODE"}) in calls
    prefs.python_path = fake_python("hang")
    make_lollipop()
    job = jobs.start_job(bpy.context)
    jobs._active = job
    try:
        job.apply({"type": "PROGRESS", "stage": "fitting", "fraction": 0.5, "overall": 0.42})
        calls.clear()
        draw(panel.PARTSDF_PT_discover, calls)
        progress = next(c for c in calls if c[0] == "progress")
        assert progress[2]["text"] == "fitting 42%" and progress[2]["factor"] == 0.42
        assert any(c[0] == "operator" and c[1] == ("partsdf.cancel",) and c[2]["text"] == "Cancel" for c in calls)
        job.parts_written = "2 parts (1 types)"  # as after LABELS: the parts are in, their meshes are coming
        calls.clear()
        draw(panel.PARTSDF_PT_discover, calls)
        assert any(c[0] == "label" and "Building part meshes" in c[2].get("text", "") for c in calls)
        assert any(c[0] == "operator" and c[1] == ("partsdf.cancel",) and c[2]["text"] == "Stop Part Meshes"
                   for c in calls)
    finally:
        jobs._active = None
        job.process.stop()


def test_parts_list_draws_one_row_per_part(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    bpy.ops.partsdf.discover_parts()
    assert panel.PARTSDF_PT_parts.poll(bpy.context)
    calls = []
    draw(panel.PARTSDF_PT_parts, calls)
    assert any(c[0] == "template_list" and c[1][0] == "PARTSDF_UL_parts" for c in calls)
    for index, item in enumerate(obj.partsdf.parts):
        calls.clear()
        ui_list = type("ListSelf", (), {})()
        panel.PARTSDF_UL_parts.draw_item(ui_list, bpy.context, RecordingLayout(calls), None, item, 0, None, "", index)
        assert ("prop", (item, "label"), {"text": "", "emboss": False}) in calls
        assert [c[1][0] for c in calls if c[0] == "operator"] == ["partsdf.select_part", "partsdf.toggle_part"]


def test_part_buttons_select_and_hide_part_objects(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    bpy.ops.partsdf.discover_parts()
    part_object = obj.partsdf.parts[1].mesh_object
    assert bpy.ops.partsdf.select_part(index=1) == {"FINISHED"}
    assert bpy.context.view_layer.objects.active == part_object and part_object.select_get()
    assert bpy.ops.partsdf.toggle_part(index=1) == {"FINISHED"} and part_object.hide_get()
    assert bpy.ops.partsdf.toggle_part(index=1) == {"FINISHED"} and not part_object.hide_get()


def test_part_buttons_on_faces_without_part_objects(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    scene.partsdf.settings.build_meshes = False
    obj = make_lollipop()
    bpy.ops.partsdf.discover_parts()
    assert bpy.ops.partsdf.select_part(index=0) == {"FINISHED"} and obj.mode == "EDIT"
    bpy.ops.object.mode_set(mode="OBJECT")
    selected = {p.index for p in obj.data.polygons if p.select}
    assert selected == {p.index for p in obj.data.polygons if p.material_index == 0}
    assert bpy.ops.partsdf.toggle_part(index=0) == {"FINISHED"}
    bpy.ops.object.mode_set(mode="OBJECT")
    assert all(p.hide == (p.material_index == 0) for p in obj.data.polygons)


def test_request_cancel_is_thread_safe_without_a_run():
    thread = threading.Thread(target=jobs.request_cancel)
    thread.start()
    thread.join()
    assert jobs.active_job() is None
