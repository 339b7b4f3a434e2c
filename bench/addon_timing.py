"""``python -m bench addon``: Discover Parts and Re-cluster timed through the add-on in real Blender (bpy).

The repository's add-on is enabled in a throw-away Blender user folder; the snowman becomes a mesh
object; Discover Parts (balanced, part meshes on) and then Re-cluster run as the operators do in
background mode. Times are from the operator call to the parts written back into the scene (the
LABELS event) and to its return (part meshes written too). Discover runs first with no engine
started, then a few times (each with another seed, so no cached model) with the warm engine started
``WARM_UP_S`` before the first click, as the panel does when it is shown, with CoACD (its defaults) on
the same mesh after each click, so the ratios compare numbers taken seconds apart.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import tempfile
import time

from .baselines import coacd_hulls
from .machine import machine_summary
from .memory_table import REPOSITORY
from .shapes import benchmark_shapes, shape_mesh

ADDON = "blender_addon"
WARM_UP_S = 10.0  # the engine's start (Python, torch) takes about 2.5 s here


def addon_timings(threads: int, shape: str = "snowman", repeats: int = 3) -> dict:
    """Seconds of Discover Parts (with part meshes) and Re-cluster on ``shape``, through bpy.

    The warm-engine Discover, CoACD and the warm Re-cluster run ``repeats`` times each (this machine's
    timings vary by up to about 20 % from run to run); the rest once.
    """
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
    preferences.keep_engine = True  # 3, 4, 3, ... parts: each a real re-cluster of the warm engine's field
    recluster_warm = [_recluster(bpy, obj, settings, 3 + attempt % 2) for attempt in range(repeats)]
    preferences.keep_engine = False
    recluster_cold = _recluster(bpy, obj, settings, 5)
    preferences.keep_engine = True
    warm.prepare(addon_preferences.engine_config(bpy.context))
    time.sleep(WARM_UP_S)
    prewarmed, coacd_seconds = [], []
    for _ in range(repeats):  # CoACD after each click, so both see the same load on the machine
        settings.auto_parts, settings.seed = True, settings.seed + 1  # a new model: the field is fitted again
        prewarmed.append(_discover(bpy, jobs))
        started = time.perf_counter()
        coacd_hulls(vertices, faces)  # in a child process; the idle warm engine takes no CPU meanwhile
        coacd_seconds.append(time.perf_counter() - started)
    warm.close()
    return {"shape": shape, "vertices": len(vertices), "repeats": repeats, "discover": discover,
            "discover_prewarmed": prewarmed, "coacd_s": coacd_seconds, "recluster_warm_s": recluster_warm,
            "recluster_cold_s": recluster_cold, "blender": bpy.app.version_string}


def _recluster(bpy, obj, settings, parts: int) -> float:
    """Seconds of one Re-cluster to ``parts`` parts, from the operator call to its return."""
    settings.auto_parts, settings.parts = False, parts
    started = time.perf_counter()
    assert bpy.ops.partsdf.recluster() == {"FINISHED"}
    assert len(obj.partsdf.parts) == parts
    return time.perf_counter() - started


def _discover(bpy, jobs) -> tuple[float, float]:
    """(seconds to the parts in the scene, seconds to the operator's return) of one Discover Parts."""
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    times = jobs.last_run_times()
    assert times.parts_s is not None, "the parts were not written at LABELS"
    return times.parts_s, times.total_s


def _median_and_range(values: list[float], digits: int) -> str:
    """'median (min-max)' of the values, or the one value."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def render_addon_timings(row: dict, threads: int) -> str:
    cold_parts, cold_all = row["discover"]
    warm_parts, warm_all = ([times[i] for times in row["discover_prewarmed"]] for i in (0, 1))
    coacd = row["coacd_s"]
    parts_ratio = statistics.median(p / c for p, c in zip(warm_parts, coacd, strict=True))
    meshes_ratio = statistics.median(a / c for a, c in zip(warm_all, coacd, strict=True))
    return "\n".join([
        "## Through the add-on (real Blender)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine_summary()}: `python -m bench addon --threads "
        f"{threads}` (bpy {row['blender']}, background mode). Discover Parts, part meshes on: *no engine* "
        "starts the engine with the click; *engine warm* finds it started (as the panel starts it when shown, "
        f"here {WARM_UP_S:.0f} s before the first click; each click another seed, so the field is fitted again). "
        "Seconds from the operator call to the parts written into the scene and to the part meshes written. "
        "Re-cluster (to 3 or 4 parts) runs in the warm engine; the one in a new process (to 5 parts) starts its "
        "own engine, as with Keep Engine Running off. CoACD (its defaults, in a child process) ran on the same "
        f"mesh after each warm click. Warm clicks, warm re-clusters and CoACD: median of {row['repeats']} "
        "(range); ratios are medians of the per-click ratios.",
        "",
        "| shape | vertices | Discover, no engine: parts s | part meshes s | Discover, engine warm: parts s | "
        "part meshes s | Re-cluster, warm engine, s | Re-cluster, new process, s | CoACD s | warm parts / CoACD | "
        "warm part meshes / CoACD |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {row['shape']} | {row['vertices']:,} | {cold_parts:.1f} | {cold_all:.1f} | "
        f"{_median_and_range(warm_parts, 1)} | {_median_and_range(warm_all, 1)} | "
        f"{_median_and_range(row['recluster_warm_s'], 2)} | {row['recluster_cold_s']:.2f} | "
        f"{_median_and_range(coacd, 1)} | {parts_ratio:.2f} | {meshes_ratio:.2f} |",
    ]) + "\n"
