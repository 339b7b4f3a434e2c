"""Editing discovered parts: merge, split into connected pieces, assign faces, new part, isolate.

Every operator changes the part-id face attribute or the part metadata, then
calls ``part_views.sync``; each is one undo step and reports what it changed.
Part meshes of parts whose faces changed are removed (they no longer match);
Rebuild Part Meshes makes new ones from the edited ids.
"""

from __future__ import annotations

import bpy
import numpy as np

from ..engine_link.contract import part_color
from ..scene import look, part_views, scene_io


def _holder(context):
    """The active object's result holder when it has parts, else None."""
    return scene_io.parts_holder(context.active_object)


def _poll_parts(cls, context) -> bool:
    if _holder(context) is None:
        cls.poll_message_set("Select an object with discovered parts")
        return False
    return True


class _ObjectModeEdit:
    """Leaves Edit Mode for the edit (reading the face selection first) and returns to it afterwards."""

    def __init__(self, obj):
        self.obj = obj
        self.was_edit = obj.mode == "EDIT"

    def __enter__(self) -> np.ndarray:
        if self.was_edit:  # in Edit Mode the mesh's arrays are empty: the data lives in the edit BMesh
            with bpy.context.temp_override(active_object=self.obj, object=self.obj):
                bpy.ops.object.mode_set(mode="OBJECT")
        selected = np.zeros(len(self.obj.data.polygons), bool)
        self.obj.data.polygons.foreach_get("select", selected)
        return selected

    def __exit__(self, *exc) -> None:
        if self.was_edit:
            with bpy.context.temp_override(active_object=self.obj, object=self.obj):
                bpy.ops.object.mode_set(mode="EDIT")


def _active_item(obj):
    """The part item selected in the list (clamped to the list)."""
    state = obj.partsdf
    return state.parts[min(state.active_index, len(state.parts) - 1)]


def _items_by_id(obj) -> dict:
    return {item.part_id: item for item in obj.partsdf.parts}


def _drop_stale_meshes(obj, part_ids) -> None:
    items = _items_by_id(obj)
    for part_id in part_ids:
        if part_id in items:
            part_views.remove_part_object(items[part_id])


def merge_ids(ids: np.ndarray, merged: list[int], target: int) -> np.ndarray:
    """(p,) ids with every id in ``merged`` replaced by ``target``."""
    return np.where(np.isin(ids, merged), target, ids)


def connected_pieces(polygon_vertices: list[np.ndarray], vertex_count: int) -> np.ndarray:
    """(p,) piece index 0..k-1 of each polygon; polygons sharing a vertex are in one piece.

    Min-label propagation between polygons and vertices (numpy only: Blender's
    Python has no scipy).
    """
    rows = np.concatenate([np.full(len(v), i) for i, v in enumerate(polygon_vertices)])
    cols = np.concatenate(polygon_vertices)
    labels = np.arange(len(polygon_vertices))
    while True:
        at_vertex = np.full(vertex_count, len(labels))
        np.minimum.at(at_vertex, cols, labels[rows])
        updated = labels.copy()
        np.minimum.at(updated, rows, at_vertex[cols])
        if np.array_equal(updated, labels):
            return np.unique(labels, return_inverse=True)[1]
        labels = updated


class PARTSDF_OT_merge_parts(bpy.types.Operator):
    """Merge the parts ticked in the list (or, in Edit Mode, those under the selected faces) into one"""

    bl_idname = "partsdf.merge_parts"
    bl_label = "Merge Parts"
    bl_options = {"REGISTER", "UNDO"}

    poll = classmethod(_poll_parts)

    def execute(self, context):
        obj = _holder(context)
        in_edit_mode = obj.mode == "EDIT"
        with _ObjectModeEdit(obj) as selected:
            ids = part_views.read_part_ids(obj.data)
            if not in_edit_mode or any(item.selected for item in obj.partsdf.parts):
                chosen = [item.part_id for item in obj.partsdf.parts if item.selected]
            else:
                chosen = sorted(set(ids[selected].tolist()))
            items = _items_by_id(obj)
            locked = [items[i].label for i in chosen if items[i].locked]
            chosen = [i for i in chosen if not items[i].locked]
            if len(chosen) < 2:
                self.report({"WARNING"}, "Merge needs two or more unlocked parts: tick them in the list"
                            + (f" (locked: {', '.join(locked)})" if locked else ""))
                return {"CANCELLED"}
            target = chosen[0]
            names = [items[i].label for i in chosen]
            _drop_stale_meshes(obj, chosen)
            for item in obj.partsdf.parts:
                item.selected = False
            part_views.set_part_ids(obj, merge_ids(ids, chosen, target))
        self.report({"INFO"}, f"Merged {', '.join(names)} into {names[0]}")
        return {"FINISHED"}


class PARTSDF_OT_split_part(bpy.types.Operator):
    """Split the active part into its connected pieces (each becomes a part)"""

    bl_idname = "partsdf.split_part"
    bl_label = "Split into Connected Pieces"
    bl_options = {"REGISTER", "UNDO"}

    poll = classmethod(_poll_parts)

    def execute(self, context):
        obj = _holder(context)
        item = _active_item(obj)
        if item.locked:
            self.report({"WARNING"}, f"{item.label} is locked")
            return {"CANCELLED"}
        with _ObjectModeEdit(obj):
            ids = part_views.read_part_ids(obj.data)
            faces = np.flatnonzero(ids == item.part_id)
            polygons = obj.data.polygons
            pieces = connected_pieces([np.array(polygons[i].vertices) for i in faces], len(obj.data.vertices))
            count = int(pieces.max()) + 1
            if count < 2:
                self.report({"WARNING"}, f"{item.label} is one connected piece")
                return {"CANCELLED"}
            source = item.label, item.type_name, item.part_id
            _drop_stale_meshes(obj, [item.part_id])
            next_id = int(ids.max()) + 1
            for piece in range(1, count):
                new_id = next_id + piece - 1
                ids[faces[pieces == piece]] = new_id
                part_views.add_part(obj, new_id, f"{source[0]}.{piece}", part_color(new_id), source[1])
            part_views.set_part_ids(obj, ids)
        self.report({"INFO"}, f"Split {source[0]} into {count} parts")
        return {"FINISHED"}


class PARTSDF_OT_assign_faces(bpy.types.Operator):
    """Give the selected faces to the active part (Edit Mode)"""

    bl_idname = "partsdf.assign_faces"
    bl_label = "Assign to Part"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not _poll_parts(cls, context):
            return False
        if context.active_object.mode != "EDIT":
            cls.poll_message_set("Select faces in Edit Mode first")
            return False
        return True

    def execute(self, context):
        obj = _holder(context)
        item = _active_item(obj)
        with _ObjectModeEdit(obj) as selected:
            if not selected.any():
                self.report({"WARNING"}, "No faces selected")
                return {"CANCELLED"}
            ids = part_views.read_part_ids(obj.data)
            changed = sorted(set(ids[selected].tolist()) | {item.part_id})
            _drop_stale_meshes(obj, changed)
            ids[selected] = item.part_id
            label = item.label
            part_views.set_part_ids(obj, ids)
        self.report({"INFO"}, f"{int(selected.sum())} faces assigned to {label}")
        return {"FINISHED"}


class PARTSDF_OT_new_part(bpy.types.Operator):
    """Make a new part from the selected faces (Edit Mode)"""

    bl_idname = "partsdf.new_part"
    bl_label = "New Part from Selection"
    bl_options = {"REGISTER", "UNDO"}

    poll = PARTSDF_OT_assign_faces.poll

    def execute(self, context):
        obj = _holder(context)
        state = obj.partsdf
        with _ObjectModeEdit(obj) as selected:
            if not selected.any():
                self.report({"WARNING"}, "No faces selected")
                return {"CANCELLED"}
            ids = part_views.read_part_ids(obj.data)
            _drop_stale_meshes(obj, sorted(set(ids[selected].tolist())))
            new_id = int(ids.max()) + 1
            ids[selected] = new_id
            label = part_views.add_part(obj, new_id, f"Part {new_id + 1:02d}", part_color(new_id)).label
            part_views.set_part_ids(obj, ids)
            state.active_index = len(state.parts) - 1
        self.report({"INFO"}, f"New part {label} from {int(selected.sum())} faces")
        return {"FINISHED"}


class PARTSDF_OT_isolate_part(bpy.types.Operator):
    """Show only the active part: its object alone, or in Edit Mode only its faces"""

    bl_idname = "partsdf.isolate_part"
    bl_label = "Isolate Part"
    bl_options = {"REGISTER", "UNDO"}

    poll = classmethod(_poll_parts)

    def execute(self, context):
        obj = _holder(context)
        state = obj.partsdf
        item = _active_item(obj)
        objects = [p.mesh_object for p in state.parts if p.mesh_object is not None]
        if obj.mode != "EDIT" and item.mesh_object is not None:
            for part_object in objects:
                part_object.hide_set(part_object != item.mesh_object)
        else:
            with _ObjectModeEdit(obj):
                hide = part_views.read_part_ids(obj.data) != item.part_id
                obj.data.polygons.foreach_set("hide", hide)
                obj.data.update()
        self.report({"INFO"}, f"Showing only {item.label}")
        return {"FINISHED"}


def separate_parts(context, obj, cap_holes: bool, keep_look: bool = True) -> list:
    """One new object per part holding a copy of the part's faces (``obj`` is left as it is).

    With ``cap_holes`` each opening left by the cut is filled with a polygon. With ``keep_look`` the
    copies keep the object's materials (UVs and colour attributes come with the faces), else each is
    in its part's colour. The copies go into a new '<object> separated' collection (replacing an
    earlier one). Returns the new objects.
    """
    import bmesh

    name = f"{obj.name} separated"
    old = bpy.data.collections.get(name)
    if old is not None:
        for member in list(old.objects):
            data = member.data
            bpy.data.objects.remove(member)
            if data is not None and data.users == 0:
                bpy.data.meshes.remove(data)
        bpy.data.collections.remove(old)
    collection = bpy.data.collections.new(name)
    parent = next((c for c in obj.users_collection if c.library is None), context.scene.collection)
    parent.children.link(collection)
    ids = part_views.read_part_ids(obj.data)
    created = []
    for item in obj.partsdf.parts:
        bm = bmesh.new()
        bm.from_mesh(obj.data)
        bm.faces.ensure_lookup_table()
        bmesh.ops.delete(bm, geom=[f for f in bm.faces if ids[f.index] != item.part_id], context="FACES")
        bmesh.ops.delete(bm, geom=[v for v in bm.verts if not v.link_faces], context="VERTS")
        if cap_holes:
            bmesh.ops.holes_fill(bm, edges=[e for e in bm.edges if e.is_boundary], sides=0)
            left = [e for e in bm.edges if e.is_boundary]  # openings holes_fill cannot take (shared corners)
            if left:
                bmesh.ops.triangle_fill(bm, use_beauty=True, use_dissolve=False, edges=left)
        mesh = bpy.data.meshes.new(f"{obj.name} {item.label}")
        bm.to_mesh(mesh)
        bm.free()
        if keep_look:
            _keep_asset_materials(obj, mesh)
        else:
            mesh.materials.append(item.material)
            mesh.polygons.foreach_set("material_index", np.zeros(len(mesh.polygons), np.int32))
        copy = bpy.data.objects.new(mesh.name, mesh)
        copy.matrix_world = obj.matrix_world.copy()
        copy.partsdf.source = obj  # never segmented again by a batch run; selecting it shows obj's parts
        collection.objects.link(copy)
        created.append(copy)
    return created


def _keep_asset_materials(obj, mesh) -> None:
    """Give a copy of some of ``obj``'s faces (the saved material indices came with them) the object's
    own materials, and drop the part views it copied (part colours, part ids, saved indices)."""
    for material in look.asset_materials(obj):
        mesh.materials.append(material)
    indices = look.original_material_indices(mesh)
    mesh.polygons.foreach_set("material_index", np.clip(indices, 0, max(len(mesh.materials) - 1, 0)).astype(np.int32))
    for name in (part_views.COLOR_ATTRIBUTE, part_views.PART_ATTRIBUTE, look.ORIGINAL_MATERIAL_ATTRIBUTE):
        if name in mesh.attributes:
            mesh.attributes.remove(mesh.attributes[name])


class PARTSDF_OT_separate_parts(bpy.types.Operator):
    """Copy the mesh into one object per part (the original stays), optionally capping the cut openings"""

    bl_idname = "partsdf.separate_parts"
    bl_label = "Separate Parts"
    bl_options = {"REGISTER", "UNDO"}

    cap_holes: bpy.props.BoolProperty(name="Cap Holes", default=True, description="Fill the openings left by the cut")
    poll = classmethod(_poll_parts)

    def execute(self, context):
        obj = _holder(context)
        with _ObjectModeEdit(obj):
            created = separate_parts(context, obj, self.cap_holes, context.scene.partsdf.settings.keep_look)
        self.report({"INFO"}, f"{len(created)} part copies in '{obj.name} separated'")
        return {"FINISHED"}


classes = (
    PARTSDF_OT_merge_parts,
    PARTSDF_OT_split_part,
    PARTSDF_OT_assign_faces,
    PARTSDF_OT_new_part,
    PARTSDF_OT_isolate_part,
    PARTSDF_OT_separate_parts,
)


register, unregister = bpy.utils.register_classes_factory(classes)
