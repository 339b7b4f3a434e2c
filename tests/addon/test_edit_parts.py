"""Editing discovered parts in real Blender: ids change as asked, views follow, undo restores, locks hold."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from conftest import HEAD_POLYGONS, RED, dress_lollipop, make_lollipop, scene_fingerprint
from test_operator import vertex_membership

from blender_addon.scene import look, part_views


def ids_of(obj) -> np.ndarray:
    if obj.mode == "EDIT":
        obj.update_from_editmode()
        bm_ids = part_views.read_part_ids(obj.data)
        if bm_ids is not None:
            return bm_ids
        bpy.ops.object.mode_set(mode="OBJECT")
        ids = part_views.read_part_ids(obj.data)
        bpy.ops.object.mode_set(mode="EDIT")
        return ids
    return part_views.read_part_ids(obj.data)


def assert_views_match_ids(obj) -> None:
    """Every vertex in exactly one group, material slots and colours follow the part ids."""
    ids = ids_of(obj)
    state = obj.partsdf
    assert sorted(item.part_id for item in state.parts) == sorted(set(ids.tolist()))
    members = vertex_membership(obj)
    assert (members.sum(axis=1) == 1).all()
    assert len(obj.vertex_groups) == len(state.parts)
    material_index = np.array([p.material_index for p in obj.data.polygons])
    for item in state.parts:
        assert obj.vertex_groups[item.group_name].name == item.label
        slot = list(obj.data.materials).index(item.material)
        np.testing.assert_array_equal(material_index == slot, ids == item.part_id)
        assert item.material.name == f"{obj.name} {item.label}"
        assert item.vertex_count == members[:, obj.vertex_groups[item.group_name].index].sum()
    colors = np.empty(len(obj.data.loops) * 4, np.float32)
    obj.data.color_attributes[part_views.COLOR_ATTRIBUTE].data.foreach_get("color", colors)
    assert len(np.unique(colors.reshape(-1, 4), axis=0)) == len(state.parts)


def test_write_back_stores_ids_on_faces_and_views_match(parts):
    assert set(ids_of(parts).tolist()) == {0, 1, 2}
    assert_views_match_ids(parts)


def test_merge_ticked_parts_and_undo(parts):
    bpy.ops.ed.undo_push(message="before merge")
    before_ids, before = ids_of(parts).copy(), scene_fingerprint()
    parts.partsdf.parts[1].selected = parts.partsdf.parts[2].selected = True
    assert bpy.ops.partsdf.merge_parts("EXEC_DEFAULT", True) == {"FINISHED"}
    after = ids_of(parts)
    np.testing.assert_array_equal(after, np.where(before_ids == 2, 1, before_ids))
    assert [item.label for item in parts.partsdf.parts] == ["Part 01", "Part 02"]
    assert_views_match_ids(parts)
    assert parts.partsdf.parts[1].mesh_object is None, "the merged part's old mesh no longer matches"
    assert bpy.data.objects.get("Lollipop Part 03") is None
    bpy.ops.ed.undo()
    obj = bpy.data.objects["Lollipop"]
    np.testing.assert_array_equal(ids_of(obj), before_ids)
    assert scene_fingerprint() == before


def test_locked_parts_are_not_merged(parts):
    for item in parts.partsdf.parts:
        item.selected = True
    parts.partsdf.parts[0].locked = True
    before = ids_of(parts).copy()
    assert bpy.ops.partsdf.merge_parts() == {"FINISHED"}
    after = ids_of(parts)
    np.testing.assert_array_equal(after == 0, before == 0)
    assert set(after.tolist()) == {0, 1}
    parts.partsdf.parts[1].locked = True
    parts.partsdf.parts[0].selected = parts.partsdf.parts[1].selected = True
    assert bpy.ops.partsdf.merge_parts() == {"CANCELLED"}


def test_rename_and_recolour_follow_into_every_view(parts):
    item = parts.partsdf.parts[0]
    old_object = item.mesh_object
    item.label = "Candy"
    item.color = (0.9, 0.1, 0.1)
    assert "Candy" in parts.vertex_groups and "Part 01" not in parts.vertex_groups
    assert item.material.name == "Lollipop Candy" and old_object.name == "Lollipop Candy"
    assert item.material.diffuse_color[0] > 0.7 and item.material.diffuse_color[1] < 0.05
    assert_views_match_ids(parts)


def test_new_part_and_assign_from_edit_mode_selection(parts):
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="DESELECT")
    bpy.ops.object.mode_set(mode="OBJECT")
    chosen = [p.index for p in parts.data.polygons if p.center.z > 0.3]  # the top of the sphere (local)
    for index in chosen:
        parts.data.polygons[index].select = True
    bpy.ops.object.mode_set(mode="EDIT")
    assert bpy.ops.partsdf.new_part() == {"FINISHED"}
    assert parts.mode == "EDIT"
    ids = ids_of(parts)
    assert set(np.flatnonzero(ids == 3).tolist()) == set(chosen)
    assert parts.partsdf.parts[parts.partsdf.active_index].part_id == 3
    parts.partsdf.active_index = 0
    assert bpy.ops.partsdf.assign_faces() == {"FINISHED"}
    assert 3 not in set(ids_of(parts).tolist()) and len(parts.partsdf.parts) == 3
    bpy.ops.object.mode_set(mode="OBJECT")
    assert_views_match_ids(parts)


def test_split_a_part_into_its_connected_pieces(parts):
    ids = ids_of(parts)
    ids[:] = 0  # one part holding the sphere and the stick: two loose pieces
    part_views.write_part_ids(parts.data, ids)
    part_views.sync(parts)
    assert len(parts.partsdf.parts) == 1
    parts.partsdf.active_index = 0
    assert bpy.ops.partsdf.split_part() == {"FINISHED"}
    assert len(parts.partsdf.parts) == 2
    assert_views_match_ids(parts)
    assert bpy.ops.partsdf.split_part() == {"CANCELLED"}  # the sphere is one piece now


def test_isolate_shows_only_the_active_part_object(parts):
    parts.partsdf.active_index = 1
    assert bpy.ops.partsdf.isolate_part() == {"FINISHED"}
    hidden = [item.mesh_object.hide_get() for item in parts.partsdf.parts]
    assert hidden == [True, False, True]


def test_edit_operators_need_parts(scene, prefs):
    make_lollipop("Plain")
    assert not bpy.ops.partsdf.merge_parts.poll()
    assert not bpy.ops.partsdf.split_part.poll()


def test_recluster_reuses_the_cached_model_and_keeps_locked_parts(parts, prefs):
    before = ids_of(parts).copy()
    locked = parts.partsdf.parts[0]
    locked.locked, locked.label = True, "Keep"
    bpy.context.scene.partsdf.settings.parts = 2
    assert bpy.ops.partsdf.recluster() == {"FINISHED"}
    after = ids_of(parts)
    np.testing.assert_array_equal(after == 0, before == 0)
    assert [item.label for item in parts.partsdf.parts][0] == "Keep"
    assert len(parts.partsdf.parts) == 3 and parts.partsdf.parts[0].mesh_object is not None
    assert all(item.mesh_object is None for item in parts.partsdf.parts[1:])
    assert_views_match_ids(parts)


def test_a_changed_mesh_invalidates_the_cached_model(parts):
    parts.data.vertices[0].co.x += 0.01
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="changed since its parts were discovered"):
        bpy.ops.partsdf.recluster()
    assert scene_fingerprint() == before


def test_rebuild_after_a_merge_makes_one_part_object_fewer(parts):
    assert len([i for i in parts.partsdf.parts if i.mesh_object]) == 3
    parts.partsdf.parts[0].selected = parts.partsdf.parts[1].selected = True
    assert bpy.ops.partsdf.merge_parts() == {"FINISHED"}
    assert bpy.ops.partsdf.rebuild_meshes() == {"FINISHED"}
    objects = [item.mesh_object for item in parts.partsdf.parts]
    assert len(objects) == 2 and all(o is not None for o in objects)
    assert set(bpy.data.collections["Lollipop parts"].objects) == set(objects)
    assert [o.name for o in objects] == [f"Lollipop {item.label}" for item in parts.partsdf.parts]


@pytest.mark.parametrize("cap", [True, False])
def test_separate_copies_each_part_and_keeps_the_original(parts, cap):
    polygons_before = len(parts.data.polygons)
    assert bpy.ops.partsdf.separate_parts(cap_holes=cap) == {"FINISHED"}
    copies = list(bpy.data.collections["Lollipop separated"].objects)
    assert len(copies) == 3 and len(parts.data.polygons) == polygons_before
    ids = ids_of(parts)
    for copy, item in zip(copies, parts.partsdf.parts, strict=True):
        own = int((ids == item.part_id).sum())
        assert len(copy.data.polygons) >= own if cap else len(copy.data.polygons) == own
        import bmesh

        bm = bmesh.new()
        bm.from_mesh(copy.data)
        open_edges = sum(e.is_boundary for e in bm.edges)
        bm.free()
        assert (open_edges == 0) if cap else (open_edges > 0)
    assert bpy.ops.partsdf.separate_parts() == {"FINISHED"}  # again: replaces, does not pile up
    assert len(bpy.data.collections["Lollipop separated"].objects) == 3


def test_separated_parts_keep_the_assets_materials_uvs_and_colours_and_a_rerun_keeps_the_originals(
        scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    dress_lollipop(obj)
    dressed = np.array([p.material_index for p in obj.data.polygons])
    for _ in range(2):  # the second run must not take the first run's part materials for the asset's own
        assert bpy.ops.partsdf.discover_parts("EXEC_DEFAULT") == {"FINISHED"}
        np.testing.assert_array_equal(look.original_material_indices(obj.data), dressed)
        assert [m.name for m in look.asset_materials(obj)] == ["Candy", "Wood"]
    assert bpy.ops.partsdf.separate_parts(cap_holes=False) == {"FINISHED"}
    ids = ids_of(obj)
    for copy, item in zip(bpy.data.collections["Lollipop separated"].objects, obj.partsdf.parts, strict=True):
        mesh = copy.data
        assert [m.name for m in mesh.materials] == ["Candy", "Wood"]
        own = np.flatnonzero(ids == item.part_id)
        copied = np.array([p.material_index for p in mesh.polygons])
        np.testing.assert_array_equal(np.bincount(copied, minlength=2), np.bincount(dressed[own], minlength=2))
        assert "UVMap" in mesh.uv_layers and "Paint" in mesh.color_attributes
        assert part_views.COLOR_ATTRIBUTE not in mesh.color_attributes
        assert look.ORIGINAL_MATERIAL_ATTRIBUTE not in mesh.attributes
    scene.partsdf.settings.keep_look = False
    assert bpy.ops.partsdf.separate_parts() == {"FINISHED"}
    for copy, item in zip(bpy.data.collections["Lollipop separated"].objects, obj.partsdf.parts, strict=True):
        assert list(copy.data.materials) == [item.material]
    paint = np.empty(len(obj.data.vertices) * 4, np.float32)
    obj.data.color_attributes["Paint"].data.foreach_get("color", paint)
    assert (paint.reshape(-1, 4)[list(obj.data.polygons[0].vertices)] == RED).all()  # the source is untouched
    assert HEAD_POLYGONS < len(obj.data.polygons)


def test_split_by_activations_adds_parts_after_the_last(parts):
    before = ids_of(parts).copy()
    parts.partsdf.active_index = 1
    assert bpy.ops.partsdf.split_by_activations(pieces=2) == {"FINISHED"}
    after = ids_of(parts)
    assert set(after.tolist()) == {0, 1, 2, 3}
    np.testing.assert_array_equal(after[before != 1], before[before != 1])
    assert set(after[before == 1].tolist()) == {1, 3}
    assert [item.label for item in parts.partsdf.parts][-1] == "Part 02.1"
    assert parts.partsdf.parts[1].mesh_object is None and parts.partsdf.parts[0].mesh_object is not None
    assert_views_match_ids(parts)
    parts.partsdf.parts[0].locked = True
    parts.partsdf.active_index = 0
    with pytest.raises(RuntimeError, match="locked"):
        bpy.ops.partsdf.split_by_activations()


@pytest.mark.parametrize("operator, prepare", [
    ("split_part", "one_part"),
    ("separate_parts", None),
    ("isolate_part", None),
    ("merge_parts", "tick_two"),
])
def test_each_edit_is_one_undo_step(parts, operator, prepare):
    if prepare == "one_part":
        part_views.write_part_ids(parts.data, np.zeros(len(parts.data.polygons), np.int64))
        part_views.sync(parts)
    if prepare == "tick_two":
        parts.partsdf.parts[0].selected = parts.partsdf.parts[1].selected = True
    bpy.ops.ed.undo_push(message="before")
    obj = bpy.data.objects["Lollipop"]
    before_ids, before = ids_of(obj).copy(), scene_fingerprint()
    hidden_before = sorted(o.name for o in bpy.data.objects if o.hide_get())
    assert getattr(bpy.ops.partsdf, operator)("EXEC_DEFAULT", True) == {"FINISHED"}
    bpy.ops.ed.undo()
    obj = bpy.data.objects["Lollipop"]
    np.testing.assert_array_equal(ids_of(obj), before_ids)
    assert scene_fingerprint() == before
    assert sorted(o.name for o in bpy.data.objects if o.hide_get()) == hidden_before
