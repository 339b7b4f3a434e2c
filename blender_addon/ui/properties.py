"""Property groups: run settings per scene, part results per object."""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatVectorProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..engine_link.client import RunOptions

QUALITY_ITEMS = (
    ("fast", "Fast", "Smaller network, fewer iterations: a preview in well under a minute"),
    ("balanced", "Balanced", "The default trade-off between time and part quality"),
    ("high", "High", "Larger network and longer fit: best parts, several minutes"),
)


FEATURE_ITEMS = (
    ("raw", "Own Field", "The activations of a field fitted to this mesh alone (the default; about half the "
     "time of Shared Library)"),
    ("dino", "Shared Library", "A backbone shared by many shapes, read through its DINO head: part types get the "
     "same name in every file (Kind 07 is the same kind of part everywhere); types are not counted by hand"),
)


def _counts_changed(settings, context) -> None:
    """A part or type count changed in the panel: re-cluster after a pause (``live_recluster``)."""
    from ..operators import live_recluster

    live_recluster.schedule(context)


class PARTSDF_PG_run_settings(bpy.types.PropertyGroup):
    """Settings of one run; each maps onto one option of ``engine segment``."""

    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="balanced", description="Quality preset")
    auto_parts: BoolProperty(name="Auto", default=True, update=_counts_changed,
                             description="Let the engine choose the number of parts")
    parts: IntProperty(name="Parts", default=6, min=1, max=256, update=_counts_changed,
                       description="Number of parts to find")
    auto_types: BoolProperty(name="Auto", default=True, update=_counts_changed,
                             description="Let the engine choose the number of part types")
    types: IntProperty(name="Types", default=3, min=1, max=256, update=_counts_changed,
                       description="Number of part types (kinds of parts)")
    features: EnumProperty(name="Features", items=FEATURE_ITEMS, default="raw",
                           description="What the parts are told apart by")
    live_recluster: BoolProperty(
        name="Live Re-cluster", default=True,
        description="After a count changes, re-cluster the parts of the active object on its own (cached model, "
        "no training)",
    )
    seed: IntProperty(name="Seed", default=0, min=0, description="Random seed; the same seed gives the same parts")
    build_meshes: BoolProperty(
        name="Part Meshes",
        default=True,
        description="Also build a closed mesh per part, in a '<object> parts' collection",
    )
    keep_look: BoolProperty(
        name="Keep Look",
        default=True,
        description="Part meshes and separated parts keep the object's materials, UV maps and colour attributes "
        "(off: each in its part colour)",
    )
    split_pieces: IntProperty(
        name="Pieces", default=2, min=2, max=64,
        description="Number of pieces Split by Activations cuts the active part into",
    )


def run_options(settings: PARTSDF_PG_run_settings) -> RunOptions:
    """The engine options of a scene's run settings.

    A module function, not a method: PropertyGroup classes here define no functions. Blender 4.2
    keeps one reference to every registered PropertyGroup class forever; a method would keep this
    module's globals, and with them ``bpy``, alive through interpreter shutdown, so bpy never runs
    its exit code and the process dies with SIGSEGV (exit 139) after ``import bpy`` scripts.
    """
    return RunOptions(
        quality=settings.quality,
        parts=None if settings.auto_parts else settings.parts,
        types=None if settings.auto_types or settings.features == "dino" else settings.types,
        seed=settings.seed,
        build_meshes=settings.build_meshes,
        features=settings.features,
    )


def _rename_views(item, context) -> None:
    """A label edit in the UI renames the part's views (group, material, object); nothing is rebuilt."""
    from ..scene import part_views

    part_views.rename(item.id_data, item)


def _recolor_views(item, context) -> None:
    """A colour edit in the UI (each tick of the picker) updates the material and colour attribute only."""
    from ..scene import part_views

    part_views.recolor(item.id_data, item)


class PARTSDF_PG_part(bpy.types.PropertyGroup):
    """One part's metadata; its faces are those whose part-id attribute equals ``part_id``.

    ``label`` is the user-facing name (``name`` mirrors it for list filtering);
    ``group_name`` is the vertex group the last sync wrote, so a rename can find it.
    """

    label: StringProperty(name="Name", update=_rename_views, description="Part name (vertex group, material, object)")
    part_id: IntProperty(name="Part ID")
    type_name: StringProperty(name="Type")
    vertex_count: IntProperty(name="Vertices")
    color: FloatVectorProperty(
        name="Colour", subtype="COLOR_GAMMA", size=3, min=0.0, max=1.0, update=_recolor_views,
        description="Part colour (material and colour attribute)",
    )
    locked: BoolProperty(name="Locked", description="Keep this part as it is through merge, split and re-cluster")
    selected: BoolProperty(name="Selected", description="Include this part in Merge")
    group_name: StringProperty(name="Vertex Group")
    material: PointerProperty(name="Material", type=bpy.types.Material)
    mesh_object: PointerProperty(name="Part Object", type=bpy.types.Object)


class PARTSDF_PG_object_result(bpy.types.PropertyGroup):
    """The parts written back onto an object by its last run."""

    parts: CollectionProperty(type=PARTSDF_PG_part)
    active_index: IntProperty(name="Active Part", default=0)
    collection: PointerProperty(name="Parts Collection", type=bpy.types.Collection)
    source: PointerProperty(name="Source Object", type=bpy.types.Object, description="Object this part came from")


class PARTSDF_PG_scene(bpy.types.PropertyGroup):
    settings: PointerProperty(type=PARTSDF_PG_run_settings)


classes = (PARTSDF_PG_run_settings, PARTSDF_PG_part, PARTSDF_PG_object_result, PARTSDF_PG_scene)


_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register() -> None:
    _register_classes()
    bpy.types.Scene.partsdf = PointerProperty(type=PARTSDF_PG_scene)
    bpy.types.Object.partsdf = PointerProperty(type=PARTSDF_PG_object_result)


def unregister() -> None:
    del bpy.types.Object.partsdf
    del bpy.types.Scene.partsdf
    _unregister_classes()
