"""``python -m bench addon``: Discover Parts and Re-cluster timed through the add-on in real Blender (bpy).

The repository's add-on is enabled in a throw-away Blender user folder; the snowman becomes a mesh
object; Discover Parts (balanced, part meshes on) and then Re-cluster run as the operators do in
background mode. Times are from the operator call to its return, i.e. until the parts are written
back into the scene.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time

from .machine import machine_summary
from .memory_table import REPOSITORY
from .shapes import benchmark_shapes, shape_mesh

ADDON = "blender_addon"


def addon_timings(threads: int, shape: str = "snowman") -> dict:
    """Seconds of Discover Parts (with part meshes) and Re-cluster (3 parts) on ``shape``, through bpy."""
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="partsdf-bench-blender-")
    import bpy  # noqa: I001  (addon_utils is importable only once bpy is)
    import addon_utils

    if REPOSITORY not in sys.path:
        sys.path.insert(0, REPOSITORY)
    addon_utils.enable(ADDON, default_set=True)
    preferences = bpy.context.preferences.addons[ADDON].preferences
    preferences.device, preferences.threads = "cpu", threads
    preferences.cache_dir = tempfile.mkdtemp(prefix="partsdf-bench-cache-")
    bpy.ops.wm.read_homefile(use_empty=True)
    vertices, faces, _ = shape_mesh(benchmark_shapes()[shape])
    mesh = bpy.data.meshes.new(shape)
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    obj = bpy.data.objects.new(shape, mesh)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    settings = bpy.context.scene.partsdf.settings
    settings.quality, settings.auto_parts, settings.build_meshes = "balanced", True, True
    started = time.perf_counter()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    discover = time.perf_counter() - started
    seconds = {}
    for name, warm, parts in (("warm", True, 3), ("cold", False, 4)):
        preferences.keep_engine = warm
        settings.auto_parts, settings.parts = False, parts
        started = time.perf_counter()
        assert bpy.ops.partsdf.recluster() == {"FINISHED"}
        seconds[name] = time.perf_counter() - started
        assert len(obj.partsdf.parts) == parts
    return {"shape": shape, "vertices": len(vertices), "discover_s": discover, "recluster_warm_s": seconds["warm"],
            "recluster_cold_s": seconds["cold"], "blender": bpy.app.version_string}


def render_addon_timings(row: dict, threads: int) -> str:
    return "\n".join([
        "## Through the add-on (real Blender)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine_summary()}: `python -m bench addon --threads "
        f"{threads}` (bpy {row['blender']}, background mode). Discover starts the warm engine; the warm "
        "Re-cluster (to 3 parts) runs in it; the cold one (to 4 parts) starts its own engine process, as with "
        "Keep Engine Running off.",
        "",
        "| shape | vertices | Discover Parts s (part meshes on) | Re-cluster, warm engine, s | Re-cluster, new "
        "process, s |",
        "| --- | --- | --- | --- | --- |",
        f"| {row['shape']} | {row['vertices']:,} | {row['discover_s']:.1f} | {row['recluster_warm_s']:.2f} | "
        f"{row['recluster_cold_s']:.2f} |",
    ]) + "\n"
