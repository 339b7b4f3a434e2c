"""Reading the active mesh for the engine, and writing the engine's parts back.

``write_back`` is the only function that changes the scene after a run; the
operator calls it once, so the whole result is one undo step.
``clear_results`` removes what an earlier run wrote on the same object.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from ..engine_link.contract import part_color
from ..engine_link.result import SegmentationResult
from . import look, part_views

PROP_SETTINGS = "partsdf_settings"
PROP_ENGINE = "partsdf_engine_version"
PROP_PARTS = "partsdf_part_count"
PROP_MODEL_KEY = "partsdf_model_key"


class SceneError(Exception):
    """The scene cannot be read or written as asked; the message is for the user."""


@dataclass(frozen=True)
class MeshInput:
    """The base mesh of an object as sent to the engine.

    vertices: (n, 3) float64 object-space coordinates, in Blender vertex order (the object's
    transform is not applied: moving, rotating or scaling it changes nothing the engine sees).
    faces: (m, 3) int64 triangles (loop triangles) indexing ``vertices``.
    triangle_polygons: (m,) int64 polygon index of each triangle.
    """

    vertices: np.ndarray
    faces: np.ndarray
    triangle_polygons: np.ndarray
    polygon_count: int


def check_object(obj) -> None:
    """Raise SceneError unless ``obj`` is a local mesh object with faces."""
    if obj is None:
        raise SceneError("Nothing is active: select a mesh object first")
    if obj.type != "MESH":
        raise SceneError(f"'{obj.name}' is a {obj.type.lower()} object, not a mesh: select a mesh object")
    if obj.library is not None or obj.data.library is not None:
        raise SceneError(f"'{obj.name}' is linked from a library: make it local first")


def read_mesh(obj) -> MeshInput:
    """The object's base mesh (no modifiers) in object space; flushes unsaved Edit Mode changes first."""
    check_object(obj)
    if obj.mode == "EDIT":
        obj.update_from_editmode()
    mesh = obj.data
    if len(mesh.vertices) == 0 or len(mesh.polygons) == 0:
        raise SceneError(f"'{obj.name}' has an empty mesh (no faces): nothing to segment")
    mesh.calc_loop_triangles()
    co = np.empty(len(mesh.vertices) * 3, np.float64)
    mesh.vertices.foreach_get("co", co)
    faces = np.empty(len(mesh.loop_triangles) * 3, np.int64)
    mesh.loop_triangles.foreach_get("vertices", faces)
    polygons = np.empty(len(mesh.loop_triangles), np.int64)
    mesh.loop_triangles.foreach_get("polygon_index", polygons)
    return MeshInput(co.reshape(-1, 3), faces.reshape(-1, 3), polygons, len(mesh.polygons))


def mesh_matches(obj, mesh_input: MeshInput) -> bool:
    """Whether the object's mesh still has the vertex and polygon counts the engine saw."""
    mesh = obj.data
    return len(mesh.vertices) == len(mesh_input.vertices) and len(mesh.polygons) == mesh_input.polygon_count


def polygon_labels(triangle_polygons: np.ndarray, face_labels: np.ndarray, polygon_count: int) -> np.ndarray:
    """(p,) part id of each polygon: the label held by most of its triangles."""
    pairs, counts = np.unique(np.stack([triangle_polygons, face_labels], axis=1), axis=0, return_counts=True)
    order = np.lexsort((-counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.ones(len(pairs), bool)
    first[1:] = pairs[1:, 0] != pairs[:-1, 0]
    labels = np.zeros(polygon_count, np.int64)
    labels[pairs[first, 0]] = pairs[first, 1]
    return labels


def write_back(context, obj, mesh_input: MeshInput, result: SegmentationResult, settings: dict) -> None:
    """Write a result onto ``obj`` (replacing an earlier run's): part ids and metadata, then their views."""
    clear_results(obj)
    look.save_original_materials(obj.data)
    labels = polygon_labels(mesh_input.triangle_polygons, result.face_labels, mesh_input.polygon_count)
    state = obj.partsdf
    for part in result.parts:
        part_views.add_part(obj, part.id, part.name, part.color, part.type_name)
    part_views.set_part_ids(obj, labels)
    if result.meshes:
        replace_part_objects(context, obj, result)
    state.active_index = 0
    obj[PROP_SETTINGS] = {k: ("auto" if v is None else v) for k, v in settings.items()}
    obj[PROP_ENGINE] = result.engine_version
    obj[PROP_PARTS] = len(result.parts)
    obj.data.update()


def clear_results(obj) -> None:
    """Remove everything an earlier run wrote on ``obj`` (no-op when there is none)."""
    state = obj.partsdf
    mesh = obj.data
    collection = state.collection
    for item in state.parts:
        part_views.remove_views(obj, item)
    state.parts.clear()
    state.collection = None
    if part_views.COLOR_ATTRIBUTE in mesh.color_attributes:
        mesh.color_attributes.remove(mesh.color_attributes[part_views.COLOR_ATTRIBUTE])
    if part_views.PART_ATTRIBUTE in mesh.attributes:
        mesh.attributes.remove(mesh.attributes[part_views.PART_ATTRIBUTE])
    look.restore_original_materials(mesh)
    if collection is not None and len(collection.all_objects) == 0 and not collection.children:
        bpy.data.collections.remove(collection)
    for key in (PROP_SETTINGS, PROP_ENGINE, PROP_PARTS, PROP_MODEL_KEY):
        if key in obj:
            del obj[key]


def new_part_object(obj, item, vertices: np.ndarray, faces: np.ndarray, keep_look: bool = True):
    """A part object from (k, 3) object-space vertices and (f, 3) triangles, in ``obj``'s parts collection.

    It takes ``obj``'s current transform, so it sits on the part wherever the object was moved. With
    ``keep_look`` it carries the materials, UVs and colours of the part's own faces (``look``), else
    the part's colour.
    """
    mesh = bpy.data.meshes.new(f"{obj.name} {item.label}")
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), bool))
    if keep_look:
        look.transfer_look(obj, np.flatnonzero(part_views.read_part_ids(obj.data) == item.part_id), mesh)
    else:
        mesh.materials.append(item.material)
    mesh.update()
    part_object = bpy.data.objects.new(mesh.name, mesh)
    part_object.matrix_world = obj.matrix_world.copy()
    part_object.partsdf.source = obj
    obj.partsdf.collection.objects.link(part_object)
    return part_object


def result_holder(obj):
    """The object whose parts the panel shows: ``obj`` itself or the source of a part object."""
    if obj is None:
        return None
    source = obj.partsdf.source if hasattr(obj, "partsdf") else None
    return source if source is not None else obj


def parts_holder(obj):
    """``result_holder(obj)`` when it is a mesh with discovered parts, else None."""
    holder = result_holder(obj)
    if holder is None or holder.type != "MESH" or len(holder.partsdf.parts) == 0:
        return None
    return holder


def apply_recluster(obj, mesh_input: MeshInput, result: SegmentationResult) -> tuple[int, int]:
    """Replace the unlocked parts of ``obj`` by a re-clustering; locked parts keep their faces and metadata.

    Returns (new parts, locked parts kept). Part objects of replaced parts are removed (rebuild makes new ones).
    """
    state = obj.partsdf
    old_ids = part_views.read_part_ids(obj.data)
    locked = {item.part_id for item in state.parts if item.locked}
    new_ids = polygon_labels(mesh_input.triangle_polygons, result.face_labels, mesh_input.polygon_count)
    keep = np.isin(old_ids, list(locked)) if locked else np.zeros(len(old_ids), bool)
    offset = max(locked) + 1 if locked else 0
    ids = np.where(keep, old_ids, new_ids + offset)
    for index in reversed(range(len(state.parts))):
        if not state.parts[index].locked:
            part_views.remove_views(obj, state.parts[index])
            state.parts.remove(index)
    present = set(np.unique(ids[~keep]).tolist())
    kept_colors = {tuple(round(c, 4) for c in item.color) for item in state.parts}
    for part in result.parts:
        if part.id + offset in present:
            taken = tuple(round(c, 4) for c in part.color) in kept_colors
            color = part_color(part.id + offset) if taken else part.color
            part_views.add_part(obj, part.id + offset, part.name, color, part.type_name)
    part_views.set_part_ids(obj, ids)
    return len(present), len(locked)


def replace_part_objects(context, obj, result: SegmentationResult) -> tuple[int, str]:
    """Swap every part object of ``obj`` for the result's meshes, matched by part id.

    Returns the number of part objects written and the labels of parts the engine
    gave no mesh ('' when every part got one).
    """
    state = obj.partsdf
    for item in state.parts:
        part_views.remove_part_object(item)
    if state.collection is None or state.collection.name not in bpy.data.collections:
        collection = bpy.data.collections.new(f"{obj.name} parts")
        parent = next((c for c in obj.users_collection if c.library is None), context.scene.collection)
        parent.children.link(collection)
        state.collection = collection
    written, without = 0, []
    keep_look = context.scene.partsdf.settings.keep_look
    for item in state.parts:
        if item.part_id in result.meshes:
            item.mesh_object = new_part_object(obj, item, *result.meshes[item.part_id], keep_look=keep_look)
            written += 1
        else:
            without.append(item.label)
    return written, ", ".join(without)


def apply_split(obj, mesh_input: MeshInput, result: SegmentationResult, split_id: int) -> tuple[str, int]:
    """Take a split of part ``split_id`` onto ``obj``: only its faces change.

    The engine keeps the object's part ids; its new pieces have ids after the last one.
    Returns the split part's label and its number of pieces.
    """
    state = obj.partsdf
    old_ids = part_views.read_part_ids(obj.data)
    proposed = polygon_labels(mesh_input.triangle_polygons, result.face_labels, mesh_input.polygon_count)
    known = {item.part_id for item in state.parts}
    is_new = ~np.isin(proposed, list(known))
    ids = np.where((old_ids == split_id) & is_new, proposed, old_ids)
    source = next(item for item in state.parts if item.part_id == split_id)
    part_views.remove_part_object(source)
    present = set(np.unique(ids).tolist())
    new_parts = [part for part in result.parts if part.id not in known and part.id in present]
    for number, part in enumerate(new_parts, start=1):
        part_views.add_part(obj, part.id, f"{source.label}.{number}", part_color(part.id),
                            part.type_name)
    label = source.label
    part_views.set_part_ids(obj, ids)
    return label, len(new_parts) + 1
