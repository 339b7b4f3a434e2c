"""The asset's look (materials, UV maps, colour attributes) kept through part discovery.

Showing parts recolours the object's polygons with part materials, so the polygons' own material
indices are saved first in a face attribute (``ORIGINAL_MATERIAL_ATTRIBUTE``) and put back when the
parts are cleared. Part meshes (marching cubes, new vertices) take the look of the nearest original
surface of their part: the material of the nearest polygon per face, UVs and colours interpolated
inside the nearest triangle per face corner (the corner is pulled slightly into its face first, so a
corner on a UV seam reads the island of its own face).
"""

from __future__ import annotations

import numpy as np

ORIGINAL_MATERIAL_ATTRIBUTE = "partsdf_material"
CORNER_INSET = 0.01  # share of the way from a corner to its face's centre where the corner is looked up


def save_original_materials(mesh) -> None:
    """Keep the polygons' material indices (once: an earlier save is the original)."""
    if ORIGINAL_MATERIAL_ATTRIBUTE in mesh.attributes:
        return
    indices = np.empty(len(mesh.polygons), np.int32)
    mesh.polygons.foreach_get("material_index", indices)
    mesh.attributes.new(ORIGINAL_MATERIAL_ATTRIBUTE, "INT", "FACE").data.foreach_set("value", indices)


def original_material_indices(mesh) -> np.ndarray:
    """(p,) int64 material index per polygon as it was before the parts were shown."""
    attribute = mesh.attributes.get(ORIGINAL_MATERIAL_ATTRIBUTE)
    indices = np.empty(len(mesh.polygons), np.int32)
    if attribute is None or attribute.domain != "FACE" or len(attribute.data) != len(mesh.polygons):
        mesh.polygons.foreach_get("material_index", indices)
    else:
        attribute.data.foreach_get("value", indices)
    return indices.astype(np.int64)


def restore_original_materials(mesh) -> None:
    """Put the saved material indices back and drop the saved copy (no-op when none was saved)."""
    if ORIGINAL_MATERIAL_ATTRIBUTE not in mesh.attributes:
        return
    mesh.polygons.foreach_set("material_index", original_material_indices(mesh).astype(np.int32))
    mesh.attributes.remove(mesh.attributes[ORIGINAL_MATERIAL_ATTRIBUTE])


def asset_materials(obj) -> list:
    """The object's own material slots (part materials, appended after them, left out), in slot order."""
    part_materials = {item.material for item in obj.partsdf.parts if item.material is not None}
    return [material for material in obj.data.materials if material not in part_materials]


def _barycentric(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """(k, 3) weights of (k, 3) points (on their triangles) in triangles given as (k, 3, 3) corners."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    v0, v1, v2 = b - a, c - a, points - a
    d00, d01, d11 = (v0 * v0).sum(1), (v0 * v1).sum(1), (v1 * v1).sum(1)
    d20, d21 = (v2 * v0).sum(1), (v2 * v1).sum(1)
    denominator = d00 * d11 - d01 * d01
    safe = np.where(np.abs(denominator) > 1e-30, denominator, 1.0)
    v = np.where(np.abs(denominator) > 1e-30, (d11 * d20 - d01 * d21) / safe, 1 / 3)
    w = np.where(np.abs(denominator) > 1e-30, (d00 * d21 - d01 * d20) / safe, 1 / 3)
    weights = np.stack([1 - v - w, v, w], axis=1)
    return np.clip(weights, 0.0, 1.0) / np.clip(weights, 0.0, 1.0).sum(axis=1, keepdims=True).clip(1e-12)


def _nearest(tree, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, 3) nearest surface points and (k,) triangle indices of (k, 3) query points."""
    found = [tree.find_nearest(point) for point in points.tolist()]
    return np.array([hit[0] for hit in found], np.float64), np.array([hit[2] for hit in found], np.int64)


def _foreach(collection, name: str, count: int, width: int, dtype=np.float64) -> np.ndarray:
    values = np.empty(count * width, dtype)
    collection.foreach_get(name, values)
    return values.reshape(count, width) if width > 1 else values


def transfer_look(source, polygons: np.ndarray, target) -> None:
    """Give ``target`` (a new part mesh in the source's object space) the look of ``source``'s ``polygons``.

    source: the object (its mesh and asset materials are read); polygons: (q,) polygon indices of the
    part on the source mesh; target: a bpy mesh. Sets material slots and indices, one UV map per
    source UV map and one corner colour attribute per source colour attribute.
    """
    from mathutils.bvhtree import BVHTree

    from . import part_views

    mesh = source.data
    mesh.calc_loop_triangles()
    count = len(mesh.loop_triangles)
    triangle_polygons = _foreach(mesh.loop_triangles, "polygon_index", count, 1, np.int64)
    keep = np.flatnonzero(np.isin(triangle_polygons, polygons))
    if len(keep) == 0:
        return
    triangle_vertices = _foreach(mesh.loop_triangles, "vertices", count, 3, np.int64)[keep]
    triangle_loops = _foreach(mesh.loop_triangles, "loops", count, 3, np.int64)[keep]
    triangle_polygons = triangle_polygons[keep]
    co = _foreach(mesh.vertices, "co", len(mesh.vertices), 3)
    tree = BVHTree.FromPolygons(co.tolist(), triangle_vertices.tolist(), all_triangles=True)

    target_co = _foreach(target.vertices, "co", len(target.vertices), 3)
    loop_vertices = _foreach(target.loops, "vertex_index", len(target.loops), 1, np.int64)
    totals = _foreach(target.polygons, "loop_total", len(target.polygons), 1, np.int64)
    loop_faces = np.repeat(np.arange(len(target.polygons)), totals)
    centres = np.zeros((len(target.polygons), 3))
    np.add.at(centres, loop_faces, target_co[loop_vertices])
    centres /= totals[:, None]
    corners = target_co[loop_vertices] * (1 - CORNER_INSET) + centres[loop_faces] * CORNER_INSET
    located, triangles = _nearest(tree, corners)
    weights = _barycentric(located, co[triangle_vertices[triangles]])

    for material in asset_materials(source):
        target.materials.append(material)
    if len(target.materials):
        _, centre_triangles = _nearest(tree, centres)
        indices = original_material_indices(mesh)[triangle_polygons[centre_triangles]]
        target.polygons.foreach_set("material_index", np.clip(indices, 0, len(target.materials) - 1).astype(np.int32))

    for layer in mesh.uv_layers:
        uv = _foreach(layer.data, "uv", len(layer.data), 2)
        values = (uv[triangle_loops[triangles]] * weights[:, :, None]).sum(axis=1)
        target.uv_layers.new(name=layer.name).data.foreach_set("uv", values.astype(np.float32).ravel())
    if mesh.uv_layers.active is not None:
        target.uv_layers.active = target.uv_layers[mesh.uv_layers.active.name]

    for attribute in mesh.color_attributes:
        if attribute.name == part_views.COLOR_ATTRIBUTE or attribute.domain not in ("POINT", "CORNER"):
            continue
        colours = _foreach(attribute.data, "color", len(attribute.data), 4)
        source_index = triangle_vertices if attribute.domain == "POINT" else triangle_loops
        values = (colours[source_index[triangles]] * weights[:, :, None]).sum(axis=1)
        new = target.color_attributes.new(attribute.name, attribute.data_type, "CORNER")
        new.data.foreach_set("color", values.astype(np.float32).ravel())
    if len(target.color_attributes):
        shown = getattr(mesh.color_attributes, "default_color_name", "")  # the one rendered
        target.color_attributes.active_color = target.color_attributes.get(shown) or target.color_attributes[0]
