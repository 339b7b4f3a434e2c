"""Operators: Discover Parts (modal in the UI, synchronous in background), Cancel, per-part select/show/hide."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import bpy

from . import client, preferences, scene_io
from .result import ResultError, load_result

TIMER_S = 0.1


@dataclass
class Job:
    """The one active run: its process, job folder and the mesh the engine saw."""

    process: client.EngineProcess
    job_dir: Path
    object_uid: int
    object_name: str
    mesh_input: scene_io.MeshInput
    settings: dict
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"
    fraction: float = 0.0
    cancel_requested: bool = False

    def apply(self, event: dict) -> None:
        if event.get("type") == "PROGRESS":
            self.stage = str(event.get("stage", self.stage))
            self.fraction = min(max(float(event.get("overall", self.fraction)), 0.0), 1.0)
        elif event.get("type") == "STATUS":
            self.stage = str(event.get("message", self.stage))[:60]

    def status_text(self) -> str:
        return f"PartSDF: {self.stage} {self.fraction * 100:.0f}% (Esc to cancel)"


_active: Job | None = None


def active_job() -> Job | None:
    """The run in progress, if any (read by the panel)."""
    return _active


def request_cancel() -> bool:
    """Ask the active run to stop; safe from any thread. Returns whether a run was active."""
    job = _active
    if job is None:
        return False
    job.cancel_requested = True
    job.process.cancel()
    return True


def abort_active() -> None:
    """Stop the active run, if any, and remove its job folder (file load, quit, add-on disable)."""
    global _active
    job, _active = _active, None
    if job is not None:
        job.cancel_requested = True
        job.process.stop()
        client.remove_job_dir(job.job_dir)


def start_job(context) -> Job:
    """Validate the active object, write the job folder and start the engine. Raises SceneError or OSError."""
    obj = context.active_object
    mesh_input = scene_io.read_mesh(obj)
    config = preferences.engine_config(context)
    options = context.scene.partsdf.settings.options()
    job_dir = client.make_job_dir(config.cache_dir)
    try:
        mesh_path = client.write_job(job_dir, mesh_input.vertices, mesh_input.faces, options)
        command = client.segment_command(config, options, mesh_path, job_dir / "result")
        process = client.EngineProcess(command, client.engine_env(config)).start()
    except BaseException:
        client.remove_job_dir(job_dir)
        raise
    settings = {**options.as_dict(), "device": config.device, "threads": config.threads or None}
    return Job(process, job_dir, obj.session_uid, obj.name, mesh_input, settings)


def finish_job(context, job: Job) -> tuple[set, str, str]:
    """Write back a finished job's result; returns (operator result, report level, message). Removes the job folder."""
    outcome = job.process.outcome
    try:
        if outcome.cancelled or job.cancel_requested:
            return {"CANCELLED"}, "WARNING", "PartSDF: cancelled, the scene is unchanged"
        if not outcome.ok:
            return {"CANCELLED"}, "ERROR", f"PartSDF failed: {outcome.message}"
        mesh_input = job.mesh_input
        result = load_result(outcome.output, len(mesh_input.vertices), len(mesh_input.faces))
        obj = _find_object(job)
        if not scene_io.mesh_matches(obj, mesh_input):
            raise scene_io.SceneError(f"'{obj.name}' was edited while the engine ran: run Discover Parts again")
        _write_in_object_mode(context, obj, mesh_input, result, job.settings)
        seconds = time.monotonic() - job.started
        types = len({p.type for p in result.parts})
        return {"FINISHED"}, "INFO", f"PartSDF: {len(result.parts)} parts ({types} types) in {seconds:.0f} s"
    except (ResultError, scene_io.SceneError) as error:
        return {"CANCELLED"}, "ERROR", f"PartSDF failed: {error}"
    finally:
        client.remove_job_dir(job.job_dir)


def _find_object(job: Job):
    obj = next((o for o in bpy.data.objects if o.session_uid == job.object_uid), None)
    if obj is None or obj.type != "MESH":
        raise scene_io.SceneError(f"'{job.object_name}' was deleted while the engine ran")
    return obj


def _write_in_object_mode(context, obj, mesh_input, result, settings) -> None:
    """Write back; an object in Edit Mode leaves it for the write and returns to it afterwards."""
    if obj.mode != "EDIT":
        scene_io.write_back(context, obj, mesh_input, result, settings)
        return
    with context.temp_override(active_object=obj, object=obj, selected_objects=[obj]):
        bpy.ops.object.mode_set(mode="OBJECT")
        scene_io.write_back(context, obj, mesh_input, result, settings)
        bpy.ops.object.mode_set(mode="EDIT")


def _relay_to_stderr(job: Job):
    """An event callback that writes progress lines to stderr (background mode)."""
    last = {"key": None}

    def relay(event: dict) -> None:
        job.apply(event)
        if event.get("type") in ("WARN", "ERROR"):
            sys.stderr.write(f"PartSDF {event['type'].lower()}: {event.get('message', '')}\n")
        key = (job.stage, int(job.fraction * 10))
        if key != last["key"]:
            last["key"] = key
            sys.stderr.write(f"PartSDF: {job.stage} {job.fraction * 100:.0f}%\n")

    return relay


class PARTSDF_OT_discover_parts(bpy.types.Operator):
    """Find the parts of the active mesh with the PartSDF engine and write them back as groups, materials and \
objects"""

    bl_idname = "partsdf.discover_parts"
    bl_label = "Discover Parts"
    # UNDO without REGISTER: one undo step, but no "Repeat Last", which would re-run the engine blocking the UI.
    bl_options = {"UNDO"}

    @classmethod
    def poll(cls, context):
        if _active is not None:
            cls.poll_message_set("A PartSDF run is already in progress")
            return False
        return True

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        if not self._start(context):
            return {"CANCELLED"}
        self._timer = context.window_manager.event_timer_add(TIMER_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        context.workspace.status_text_set(_active.status_text())
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job = _active
        if job is None:  # aborted from outside (file load)
            self._stop_ui(context)
            return {"CANCELLED"}
        if event.type == "ESC" and event.value == "PRESS":
            request_cancel()
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        for message in job.process.poll():
            job.apply(message)
        if job.process.running:
            context.workspace.status_text_set(job.status_text())
            _redraw(context)
            return {"PASS_THROUGH"}
        self._stop_ui(context)
        return self._end(context, job)

    def execute(self, context):
        if not self._start(context):
            return {"CANCELLED"}
        job = _active
        try:
            job.process.wait(on_event=_relay_to_stderr(job))
        except KeyboardInterrupt:
            job.cancel_requested = True
            job.process.stop()
        return self._end(context, job)

    def cancel(self, context):
        """Called when Blender ends the modal operator (file load, quit): stop the engine, change nothing."""
        abort_active()
        self._stop_ui(context)

    def _start(self, context) -> bool:
        global _active
        try:
            _active = start_job(context)
        except (scene_io.SceneError, OSError) as error:
            self.report({"ERROR"}, f"PartSDF: {error}")
            return False
        return True

    def _end(self, context, job: Job) -> set:
        global _active
        _active = None
        result, level, message = finish_job(context, job)
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


class PARTSDF_OT_cancel(bpy.types.Operator):
    """Stop the running PartSDF engine; the scene stays unchanged"""

    bl_idname = "partsdf.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return _active is not None

    def execute(self, context):
        request_cancel()
        return {"FINISHED"}


classes = (PARTSDF_OT_discover_parts, PARTSDF_OT_cancel)


register, _unregister_classes = bpy.utils.register_classes_factory(classes)


def unregister() -> None:
    abort_active()
    _unregister_classes()
