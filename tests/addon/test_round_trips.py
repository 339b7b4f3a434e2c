"""Round trips the way artists work: the object moved, one face made a part, a material changed, N pieces."""

from __future__ import annotations

import warnings

import bpy
import numpy as np
import pytest
from conftest import make_lollipop
from test_edit_parts import assert_views_match_ids, ids_of
from test_operator import discover

from blender_addon.scene import part_views


@pytest.mark.parametrize("transform", ["location", "rotation_euler", "scale"])
def test_moving_rotating_or_scaling_keeps_the_cached_model(parts, transform):
    setattr(parts, transform, (0.4, -2.0, 3.0) if transform != "scale" else (0.5, 2.0, 1.0))
    bpy.context.view_layer.update()
    assert bpy.ops.partsdf.recluster() == {"FINISHED"}
    assert bpy.ops.partsdf.rebuild_meshes() == {"FINISHED"}
    for item in parts.partsdf.parts:  # the rebuilt meshes follow the object where it stands now
        np.testing.assert_allclose(np.array(item.mesh_object.matrix_world), np.array(parts.matrix_world),
                                   atol=1e-6)
    assert_views_match_ids(parts)


def test_an_edited_mesh_still_invalidates_the_cached_model(parts):
    parts.location = (5.0, 0.0, 0.0)
    parts.data.vertices[0].co.x += 0.01
    with pytest.raises(RuntimeError, match="changed since its parts were discovered"):
        bpy.ops.partsdf.recluster()


def _face_without_own_vertex(obj) -> int:
    """A polygon whose vertices all lie on earlier triangles: the fake engine gives such a part no vertex."""
    mesh = obj.data
    mesh.calc_loop_triangles()
    seen: set[int] = set()
    owner: dict[int, int] = {}
    for triangle in mesh.loop_triangles:
        for vertex in triangle.vertices:
            owner.setdefault(vertex, triangle.polygon_index)
    for polygon in reversed(mesh.polygons):
        if all(owner[v] != polygon.index for v in polygon.vertices) and polygon.index not in seen:
            return polygon.index
    raise AssertionError("no such polygon")


def _new_part_from(obj, polygons) -> int:
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="DESELECT")
    bpy.ops.object.mode_set(mode="OBJECT")
    for index in polygons:
        obj.data.polygons[index].select = True
    bpy.ops.object.mode_set(mode="EDIT")
    assert bpy.ops.partsdf.new_part() == {"FINISHED"}
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj.partsdf.parts[obj.partsdf.active_index].part_id


def test_a_one_face_part_gets_a_clear_note_and_no_other_parts_mesh(parts):
    one = _new_part_from(parts, [_face_without_own_vertex(parts)])
    assert bpy.ops.partsdf.rebuild_meshes() == {"FINISHED"}
    ids = ids_of(parts)
    centers = np.array([p.center for p in parts.data.polygons])
    items = {item.part_id: item for item in parts.partsdf.parts}
    assert one in items and items[one].mesh_object is None
    meshed = [part_id for part_id in items if part_id != one]
    for part_id in meshed:
        box = np.array([v.co for v in items[part_id].mesh_object.data.vertices])
        inside = ((centers >= box.min(0) - 1e-3) & (centers <= box.max(0) + 1e-3)).all(axis=1)
        shares = {other: inside[ids == other].mean() for other in meshed}
        assert max(shares, key=shares.get) == part_id, f"{items[part_id].label} got another part's mesh"


def test_select_and_hide_find_the_part_by_its_attribute_after_a_material_edit(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    scene.partsdf.settings.build_meshes = False
    obj = make_lollipop()
    assert discover() == {"FINISHED"}
    ids = ids_of(obj)
    user = bpy.data.materials.new("Artist's paint")
    obj.data.materials.append(user)
    slots = np.array([p.material_index for p in obj.data.polygons])
    slots[ids == 1] = len(obj.data.materials) - 1  # part 1 repainted with another material
    obj.data.polygons.foreach_set("material_index", slots.astype(np.int32))
    assert bpy.ops.partsdf.select_part(index=1) == {"FINISHED"}
    bpy.ops.object.mode_set(mode="OBJECT")
    selected = np.array([p.select for p in obj.data.polygons])
    np.testing.assert_array_equal(selected, ids == 1)
    assert bpy.ops.partsdf.toggle_part(index=1) == {"FINISHED"}
    bpy.ops.object.mode_set(mode="OBJECT")
    hidden = np.array([p.hide for p in obj.data.polygons])
    np.testing.assert_array_equal(hidden, ids == 1)


def test_split_by_activations_takes_the_pieces_asked_for(parts):
    before = ids_of(parts).copy()
    parts.partsdf.active_index = 1
    bpy.context.scene.partsdf.settings.split_pieces = 3
    assert bpy.ops.partsdf.split_by_activations() == {"FINISHED"}
    after = ids_of(parts)
    assert set(after[before == 1].tolist()) == {1, 3, 4}
    np.testing.assert_array_equal(after[before != 1], before[before != 1])
    assert [item.label for item in parts.partsdf.parts][-2:] == ["Part 02.1", "Part 02.2"]
    assert_views_match_ids(parts)
    parts.partsdf.active_index = 0
    assert bpy.ops.partsdf.split_by_activations(pieces=2) == {"FINISHED"}  # an explicit count wins
    assert len(parts.partsdf.parts) == 6


def test_colour_and_name_edits_touch_only_that_part_and_keep_painted_weights(parts):
    item = parts.partsdf.parts[0]
    group = parts.vertex_groups[item.group_name]
    vertex = next(v.index for v in parts.data.vertices if any(g.group == group.index for g in v.groups))
    group.add([vertex], 0.3, "REPLACE")  # the artist painted a weight into the part's group
    other_material_color = tuple(parts.partsdf.parts[1].material.diffuse_color)
    item.color = (1.0, 0.0, 0.0)
    item.label = "Handle"
    group = parts.vertex_groups[item.group_name]
    assert group.name == "Handle" and group.weight(vertex) == pytest.approx(0.3)
    assert item.material.name == "Lollipop Handle" and item.mesh_object.name == "Lollipop Handle"
    assert tuple(item.material.diffuse_color)[:3] == pytest.approx((1.0, 0.0, 0.0))
    assert tuple(parts.partsdf.parts[1].material.diffuse_color) == pytest.approx(other_material_color)
    colors = np.empty(len(parts.data.loops) * 4, np.float32)
    parts.data.color_attributes[part_views.COLOR_ATTRIBUTE].data.foreach_get("color", colors)
    totals = np.array([p.loop_total for p in parts.data.polygons])
    on_part = np.repeat(ids_of(parts) == item.part_id, totals)
    assert np.allclose(colors.reshape(-1, 4)[on_part], [1.0, 0.0, 0.0, 1.0], atol=1e-6)
    assert not np.allclose(colors.reshape(-1, 4)[~on_part][:, :3], [1.0, 0.0, 0.0])


def test_no_deprecated_blender_api_is_used(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert discover() == {"FINISHED"}
        obj.partsdf.parts[0].color = (0.2, 0.9, 0.1)
        assert bpy.ops.partsdf.rebuild_meshes() == {"FINISHED"}
    deprecated = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert deprecated == []
