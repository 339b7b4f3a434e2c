"""Operators: Discover Parts (modal in the UI, synchronous in background), Cancel, per-part select/show/hide."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import bpy
import numpy as np

from . import client, part_views, preferences, properties, scene_io
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
    kind: str = "discover"
    model_key: str = ""
    cache_dir: str = ""
    split_part: int | None = None
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"
    fraction: float = 0.0
    cancel_requested: bool = False
    stages: list = field(default_factory=list)

    def apply(self, event: dict) -> None:
        if event.get("type") == "PROGRESS":
            self.stage = str(event.get("stage", self.stage))
            self.fraction = min(max(float(event.get("overall", self.fraction)), 0.0), 1.0)
            self.stages.append((self.stage, float(event.get("fraction", 0.0))))
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


def start_job(context, kind: str = "discover", pieces: int = 2) -> Job:
    """Validate the object, write the job folder and start the engine. Raises SceneError or OSError.

    kind: ``discover`` (fit, or reuse the model cached for this mesh and settings, then cluster),
    ``recluster`` (cached model only, no part meshes; locked parts kept), ``rebuild`` (part
    meshes from the object's current part ids) or ``split`` (the active part into ``pieces``
    by its own activations, no part meshes). Edits send the part id of every triangle, and
    the engine answers with the same ids.
    """
    obj = context.active_object if kind == "discover" else scene_io.result_holder(context.active_object)
    mesh_input = scene_io.read_mesh(obj)
    config = preferences.engine_config(context)
    try:
        preferences.check_torch(config)
    except RuntimeError as error:
        raise scene_io.SceneError(str(error)) from None
    options = properties.run_options(context.scene.partsdf.settings)
    key = client.model_key(mesh_input.vertices, mesh_input.faces, options)
    reuse = client.cached_model(config.cache_dir, key)
    triangle_ids = None
    split_part = None
    if kind != "discover":
        ids = _current_part_ids(obj)
        if kind == "recluster":
            if reuse is None:
                raise scene_io.SceneError(_no_model_message(obj, key))
            options = replace(options, build_meshes=False)
        else:
            triangle_ids = ids[mesh_input.triangle_polygons]
            options = replace(options, build_meshes=kind == "rebuild")
        if kind == "split":
            item = obj.partsdf.parts[min(obj.partsdf.active_index, len(obj.partsdf.parts) - 1)]
            if item.locked:
                raise scene_io.SceneError(f"{item.label} is locked: unlock it to split it")
            split_part = item.part_id
            options = replace(options, parts=pieces)
    job_dir = client.make_job_dir(config.cache_dir)
    try:
        mesh_path = client.write_job(job_dir, mesh_input.vertices, mesh_input.faces, options)
        labels = client.write_face_labels(job_dir, triangle_ids) if triangle_ids is not None else None
        command = client.segment_command(config, options, mesh_path, job_dir / "result", reuse=reuse,
                                         face_labels=labels, split_part=split_part)
        process = client.EngineProcess(command, client.engine_env(config)).start()
    except BaseException:
        client.remove_job_dir(job_dir)
        raise
    settings = {**options.as_dict(), "device": config.device, "threads": config.threads or None}
    return Job(process, job_dir, obj.session_uid, obj.name, mesh_input, settings, kind=kind, model_key=key,
               cache_dir=config.cache_dir, split_part=split_part)


def _current_part_ids(obj) -> np.ndarray:
    """The object's part ids per polygon; raises SceneError when it has no parts."""
    ids = part_views.read_part_ids(obj.data)
    if ids is None or len(obj.partsdf.parts) == 0:
        raise scene_io.SceneError(f"'{obj.name}' has no parts yet: run Discover Parts first")
    return ids


def _no_model_message(obj, key: str) -> str:
    if obj.get(scene_io.PROP_MODEL_KEY) not in (None, key):
        return (f"'{obj.name}' changed since its parts were discovered (or the quality or seed did): "
                "run Discover Parts to fit it again")
    return f"no cached model for '{obj.name}' with these settings: run Discover Parts first"


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
        with _object_mode(context, obj):
            message = _apply(context, job, obj, result)
        return {"FINISHED"}, "INFO", f"PartSDF: {message} in {time.monotonic() - job.started:.0f} s"
    except (ResultError, scene_io.SceneError) as error:
        return {"CANCELLED"}, "ERROR", f"PartSDF failed: {error}"
    finally:
        client.remove_job_dir(job.job_dir)


def _find_object(job: Job):
    obj = next((o for o in bpy.data.objects if o.session_uid == job.object_uid), None)
    if obj is None or obj.type != "MESH":
        raise scene_io.SceneError(f"'{job.object_name}' was deleted while the engine ran")
    return obj


def _apply(context, job: Job, obj, result) -> str:
    """Write a finished job's result onto ``obj`` by its kind; returns what changed, for the report."""
    if job.kind == "recluster":
        new, kept = scene_io.apply_recluster(obj, job.mesh_input, result)
        return f"re-clustered into {new} parts" + (f", {kept} locked kept" if kept else "")
    if job.kind == "rebuild":
        written, without = scene_io.replace_part_objects(context, obj, result)
        return f"rebuilt {written} part meshes" + (f"; no mesh for {without}" if without else "")
    if job.kind == "split":
        label, pieces = scene_io.apply_split(obj, job.mesh_input, result, job.split_part)
        return f"split {label} into {pieces} parts"
    scene_io.write_back(context, obj, job.mesh_input, result, job.settings)
    client.store_model(job.process.outcome.output, job.cache_dir, job.model_key)
    obj[scene_io.PROP_MODEL_KEY] = job.model_key
    return f"{len(result.parts)} parts ({len({p.type for p in result.parts})} types)"


@contextmanager
def _object_mode(context, obj):
    """Leave Edit Mode for the write and return to it afterwards."""
    if obj.mode != "EDIT":
        yield
        return
    with context.temp_override(active_object=obj, object=obj, selected_objects=[obj]):
        bpy.ops.object.mode_set(mode="OBJECT")
        try:
            yield
        finally:
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


class _EngineRun:
    """A run of the engine on the active object: modal with progress in the UI, synchronous in background."""

    kind = "discover"
    needs_parts = False

    @classmethod
    def poll(cls, context):
        return _idle(cls) and (not cls.needs_parts or _has_parts(cls, context))

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
            _active = start_job(context, self.kind, self._pieces(context))
        except (scene_io.SceneError, OSError) as error:
            self.report({"ERROR"}, f"PartSDF: {error}")
            return False
        return True

    def _pieces(self, context) -> int:
        return 2

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


class PARTSDF_OT_discover_parts(_EngineRun, bpy.types.Operator):
    """Find the parts of the active mesh with the PartSDF engine and write them back as groups, materials and \
objects"""

    bl_idname = "partsdf.discover_parts"
    bl_label = "Discover Parts"
    # UNDO without REGISTER: one undo step, but no "Repeat Last", which would re-run the engine blocking the UI.
    bl_options = {"UNDO"}
    kind = "discover"


class PARTSDF_OT_recluster(_EngineRun, bpy.types.Operator):
    """Cluster again with the panel's counts from this mesh's cached model (no training); locked parts stay"""

    bl_idname = "partsdf.recluster"
    bl_label = "Re-cluster"
    bl_options = {"UNDO"}
    kind = "recluster"
    needs_parts = True


class PARTSDF_OT_split_by_activations(_EngineRun, bpy.types.Operator):
    """Split the active part into pieces by segmenting its own faces and activations (cached model)"""

    bl_idname = "partsdf.split_by_activations"
    bl_label = "Split by Activations"
    bl_options = {"UNDO"}
    kind = "split"
    needs_parts = True

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
    kind = "rebuild"
    needs_parts = True


def _idle(cls) -> bool:
    if _active is not None:
        cls.poll_message_set("A PartSDF run is already in progress")
        return False
    return True


def _has_parts(cls, context) -> bool:
    holder = scene_io.result_holder(context.active_object)
    if holder is None or holder.type != "MESH" or len(holder.partsdf.parts) == 0:
        cls.poll_message_set("Select an object with discovered parts")
        return False
    return True


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


classes = (
    PARTSDF_OT_discover_parts,
    PARTSDF_OT_recluster,
    PARTSDF_OT_split_by_activations,
    PARTSDF_OT_rebuild_meshes,
    PARTSDF_OT_cancel,
)


register, _unregister_classes = bpy.utils.register_classes_factory(classes)


def unregister() -> None:
    abort_active()
    _unregister_classes()
