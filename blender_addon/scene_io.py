"""Reading the active mesh for the engine, and writing the engine's parts back.

``write_back`` is the only function that changes the scene after a run; the
operator calls it once, so the whole result is one undo step.
``clear_results`` removes what an earlier run wrote on the same object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import bpy
import numpy as np

from .result import SegmentationResult

COLOR_ATTRIBUTE = "PartSDF Parts"
PROP_SETTINGS = "partsdf_settings"
PROP_ENGINE = "partsdf_engine_version"
PROP_PARTS = "partsdf_part_count"


class SceneError(Exception):
    """The scene cannot be read or written as asked; the message is for the user."""


@dataclass(frozen=True)
class MeshInput:
    """The base mesh of an object as sent to the engine.

    vertices: (n, 3) float64 world coordinates, in Blender vertex order.
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
    if abs(obj.matrix_world.determinant()) < 1e-12:
        raise SceneError(f"'{obj.name}' has a zero scale: fix its transform first")


def read_mesh(obj) -> MeshInput:
    """The object's base mesh (no modifiers) in world space; flushes unsaved Edit Mode changes first."""
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
    matrix = np.array(obj.matrix_world, np.float64)
    world = co.reshape(-1, 3) @ matrix[:3, :3].T + matrix[:3, 3]
    return MeshInput(world, faces.reshape(-1, 3), polygons, len(mesh.polygons))


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


def srgb_to_linear(color) -> tuple[float, float, float]:
    c = np.asarray(color, np.float64)
    return tuple(float(x) for x in np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4))


def write_back(context, obj, mesh_input: MeshInput, result: SegmentationResult, settings: dict) -> None:
    """Write a result onto ``obj`` (replacing an earlier run's): groups, materials, colours, part objects."""
    clear_results(obj)
    labels = polygon_labels(mesh_input.triangle_polygons, result.face_labels, mesh_input.polygon_count)
    groups = _write_vertex_groups(obj, result)
    materials = _write_materials(obj, result, labels)
    _write_color_attribute(obj.data, result, labels)
    objects = _write_part_objects(context, obj, result, materials) if result.meshes else {}
    state = obj.partsdf
    for part in result.parts:
        item = state.parts.add()
        item.name = groups[part.id]
        item.part_id = part.id
        item.type_name = part.type_name
        item.vertex_count = int(np.count_nonzero(result.vertex_labels == part.id))
        item.color = part.color
        item.material = materials[part.id]
        item.mesh_object = objects.get(part.id)
    state.active_index = 0
    state.color_attribute = COLOR_ATTRIBUTE
    obj[PROP_SETTINGS] = {k: ("auto" if v is None else v) for k, v in settings.items()}
    obj[PROP_ENGINE] = result.engine_version
    obj[PROP_PARTS] = len(result.parts)
    obj.data.update()


def clear_results(obj) -> None:
    """Remove everything an earlier run wrote on ``obj`` (no-op when there is none)."""
    state = obj.partsdf
    mesh = obj.data
    group_names = [item.name for item in state.parts]
    materials = {item.material for item in state.parts if item.material is not None}
    part_objects = [item.mesh_object for item in state.parts if item.mesh_object is not None]
    collection = state.collection
    state.parts.clear()
    state.collection = None
    for name in group_names:
        group = obj.vertex_groups.get(name)
        if group is not None:
            obj.vertex_groups.remove(group)
    for index in reversed(range(len(mesh.materials))):
        if mesh.materials[index] in materials:
            mesh.materials.pop(index=index)
    attribute = mesh.color_attributes.get(state.color_attribute or COLOR_ATTRIBUTE)
    if attribute is not None:
        mesh.color_attributes.remove(attribute)
    _remove_part_objects(part_objects, collection)
    for material in materials:
        if material.users == 0:
            bpy.data.materials.remove(material)
    for key in (PROP_SETTINGS, PROP_ENGINE, PROP_PARTS):
        if key in obj:
            del obj[key]


def _remove_part_objects(part_objects, collection) -> None:
    meshes = [o.data for o in part_objects]
    for part_object in part_objects:
        bpy.data.objects.remove(part_object)
    for mesh in meshes:
        if mesh.users == 0:
            bpy.data.meshes.remove(mesh)
    if collection is not None and len(collection.all_objects) == 0 and not collection.children:
        bpy.data.collections.remove(collection)


def _write_vertex_groups(obj, result: SegmentationResult) -> dict[int, str]:
    names = {}
    for part in result.parts:
        group = obj.vertex_groups.new(name=part.name)
        indices = np.flatnonzero(result.vertex_labels == part.id).tolist()
        if indices:
            group.add(indices, 1.0, "REPLACE")
        names[part.id] = group.name
    return names


def _new_material(name: str, color) -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    linear = (*srgb_to_linear(color), 1.0)
    material.diffuse_color = linear
    if material.node_tree is None:
        material.use_nodes = True
    for node in material.node_tree.nodes:
        if node.type == "BSDF_PRINCIPLED":
            node.inputs["Base Color"].default_value = linear
    return material


def _write_materials(obj, result: SegmentationResult, labels: np.ndarray) -> dict:
    mesh = obj.data
    materials, slot_of = {}, {}
    for part in result.parts:
        materials[part.id] = _new_material(f"{obj.name} {part.name}", part.color)
        mesh.materials.append(materials[part.id])
        slot_of[part.id] = len(mesh.materials) - 1
    lookup = np.zeros(int(max(slot_of)) + 1, np.int64)
    for part_id, slot in slot_of.items():
        lookup[part_id] = slot
    mesh.polygons.foreach_set("material_index", lookup[labels].astype(np.int32))
    return materials


def _write_color_attribute(mesh, result: SegmentationResult, labels: np.ndarray) -> None:
    palette = np.zeros((max(p.id for p in result.parts) + 1, 4), np.float32)
    for part in result.parts:
        palette[part.id] = (*srgb_to_linear(part.color), 1.0)
    loop_polygons = np.repeat(np.arange(len(mesh.polygons)), _loop_totals(mesh))
    attribute = mesh.color_attributes.new(COLOR_ATTRIBUTE, "FLOAT_COLOR", "CORNER")
    attribute.data.foreach_set("color", palette[labels[loop_polygons]].ravel())
    mesh.color_attributes.active_color = attribute


def _loop_totals(mesh) -> np.ndarray:
    totals = np.empty(len(mesh.polygons), np.int64)
    mesh.polygons.foreach_get("loop_total", totals)
    return totals


def _write_part_objects(context, obj, result: SegmentationResult, materials: dict) -> dict:
    """One object per part mesh, in a new '<object> parts' collection, placed with the object's transform."""
    collection = bpy.data.collections.new(f"{obj.name} parts")
    parent = next((c for c in obj.users_collection if c.library is None), context.scene.collection)
    parent.children.link(collection)
    obj.partsdf.collection = collection
    inverse = np.linalg.inv(np.array(obj.matrix_world, np.float64))
    objects = {}
    for part in result.parts:
        if part.id not in result.meshes:
            continue
        vertices, faces = result.meshes[part.id]
        local = vertices @ inverse[:3, :3].T + inverse[:3, 3]
        mesh = bpy.data.meshes.new(f"{obj.name} {part.name}")
        mesh.from_pydata(local.tolist(), [], faces.tolist())
        mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), bool))
        mesh.materials.append(materials[part.id])
        mesh.update()
        part_object = bpy.data.objects.new(mesh.name, mesh)
        part_object.matrix_world = obj.matrix_world.copy()
        part_object.partsdf.source = obj
        collection.objects.link(part_object)
        objects[part.id] = part_object
    return objects


def result_holder(obj):
    """The object whose parts the panel shows: ``obj`` itself or the source of a part object."""
    if obj is None:
        return None
    source = obj.partsdf.source if hasattr(obj, "partsdf") else None
    return source if source is not None else obj


def settings_json(obj) -> str:
    """The recorded run settings of an object as JSON ('' when it has none)."""
    value = obj.get(PROP_SETTINGS)
    return json.dumps(value.to_dict()) if value is not None else ""
