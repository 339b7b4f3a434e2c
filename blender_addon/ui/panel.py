"""The "Parts" tab of the 3D viewport sidebar: settings, Discover Parts, progress, the parts list."""

from __future__ import annotations

import bpy

from ..engine_link import client, runtime, warm
from ..operators import edit, jobs, run
from ..operators.part_list import PARTSDF_OT_select_part, PARTSDF_OT_toggle_part
from ..scene import scene_io
from . import preferences


class PARTSDF_UL_parts(bpy.types.UIList):
    """One row per part: merge tick, colour swatch, editable name, vertex count, lock, select, show/hide."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        row = layout.row(align=True)
        row.prop(item, "selected", text="")
        swatch = row.row()
        swatch.ui_units_x = 1.2
        swatch.prop(item, "color", text="")
        row.prop(item, "label", text="", emboss=False)
        row.label(text=f"{item.vertex_count:,} v")
        row.prop(item, "locked", text="", icon="LOCKED" if item.locked else "UNLOCKED", emboss=False)
        op = row.operator(PARTSDF_OT_select_part.bl_idname, text="", icon="RESTRICT_SELECT_OFF", emboss=False)
        op.index = index
        hidden = item.mesh_object is not None and item.mesh_object.hide_get()
        op = row.operator(
            PARTSDF_OT_toggle_part.bl_idname, text="", icon="HIDE_ON" if hidden else "HIDE_OFF", emboss=False
        )
        op.index = index


class PARTSDF_PT_discover(bpy.types.Panel):
    bl_label = "Part Discovery"
    bl_idname = "PARTSDF_PT_discover"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Parts"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.partsdf.settings
        column = layout.column()
        column.use_property_split = True
        column.use_property_decorate = False
        column.prop(settings, "quality")
        _count_row(column, settings, "parts", "auto_parts")
        types = column.column()
        types.active = settings.features != "dino"  # the shared prototypes decide the types
        _count_row(types, settings, "types", "auto_types")
        column.prop(settings, "features")
        column.prop(settings, "seed")
        column.prop(settings, "build_meshes")
        column.prop(settings, "keep_look")
        column.prop(settings, "live_recluster")
        job = jobs.active_job()
        if job is None:
            config = preferences.engine_config(context)
            if not config.python and not runtime.has_torch(preferences.runtime_folder()):
                preferences.draw_torch_status(layout)
            elif config.keep_warm:
                _warm_up_soon(config)
            row = layout.row()
            row.scale_y = 1.5
            row.operator_context = "INVOKE_DEFAULT"
            row.operator(run.PARTSDF_OT_discover_parts.bl_idname, icon="MOD_EXPLODE")
            return
        if job.parts_written:  # the parts are in the scene; only their meshes are still being built
            layout.label(text=f"'{job.object_name}': {job.parts_written} written", icon="CHECKMARK")
            layout.label(text="Building part meshes...")
        else:
            layout.label(text=f"Running on '{job.object_name}'")
        layout.progress(factor=job.fraction, type="BAR", text=f"{job.stage} {job.fraction * 100:.0f}%")
        layout.operator(run.PARTSDF_OT_cancel.bl_idname, icon="CANCEL",
                        text="Stop Part Meshes" if job.parts_written else "Cancel")


class _WarmUp:
    """What the panel's warm-up did: a timer pending, and the configuration it gave up on."""

    pending = False
    refused: client.EngineConfig | None = None  # the engine could not start, or died after its warm-up
    started: object = None  # the engine the last warm-up started


def _warm_up_soon(config: client.EngineConfig) -> None:
    """Start the warm engine of ``config`` from a timer (not from the draw), so that a click finds Python
    and torch loaded.

    After a file load (which ends the engine) it starts again; an engine that could not start, or died
    after its warm-up, is not retried here: the next run starts one and reports why.
    """
    if _WarmUp.pending or config == _WarmUp.refused or warm.is_ready(config):
        return
    started = _WarmUp.started
    if started is not None and started is warm.current_engine() and not started.alive:
        _WarmUp.refused = config
        return
    _WarmUp.pending = True

    def start() -> None:
        _WarmUp.pending = False
        if jobs.active_job() is not None:
            return
        try:
            _WarmUp.started = warm.prepare(config)
        except OSError:
            _WarmUp.refused = config

    bpy.app.timers.register(start, first_interval=0.0)


def _count_row(layout, settings, name: str, auto_name: str) -> None:
    row = layout.row(heading=settings.bl_rna.properties[name].name)
    row.prop(settings, auto_name)
    sub = row.row()
    sub.enabled = not getattr(settings, auto_name)
    sub.prop(settings, name, text="")


class PARTSDF_PT_parts(bpy.types.Panel):
    bl_label = "Parts"
    bl_idname = "PARTSDF_PT_parts"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Parts"
    bl_parent_id = "PARTSDF_PT_discover"

    @classmethod
    def poll(cls, context):
        holder = scene_io.result_holder(context.active_object)
        return holder is not None and len(holder.partsdf.parts) > 0

    def draw(self, context):
        holder = scene_io.result_holder(context.active_object)
        state = holder.partsdf
        layout = self.layout
        layout.label(text=f"{holder.name}: {len(state.parts)} parts", icon="OBJECT_DATA")
        layout.template_list("PARTSDF_UL_parts", "", state, "parts", state, "active_index", rows=6)
        row = layout.row(align=True)
        row.operator(edit.PARTSDF_OT_merge_parts.bl_idname, icon="AUTOMERGE_ON")
        row.operator(edit.PARTSDF_OT_split_part.bl_idname, text="Split", icon="MOD_EXPLODE")
        row.operator(edit.PARTSDF_OT_isolate_part.bl_idname, text="Isolate", icon="HIDE_OFF")
        row = layout.row(align=True)
        row.operator_context = "INVOKE_DEFAULT"
        row.operator(run.PARTSDF_OT_recluster.bl_idname, icon="FILE_REFRESH")
        row.operator(run.PARTSDF_OT_rebuild_meshes.bl_idname, icon="MESH_ICOSPHERE")
        row = layout.row(align=True)
        split = row.operator(run.PARTSDF_OT_split_by_activations.bl_idname, icon="MOD_EXPLODE")
        split.pieces = context.scene.partsdf.settings.split_pieces
        row.prop(context.scene.partsdf.settings, "split_pieces", text="")
        layout.operator(edit.PARTSDF_OT_separate_parts.bl_idname, icon="MOD_EDGESPLIT")
        if context.active_object is not None and context.active_object.mode == "EDIT":
            row = layout.row(align=True)
            row.operator(edit.PARTSDF_OT_assign_faces.bl_idname, icon="CHECKMARK")
            row.operator(edit.PARTSDF_OT_new_part.bl_idname, icon="ADD")
        version = holder.get(scene_io.PROP_ENGINE)
        if version:
            layout.label(text=f"Engine {version}", icon="INFO")


class PARTSDF_MT_parts(bpy.types.Menu):
    """Every PartSDF operator in one menu (Object and Edit Mode Face menus), so F3 search finds them."""

    bl_label = "PartSDF"
    bl_idname = "PARTSDF_MT_parts"

    def draw(self, context):
        layout = self.layout
        layout.operator_context = "INVOKE_DEFAULT"
        layout.operator(run.PARTSDF_OT_discover_parts.bl_idname)
        layout.operator(run.PARTSDF_OT_recluster.bl_idname)
        layout.operator(run.PARTSDF_OT_split_by_activations.bl_idname)
        layout.operator(run.PARTSDF_OT_rebuild_meshes.bl_idname)
        layout.separator()
        for operator in edit.classes:
            layout.operator(operator.bl_idname)


def _menu_entry(self, context) -> None:
    self.layout.menu(PARTSDF_MT_parts.bl_idname)


classes = (PARTSDF_UL_parts, PARTSDF_PT_discover, PARTSDF_PT_parts, PARTSDF_MT_parts)
MENUS = ("VIEW3D_MT_object", "VIEW3D_MT_edit_mesh_faces")

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register() -> None:
    _register_classes()
    for menu in MENUS:
        getattr(bpy.types, menu).append(_menu_entry)


def unregister() -> None:
    for menu in MENUS:
        getattr(bpy.types, menu).remove(_menu_entry)
    _unregister_classes()
