"""One source of truth for an object's parts, and the views rebuilt from it.

The truth is an integer face attribute (``PART_ATTRIBUTE``: the part id of
each polygon) plus the per-part metadata in ``obj.partsdf.parts`` (label,
type, colour, locked). Vertex groups, material slots and indices, the colour
attribute and the part objects' names are views: ``sync`` rebuilds all of
them, so every edit is "change the ids or the metadata, then sync".
"""

from __future__ import annotations

import numpy as np

PART_ATTRIBUTE = "partsdf_part"
COLOR_ATTRIBUTE = "PartSDF Parts"


def read_part_ids(mesh) -> np.ndarray | None:
    """(p,) int64 part id per polygon, or None when the mesh has no part attribute."""
    attribute = mesh.attributes.get(PART_ATTRIBUTE)
    if attribute is None or attribute.domain != "FACE" or len(attribute.data) != len(mesh.polygons):
        return None
    ids = np.empty(len(mesh.polygons), np.int32)
    attribute.data.foreach_get("value", ids)
    return ids.astype(np.int64)


def write_part_ids(mesh, ids: np.ndarray) -> None:
    """Store (p,) part ids, one per polygon, creating the attribute when needed."""
    attribute = mesh.attributes.get(PART_ATTRIBUTE)
    if attribute is not None and (attribute.domain != "FACE" or attribute.data_type != "INT"):
        mesh.attributes.remove(attribute)
        attribute = None
    if attribute is None:
        attribute = mesh.attributes.new(PART_ATTRIBUTE, "INT", "FACE")
    attribute.data.foreach_set("value", np.asarray(ids, np.int32))


def set_part_ids(obj, ids: np.ndarray) -> None:
    """Store (p,) part ids on ``obj``'s polygons and rebuild every view from them."""
    write_part_ids(obj.data, ids)
    sync(obj)


def add_part(obj, part_id: int, label: str, color, type_name: str = ""):
    """Append a part's metadata to ``obj`` without running sync (the caller syncs once at the end)."""
    item = obj.partsdf.parts.add()
    item["label"] = label  # keys set directly: the label and colour update callbacks would sync each time
    item.name = label
    item.part_id = int(part_id)
    item.type_name = type_name
    item["color"] = tuple(color)
    return item


def vertex_part_ids(mesh, face_ids: np.ndarray) -> np.ndarray:
    """(n,) part id per vertex: the part of most of its polygons (lowest id on a tie); -1 when loose."""
    loops = np.empty(len(mesh.loops), np.int64)
    mesh.loops.foreach_get("vertex_index", loops)
    totals = np.empty(len(mesh.polygons), np.int64)
    mesh.polygons.foreach_get("loop_total", totals)
    loop_parts = np.repeat(face_ids, totals)
    pairs, counts = np.unique(np.stack([loops, loop_parts], axis=1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.ones(len(pairs), bool)
    first[1:] = pairs[1:, 0] != pairs[:-1, 0]
    result = np.full(len(mesh.vertices), -1, np.int64)
    result[pairs[first, 0]] = pairs[first, 1]
    return result


def srgb_to_linear(color) -> tuple[float, float, float]:
    c = np.asarray(color, np.float64)
    return tuple(float(x) for x in np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4))


def sync(obj) -> None:
    """Rebuild every view of ``obj``'s parts from its part-id attribute and part metadata.

    Parts left without faces are removed with their views; a name change
    follows into the vertex group, the material and the part object.
    """
    import bpy

    mesh = obj.data
    state = obj.partsdf
    ids = read_part_ids(mesh)
    if ids is None:
        return
    present = set(np.unique(ids).tolist())
    for index in reversed(range(len(state.parts))):
        if state.parts[index].part_id not in present:
            remove_views(obj, state.parts[index])
            state.parts.remove(index)
    vertex_ids = vertex_part_ids(mesh, ids)
    slot_of = {}
    for item in state.parts:
        item.name = item.label
        _sync_group(obj, item, np.flatnonzero(vertex_ids == item.part_id))
        material = item.material
        if material is None:
            material = item.material = bpy.data.materials.new(f"{obj.name} {item.label}")
        material.name = f"{obj.name} {item.label}"
        _set_material_color(material, item.color)
        slot = next((i for i, m in enumerate(mesh.materials) if m == material), None)
        if slot is None:
            mesh.materials.append(material)
            slot = len(mesh.materials) - 1
        slot_of[item.part_id] = slot
        if item.mesh_object is not None:
            item.mesh_object.name = item.mesh_object.data.name = f"{obj.name} {item.label}"
    lookup = np.zeros(max(max(slot_of), int(ids.max())) + 1, np.int64)
    for part_id, slot in slot_of.items():
        lookup[part_id] = slot
    mesh.polygons.foreach_set("material_index", lookup[ids].astype(np.int32))
    _write_color_attribute(mesh, state, ids)
    state.active_index = min(state.active_index, max(len(state.parts) - 1, 0))
    mesh.update()


def rename(obj, item) -> None:
    """Give the part's views its current label: vertex group, material and part object (no rebuild)."""
    item.name = item.label
    group = obj.vertex_groups.get(item.group_name) if item.group_name else None
    if group is not None:
        group.name = item.label
        item.group_name = group.name
    if item.material is not None:
        item.material.name = f"{obj.name} {item.label}"
    if item.mesh_object is not None:
        item.mesh_object.name = item.mesh_object.data.name = f"{obj.name} {item.label}"


def recolor(obj, item) -> None:
    """Give the part's material and its corners of the colour attribute its current colour (no rebuild)."""
    if item.material is not None:
        _set_material_color(item.material, item.color)
    mesh = obj.data
    ids = read_part_ids(mesh)
    attribute = mesh.color_attributes.get(COLOR_ATTRIBUTE)
    if ids is None or attribute is None or attribute.domain != "CORNER" or len(attribute.data) != len(mesh.loops):
        return
    totals = np.empty(len(mesh.polygons), np.int64)
    mesh.polygons.foreach_get("loop_total", totals)
    colors = np.empty(len(mesh.loops) * 4, np.float32)
    attribute.data.foreach_get("color", colors)
    colors = colors.reshape(-1, 4)
    colors[np.repeat(ids == item.part_id, totals)] = (*srgb_to_linear(item.color), 1.0)
    attribute.data.foreach_set("color", colors.ravel())
    mesh.update()


def _sync_group(obj, item, vertices: np.ndarray) -> None:
    """Recreate the part's vertex group under its current label with exactly ``vertices``."""
    old = obj.vertex_groups.get(item.group_name) if item.group_name else None
    if old is not None:
        obj.vertex_groups.remove(old)
    group = obj.vertex_groups.new(name=item.label)
    if len(vertices):
        group.add(vertices.tolist(), 1.0, "REPLACE")
    item.group_name = group.name
    item.vertex_count = len(vertices)


def remove_views(obj, item) -> None:
    """Delete a removed part's vertex group, material slot (and unused material) and part object."""
    import bpy

    group = obj.vertex_groups.get(item.group_name) if item.group_name else None
    if group is not None:
        obj.vertex_groups.remove(group)
    remove_part_object(item)
    material = item.material
    item.material = None  # the pointer property is a user of the material
    if material is not None:
        for index in reversed(range(len(obj.data.materials))):
            if obj.data.materials[index] == material:
                obj.data.materials.pop(index=index)
        if material.users == 0:
            bpy.data.materials.remove(material)


def remove_part_object(item) -> None:
    """Delete the part's mesh object (and its mesh when nothing else uses it)."""
    import bpy

    part_object = item.mesh_object
    if part_object is None:
        return
    item.mesh_object = None
    data = part_object.data
    bpy.data.objects.remove(part_object)
    if data is not None and data.users == 0:
        bpy.data.meshes.remove(data)


def _set_material_color(material, color) -> None:
    """Viewport colour and Principled base colour; node trees are turned on only where Blender needs it (< 5.0)."""
    linear = (*srgb_to_linear(color), 1.0)
    material.diffuse_color = linear
    if material.node_tree is None:
        material.use_nodes = True  # deprecated in 5.0, where every new material has its node tree
    for node in material.node_tree.nodes:
        if node.type == "BSDF_PRINCIPLED":
            node.inputs["Base Color"].default_value = linear


def _write_color_attribute(mesh, state, ids: np.ndarray) -> None:
    palette = np.zeros((int(ids.max()) + 1, 4), np.float32)
    for item in state.parts:
        palette[item.part_id] = (*srgb_to_linear(item.color), 1.0)
    attribute = mesh.color_attributes.get(COLOR_ATTRIBUTE)
    if attribute is not None:
        mesh.color_attributes.remove(attribute)
    totals = np.empty(len(mesh.polygons), np.int64)
    mesh.polygons.foreach_get("loop_total", totals)
    attribute = mesh.color_attributes.new(COLOR_ATTRIBUTE, "FLOAT_COLOR", "CORNER")
    attribute.data.foreach_set("color", palette[np.repeat(ids, totals)].ravel())
    mesh.color_attributes.active_color = attribute
