"""Per-part operators used by the parts list: select and show/hide."""

from __future__ import annotations

import bmesh
import bpy
from bpy.props import IntProperty

from ..scene import part_views, scene_io


def _part(context, index: int):
    """(holder object, part item) for a list index of the active object's results, or (None, None)."""
    holder = scene_io.result_holder(context.active_object)
    if holder is None or not 0 <= index < len(holder.partsdf.parts):
        return None, None
    return holder, holder.partsdf.parts[index]


def _part_faces(obj, item):
    """Edit-mode BMesh faces whose part-id attribute is the part's (the source object must be in Edit Mode)."""
    bm = bmesh.from_edit_mesh(obj.data)
    layer = bm.faces.layers.int.get(part_views.PART_ATTRIBUTE)
    return bm, [] if layer is None else [f for f in bm.faces if f[layer] == item.part_id]


def _resolve(operator, context):
    """(holder, part item, its part object if it is in the view layer); reports and gives item None if absent."""
    holder, item = _part(context, operator.index)
    if item is None:
        operator.report({"ERROR"}, "No such part")
        return holder, None, None
    part_object = item.mesh_object
    if part_object is not None and part_object.name not in context.view_layer.objects:
        part_object = None
    return holder, item, part_object


def _enter_edit_mode(context, obj) -> None:
    for other in context.selected_objects:
        other.select_set(False)
    obj.select_set(True)
    context.view_layer.objects.active = obj
    if obj.mode != "EDIT":
        bpy.ops.object.mode_set(mode="EDIT")


class PARTSDF_OT_select_part(bpy.types.Operator):
    """Select this part: its object when part meshes were built, else its faces in Edit Mode"""

    bl_idname = "partsdf.select_part"
    bl_label = "Select Part"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(name="Index", default=0, min=0)

    def execute(self, context):
        holder, item, part_object = _resolve(self, context)
        if item is None:
            return {"CANCELLED"}
        holder.partsdf.active_index = self.index
        if part_object is not None:
            if holder.mode != "OBJECT":
                bpy.ops.object.mode_set(mode="OBJECT")
            for other in context.selected_objects:
                other.select_set(False)
            part_object.hide_set(False)
            part_object.select_set(True)
            context.view_layer.objects.active = part_object
            return {"FINISHED"}
        _enter_edit_mode(context, holder)
        bm, faces = _part_faces(holder, item)
        for face in bm.faces:
            face.select_set(False)
        for face in faces:
            face.select_set(True)
        bmesh.update_edit_mesh(holder.data)
        return {"FINISHED"}


class PARTSDF_OT_toggle_part(bpy.types.Operator):
    """Show or hide this part: its object when part meshes were built, else its faces in Edit Mode"""

    bl_idname = "partsdf.toggle_part"
    bl_label = "Show/Hide Part"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(name="Index", default=0, min=0)

    def execute(self, context):
        holder, item, part_object = _resolve(self, context)
        if item is None:
            return {"CANCELLED"}
        if part_object is not None:
            part_object.hide_set(not part_object.hide_get())
            return {"FINISHED"}
        _enter_edit_mode(context, holder)
        bm, faces = _part_faces(holder, item)
        hide = not all(f.hide for f in faces)
        for face in faces:
            face.hide_set(hide)
        bmesh.update_edit_mesh(holder.data)
        return {"FINISHED"}


classes = (PARTSDF_OT_select_part, PARTSDF_OT_toggle_part)


register, unregister = bpy.utils.register_classes_factory(classes)
