"""The engine-run operators: Discover Parts, Re-cluster, Split by Activations, Rebuild Part Meshes, Cancel.

Modal with progress in the UI (Esc cancels), synchronous in background mode; the run itself is ``jobs``.
"""

from __future__ import annotations

import sys

import bpy

from ..scene import scene_io
from . import jobs, live_recluster

TIMER_S = 0.1


def _relay_to_stderr(context, job: jobs.Job):
    """An event callback that follows the run (``jobs.handle_event``) and writes progress lines to stderr
    (background mode)."""
    last = {"key": None}

    def relay(event: dict) -> None:
        jobs.handle_event(context, job, event)
        if event.get("type") in ("WARN", "ERROR"):
            sys.stderr.write(f"PartSDF {event['type'].lower()}: {event.get('message', '')}\n")
        key = (job.stage, int(job.fraction * 10))
        if key != last["key"]:
            last["key"] = key
            sys.stderr.write(f"PartSDF: {job.stage} {job.fraction * 100:.0f}%\n")

    return relay


class _EngineRun:
    """A run of the engine on the active object: modal with progress in the UI, synchronous in background."""

    kind = jobs.DISCOVER

    @classmethod
    def poll(cls, context):
        return _idle(cls) and (not cls.kind.on_parts or _has_parts(cls, context))

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        return self._start_modal(context)

    def _start_modal(self, context) -> set:
        """Start the engine and follow it from a modal timer: the UI stays responsive, Esc cancels."""
        if not self._start(context):
            return {"CANCELLED"}
        self._timer = context.window_manager.event_timer_add(TIMER_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        context.workspace.status_text_set(jobs.active_job().status_text())
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job = jobs.active_job()
        if job is None:  # aborted from outside (file load)
            self._stop_ui(context)
            return {"CANCELLED"}
        if event.type == "ESC" and event.value == "PRESS":
            jobs.request_cancel()
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        for message in job.process.poll():
            jobs.handle_event(context, job, message)
        if job.process.running:
            context.workspace.status_text_set(job.status_text())
            _redraw(context)
            return {"PASS_THROUGH"}
        self._stop_ui(context)
        return self._end(context, job)

    def execute(self, context):
        if not self._start(context):
            return {"CANCELLED"}
        job = jobs.active_job()
        try:
            job.process.wait(on_event=_relay_to_stderr(context, job))
        except KeyboardInterrupt:
            job.cancel_requested = True
            job.process.stop()
        return self._end(context, job)

    def cancel(self, context):
        """Called when Blender ends the modal operator (file load, quit): stop the engine, change nothing."""
        jobs.abort_active()
        self._stop_ui(context)

    def _start(self, context) -> bool:
        try:
            jobs.begin(context, self.kind, self._pieces(context))
        except (scene_io.SceneError, OSError) as error:
            self.report({"ERROR"}, f"PartSDF: {error}")
            return False
        return True

    def _pieces(self, context) -> int:
        return 2

    def _end(self, context, job: jobs.Job) -> set:
        result, level, message = jobs.end(context, job)
        for warning in job.process.outcome.warnings[:5]:
            self.report({"WARNING"}, f"PartSDF: {warning}")
        self.report({level}, message)
        _redraw(context)
        return result

    def _stop_ui(self, context) -> None:
        timer = getattr(self, "_timer", None)
        if timer is not None:
            context.window_manager.event_timer_remove(timer)
            self._timer = None
        if context.workspace is not None:
            context.workspace.status_text_set(None)


def _redraw(context) -> None:
    screen = getattr(context, "screen", None)
    for area in screen.areas if screen else ():
        if area.type == "VIEW_3D":
            area.tag_redraw()


class PARTSDF_OT_discover_parts(_EngineRun, bpy.types.Operator):
    """Find the parts of the active mesh with the PartSDF engine and write them back as groups, materials and \
objects"""

    bl_idname = "partsdf.discover_parts"
    bl_label = "Discover Parts"
    # UNDO without REGISTER: one undo step, but no "Repeat Last", which would re-run the engine blocking the UI.
    bl_options = {"UNDO"}
    kind = jobs.DISCOVER


class PARTSDF_OT_recluster(_EngineRun, bpy.types.Operator):
    """Cluster again with the panel's counts from this mesh's cached model (no training); locked parts stay"""

    bl_idname = "partsdf.recluster"
    bl_label = "Re-cluster"
    bl_options = {"UNDO"}
    kind = jobs.RECLUSTER


class PARTSDF_OT_split_by_activations(_EngineRun, bpy.types.Operator):
    """Split the active part into pieces by segmenting its own faces and activations (cached model)"""

    bl_idname = "partsdf.split_by_activations"
    bl_label = "Split by Activations"
    bl_options = {"UNDO"}
    kind = jobs.SPLIT

    pieces: bpy.props.IntProperty(
        name="Pieces", default=2, min=2, max=64, options={"SKIP_SAVE"},
        description="Number of pieces (default: the panel's Pieces)",
    )
    asked: bpy.props.BoolProperty(options={"HIDDEN", "SKIP_SAVE"})

    def invoke(self, context, event):
        """Ask for the number of pieces (menus, F3) unless the caller gave it; OK starts the run."""
        if bpy.app.background:
            return self.execute(context)
        if self.properties.is_property_set("pieces"):  # the panel's button passes its Pieces field
            return self._start_modal(context)
        self.pieces = context.scene.partsdf.settings.split_pieces
        self.asked = True
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        if self.asked and not bpy.app.background:
            context.scene.partsdf.settings.split_pieces = self.pieces
            return self._start_modal(context)
        return super().execute(context)

    def _pieces(self, context) -> int:
        if self.asked or self.properties.is_property_set("pieces"):
            return self.pieces
        return context.scene.partsdf.settings.split_pieces


class PARTSDF_OT_rebuild_meshes(_EngineRun, bpy.types.Operator):
    """Build the part meshes again from the current (edited) parts, reusing the cached model"""

    bl_idname = "partsdf.rebuild_meshes"
    bl_label = "Rebuild Part Meshes"
    bl_options = {"UNDO"}
    kind = jobs.REBUILD


def _idle(cls) -> bool:
    if jobs.active_job() is not None:
        cls.poll_message_set("A PartSDF run is already in progress")
        return False
    return True


def _has_parts(cls, context) -> bool:
    if scene_io.parts_holder(context.active_object) is None:
        cls.poll_message_set("Select an object with discovered parts")
        return False
    return True


class PARTSDF_OT_cancel(bpy.types.Operator):
    """Stop the running PartSDF engine; the scene stays as it was (parts already written stay, without meshes)"""

    bl_idname = "partsdf.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return jobs.active_job() is not None

    def execute(self, context):
        jobs.request_cancel()
        return {"FINISHED"}


classes = (
    PARTSDF_OT_discover_parts,
    PARTSDF_OT_recluster,
    PARTSDF_OT_split_by_activations,
    PARTSDF_OT_rebuild_meshes,
    PARTSDF_OT_cancel,
)


register, _unregister_classes = bpy.utils.register_classes_factory(classes)


def unregister() -> None:
    live_recluster.cancel_pending()
    jobs.abort_active()
    _unregister_classes()
