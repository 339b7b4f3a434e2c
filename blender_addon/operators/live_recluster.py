"""Re-cluster on its own when the panel's part or type count changes, after a short pause.

A slider drag sends many updates; each one moves the timer, so one re-cluster runs once the value
has rested for ``PAUSE_S``. A re-cluster still running when the value changes again is cancelled and
the new one starts after it; a Discover, Split or Rebuild in progress is never interrupted. Timers
run only with Blender's event loop: a headless script that sets the counts re-clusters nothing.
"""

from __future__ import annotations

import bpy

from ..scene import scene_io
from . import jobs

PAUSE_S = 0.4
RETRY_S = 0.1


def schedule(context) -> None:
    """Start (or move) the pause timer when the active object has parts from a Discover run."""
    settings = context.scene.partsdf.settings
    holder = scene_io.parts_holder(context.active_object)
    if not settings.live_recluster or holder is None or scene_io.PROP_MODEL_KEY not in holder:
        return
    cancel_pending()
    bpy.app.timers.register(recluster_now, first_interval=PAUSE_S)


def cancel_pending() -> None:
    if bpy.app.timers.is_registered(recluster_now):
        bpy.app.timers.unregister(recluster_now)


def recluster_now() -> float | None:
    """Timer callback: re-cluster the active object's parts with the panel's counts (seconds to retry, or None)."""
    job = jobs.active_job()
    if job is not None:
        if job.kind is not jobs.RECLUSTER:
            return None
        jobs.request_cancel()  # the newer counts win
        return RETRY_S
    if scene_io.parts_holder(bpy.context.active_object) is None:
        return None
    window = next(iter(bpy.context.window_manager.windows), None)
    if window is None:  # background: the synchronous run
        bpy.ops.partsdf.recluster()
    else:
        with bpy.context.temp_override(window=window):
            bpy.ops.partsdf.recluster("INVOKE_DEFAULT")
    return None
