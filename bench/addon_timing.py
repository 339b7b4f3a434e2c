"""``python -m bench addon``: Discover Parts and Re-cluster timed through the add-on in real Blender (bpy).

The repository's add-on is enabled in a throw-away Blender user folder; the snowman becomes a mesh
object; Discover Parts (balanced, part meshes on) and then Re-cluster run as the operators do in
background mode. Times are from the operator call to the parts written back into the scene (the
LABELS event) and to its return (part meshes written too). Discover runs twice: first with no engine
started, then (another seed, so no cached model) with the warm engine started ``WARM_UP_S`` before
the click, as the panel does when it is shown. CoACD (its defaults) then runs on the same mesh in the
same run, so the ratios compare numbers taken minutes apart.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time

from .baselines import coacd_hulls
from .machine import machine_summary
from .memory_table import REPOSITORY
from .shapes import benchmark_shapes, shape_mesh

ADDON = "blender_addon"
WARM_UP_S = 10.0  # the engine's start (Python, torch) takes about 2.5 s here


def addon_timings(threads: int, shape: str = "snowman") -> dict:
    """Seconds of Discover Parts (with part meshes) and Re-cluster (3 parts) on ``shape``, through bpy."""
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="partsdf-bench-blender-")
    import bpy  # noqa: I001  (addon_utils is importable only once bpy is)
    import addon_utils

    if REPOSITORY not in sys.path:
        sys.path.insert(0, REPOSITORY)
    addon_utils.enable(ADDON, default_set=True)
    from blender_addon.engine_link import warm
    from blender_addon.operators import jobs
    from blender_addon.ui import preferences as addon_preferences

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
    discover = _discover(bpy, jobs)
    seconds = {}
    for name, keep, parts in (("warm", True, 3), ("cold", False, 4)):
        preferences.keep_engine = keep
        settings.auto_parts, settings.parts = False, parts
        started = time.perf_counter()
        assert bpy.ops.partsdf.recluster() == {"FINISHED"}
        seconds[name] = time.perf_counter() - started
        assert len(obj.partsdf.parts) == parts
    preferences.keep_engine = True
    settings.auto_parts, settings.seed = True, settings.seed + 1  # a new model: the field is fitted again
    warm.prepare(addon_preferences.engine_config(bpy.context))
    time.sleep(WARM_UP_S)
    prewarmed = _discover(bpy, jobs)
    warm.close()  # CoACD gets both cores, as the engine had
    started = time.perf_counter()
    coacd_hulls(vertices, faces)
    coacd_seconds = time.perf_counter() - started
    return {"shape": shape, "vertices": len(vertices), "discover": discover, "discover_prewarmed": prewarmed,
            "coacd_s": coacd_seconds,
            "recluster_warm_s": seconds["warm"], "recluster_cold_s": seconds["cold"],
            "blender": bpy.app.version_string}


def _discover(bpy, jobs) -> tuple[float, float]:
    """(seconds to the parts in the scene, seconds to the operator's return) of one Discover Parts."""
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    times = jobs.last_run_times()
    assert times.parts_s is not None, "the parts were not written at LABELS"
    return times.parts_s, times.total_s


def render_addon_timings(row: dict, threads: int) -> str:
    (cold_parts, cold_all), (warm_parts, warm_all) = row["discover"], row["discover_prewarmed"]
    coacd = row["coacd_s"]
    return "\n".join([
        "## Through the add-on (real Blender)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine_summary()}: `python -m bench addon --threads "
        f"{threads}` (bpy {row['blender']}, background mode). Discover Parts, part meshes on: *no engine* "
        "starts the engine with the click; *engine warm* finds it started (as the panel starts it when shown, "
        f"here {WARM_UP_S:.0f} s before the click; another seed, so the field is fitted again). Seconds from "
        "the operator call to the parts written into the scene and to the part meshes written. Re-cluster (to "
        "3 parts) runs in the warm engine; the cold one (to 4 parts) starts its own engine process, as with "
        "Keep Engine Running off. CoACD (its defaults, in a child process) ran on the same mesh after them.",
        "",
        "| shape | vertices | Discover, no engine: parts s | part meshes s | Discover, engine warm: parts s | "
        "part meshes s | Re-cluster, warm engine, s | Re-cluster, new process, s | CoACD s | warm parts / CoACD | "
        "warm part meshes / CoACD |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {row['shape']} | {row['vertices']:,} | {cold_parts:.1f} | {cold_all:.1f} | {warm_parts:.1f} | "
        f"{warm_all:.1f} | {row['recluster_warm_s']:.2f} | {row['recluster_cold_s']:.2f} | {coacd:.1f} | "
        f"{warm_parts / coacd:.2f} | {warm_all / coacd:.2f} |",
    ]) + "\n"
