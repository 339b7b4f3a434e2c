"""An engine run from start to write-back: its kind, its job folder and process, and the one active run.

``start_job`` reads the object, writes the job folder and starts the engine; ``finish_job`` checks the
result and has the run's kind write it back. What differs between Discover Parts, Re-cluster, Rebuild
Part Meshes and Split by Activations is one ``RunKind`` each. One run at a time: ``begin`` and ``end``
hold it, ``active_job`` shows it to the panel, ``request_cancel`` and ``abort_active`` stop it.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import bpy
import numpy as np

from ..engine_link import client, warm
from ..engine_link.result import ResultError, SegmentationResult, load_result
from ..scene import part_views, scene_io
from ..ui import preferences, properties


@dataclass(frozen=True)
class RunKind:
    """What one kind of run reads, sends, asks of the engine and writes back.

    on_parts: runs on an object with discovered parts (the result holder of the active object),
    else on the active object. cached_only: needs this mesh's cached model (no training).
    sends_parts: sends the object's part id of every triangle (``--face-labels``); the engine
    answers with the same ids. splits: cuts the active part into ``pieces`` (``--split-part``).
    build_meshes: replaces the panel's Part Meshes (None: the panel's).
    write: puts a result on the object, (context, job, object, result) -> what changed, for the report.
    """

    name: str
    write: Callable[..., str]
    on_parts: bool = False
    cached_only: bool = False
    sends_parts: bool = False
    splits: bool = False
    build_meshes: bool | None = None

    def options(self, options: client.RunOptions, pieces: int) -> client.RunOptions:
        """The panel's options as this kind runs them."""
        if self.build_meshes is not None:
            options = replace(options, build_meshes=self.build_meshes)
        return replace(options, parts=pieces) if self.splits else options


def _write_discovered(context, job: Job, obj, result: SegmentationResult) -> str:
    scene_io.write_back(context, obj, job.mesh_input, result, job.settings)
    client.store_model(result.folder, job.cache_dir, job.model_key)
    obj[scene_io.PROP_MODEL_KEY] = job.model_key
    return f"{len(result.parts)} parts ({len({p.type for p in result.parts})} types)"


def _write_reclustered(context, job: Job, obj, result: SegmentationResult) -> str:
    new, kept = scene_io.apply_recluster(obj, job.mesh_input, result)
    return f"re-clustered into {new} parts" + (f", {kept} locked kept" if kept else "")


def _write_part_meshes(context, job: Job, obj, result: SegmentationResult) -> str:
    if job.written_ids is not None and not np.array_equal(part_views.read_part_ids(obj.data), job.written_ids):
        raise scene_io.SceneError("the parts were edited while their meshes were built: use Rebuild Part Meshes")
    written, without = scene_io.replace_part_objects(context, obj, result)
    return f"{written} part meshes" + (f"; no mesh for {without}" if without else "")


def _write_rebuilt(context, job: Job, obj, result: SegmentationResult) -> str:
    return "rebuilt " + _write_part_meshes(context, job, obj, result)


def _write_split(context, job: Job, obj, result: SegmentationResult) -> str:
    label, pieces = scene_io.apply_split(obj, job.mesh_input, result, job.split_part)
    return f"split {label} into {pieces} parts"


# Fit (or reuse the model cached for this mesh and settings), then cluster.
DISCOVER = RunKind("discover", _write_discovered)
# Cluster again from the cached model, without part meshes; locked parts are kept.
RECLUSTER = RunKind("recluster", _write_reclustered, on_parts=True, cached_only=True, build_meshes=False)
# Part meshes from the object's current (edited) part ids.
REBUILD = RunKind("rebuild", _write_rebuilt, on_parts=True, sends_parts=True, build_meshes=True)
# The active part into ``pieces`` by its own activations, without part meshes.
SPLIT = RunKind("split", _write_split, on_parts=True, sends_parts=True, splits=True, build_meshes=False)


@dataclass
class Job:
    """The one active run: its process, job folder and the mesh the engine saw."""

    process: client.EngineProcess | warm.WarmRun
    job_dir: Path
    object_uid: int
    object_name: str
    mesh_input: scene_io.MeshInput
    settings: dict
    kind: RunKind = DISCOVER
    model_key: str = ""
    cache_dir: str = ""
    split_part: int | None = None
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting"
    fraction: float = 0.0
    cancel_requested: bool = False
    parts_written: str = ""
    parts_seconds: float | None = None  # from the start to the parts written at LABELS
    written_ids: np.ndarray | None = None

    def apply(self, event: dict) -> None:
        if event.get("type") == "PROGRESS":
            self.stage = str(event.get("stage", self.stage))
            self.fraction = min(max(float(event.get("overall", self.fraction)), 0.0), 1.0)
        elif event.get("type") == "STATUS":
            self.stage = str(event.get("message", self.stage))[:60]

    def status_text(self) -> str:
        building = "parts written, building part meshes: " if self.parts_written else ""
        return f"PartSDF: {building}{self.stage} {self.fraction * 100:.0f}% (Esc to cancel)"


@dataclass(frozen=True)
class RunTimes:
    """Seconds of the last ended run from its start: to the parts written at LABELS (None: not early) and to
    its end (results written)."""

    kind: str
    parts_s: float | None
    total_s: float


_active: Job | None = None
_last_times: RunTimes | None = None


def active_job() -> Job | None:
    """The run in progress, if any (read by the panel)."""
    return _active


def last_run_times() -> RunTimes | None:
    """How long the last ended run took (benchmarks and tests read it)."""
    return _last_times


def begin(context, kind: RunKind, pieces: int) -> Job:
    """Start a run (``start_job``) and make it the active one."""
    global _active
    _active = start_job(context, kind, pieces)
    return _active


def end(context, job: Job) -> tuple[set, str, str]:
    """Release the active run and write back its result (``finish_job``)."""
    global _active, _last_times
    _active = None
    try:
        return finish_job(context, job)
    finally:
        _last_times = RunTimes(job.kind.name, job.parts_seconds, time.monotonic() - job.started)


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


def start_job(context, kind: RunKind = DISCOVER, pieces: int = 2) -> Job:
    """Validate the object, write the job folder and start the engine. Raises SceneError or OSError.

    pieces: how many a split cuts the active part into (``SPLIT`` only).
    """
    obj = scene_io.result_holder(context.active_object) if kind.on_parts else context.active_object
    mesh_input = scene_io.read_mesh(obj)
    config = _engine_config(context)
    options = properties.run_options(context.scene.partsdf.settings)
    key = client.model_key(mesh_input.vertices, mesh_input.faces, options)
    reuse = client.cached_model(config.cache_dir, key)
    triangle_ids, split_part = _parts_input(kind, obj, mesh_input, reuse is not None, key)
    options = kind.options(options, pieces)
    process, job_dir = _launch(config, options, mesh_input, reuse, triangle_ids, split_part)
    settings = {**options.as_dict(), "device": config.device, "threads": config.threads or None}
    return Job(process, job_dir, obj.session_uid, obj.name, mesh_input, settings, kind=kind, model_key=key,
               cache_dir=config.cache_dir, split_part=split_part)


def _engine_config(context) -> client.EngineConfig:
    """The preferences' engine configuration; SceneError when Blender's Python has no torch."""
    config = preferences.engine_config(context)
    try:
        preferences.check_torch(config)
    except RuntimeError as error:
        raise scene_io.SceneError(str(error)) from None
    return config


def _parts_input(
    kind: RunKind, obj, mesh_input: scene_io.MeshInput, has_model: bool, key: str
) -> tuple[np.ndarray | None, int | None]:
    """What a run sends of the object's parts: (m,) part id per triangle or None, the part to split or None.

    Raises SceneError when a run on parts finds none, the kind needs a cached model that is
    missing, or the part to split is locked.
    """
    if not kind.on_parts:
        return None, None
    ids = _current_part_ids(obj)
    if kind.cached_only and not has_model:
        raise scene_io.SceneError(_no_model_message(obj, key))
    split_part = _part_to_split(obj) if kind.splits else None
    return (ids[mesh_input.triangle_polygons] if kind.sends_parts else None), split_part


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


def _part_to_split(obj) -> int:
    """The part id of the active part; raises SceneError when it is locked."""
    item = obj.partsdf.parts[min(obj.partsdf.active_index, len(obj.partsdf.parts) - 1)]
    if item.locked:
        raise scene_io.SceneError(f"{item.label} is locked: unlock it to split it")
    return item.part_id


def _launch(
    config: client.EngineConfig,
    options: client.RunOptions,
    mesh_input: scene_io.MeshInput,
    reuse: Path | None,
    triangle_ids: np.ndarray | None,
    split_part: int | None,
) -> tuple[client.EngineProcess | warm.WarmRun, Path]:
    """Write a job folder and start the engine on it; returns (process, job folder), removing the folder on failure."""
    job_dir = client.make_job_dir(config.cache_dir)
    try:
        mesh_path = client.write_mesh(job_dir, mesh_input.vertices, mesh_input.faces)
        labels = client.write_face_labels(job_dir, triangle_ids) if triangle_ids is not None else None
        command = client.segment_command(config, options, mesh_path, job_dir / client.JOB_RESULT, reuse=reuse,
                                         face_labels=labels, split_part=split_part)
        if config.keep_warm:  # the arguments after "python -m engine segment"
            return warm.run_segment(config, command[4:]), job_dir
        return client.EngineProcess(command, client.engine_env(config)).start(), job_dir
    except BaseException:
        client.remove_job_dir(job_dir)
        raise


def handle_event(context, job: Job, event: dict) -> None:
    """Follow one engine event; a Discover run writes its parts back as soon as LABELS announces them.

    That write is an undo step of its own (in the UI); the part meshes come with DONE (``finish_job``).
    A result that cannot be written yet is left for ``finish_job`` to report.
    """
    job.apply(event)
    if event.get("type") != "LABELS" or job.kind is not DISCOVER or job.parts_written or job.cancel_requested:
        return
    try:
        message = _write_result(context, job, Path(str(event.get("output", ""))), job.kind.write)
    except (ResultError, scene_io.SceneError):
        return
    except Exception:  # never let the modal handler die with the run still active: DONE writes it all again
        traceback.print_exc(file=sys.stderr)
        return
    job.parts_written = message
    job.parts_seconds = time.monotonic() - job.started
    job.written_ids = part_views.read_part_ids(_find_object(job).data)
    if not bpy.app.background:
        try:
            bpy.ops.ed.undo_push(message="PartSDF: parts")
        except RuntimeError:  # no undo stack in this context: the parts stay, in the run's one undo step
            pass


def finish_job(context, job: Job) -> tuple[set, str, str]:
    """Write back a finished job's result; returns (operator result, report level, message). Removes the job folder.

    After an early write of the parts (``handle_event``) only the part meshes are left to write; a cancel
    or a failure then keeps the parts and says so.
    """
    outcome = job.process.outcome
    kept = f"{job.parts_written} (in {job.parts_seconds:.0f} s) kept; " if job.parts_written else ""
    try:
        if outcome.cancelled or job.cancel_requested:
            if kept:
                return {"FINISHED"}, "WARNING", f"PartSDF: {kept}part meshes cancelled"
            return {"CANCELLED"}, "WARNING", "PartSDF: cancelled, the scene is unchanged"
        if not outcome.ok:
            return _failed(kept, outcome.message)
        if kept:
            message = (f"{job.parts_written} in {job.parts_seconds:.0f} s, "
                       f"{_write_result(context, job, outcome.output, _write_part_meshes)}")
        else:
            message = _write_result(context, job, outcome.output, job.kind.write)
        return {"FINISHED"}, "INFO", f"PartSDF: {message} in {time.monotonic() - job.started:.0f} s"
    except (ResultError, scene_io.SceneError) as error:
        return _failed(kept, str(error))
    finally:
        client.remove_job_dir(job.job_dir)


def _failed(kept: str, reason: str) -> tuple[set, str, str]:
    """The report of a run that failed; ``kept``: what an early write already put in the scene ('' if nothing)."""
    if kept:
        return {"FINISHED"}, "ERROR", f"PartSDF: {kept}part meshes failed: {reason}"
    return {"CANCELLED"}, "ERROR", f"PartSDF failed: {reason}"


def _write_result(context, job: Job, folder: Path, write: Callable[..., str]) -> str:
    """Load a result folder and ``write`` it onto the job's object (see ``RunKind.write``).

    Returns what changed, for the report; raises ResultError or SceneError.
    """
    mesh_input = job.mesh_input
    result = load_result(folder, len(mesh_input.faces))
    obj = _find_object(job)
    if not scene_io.mesh_matches(obj, mesh_input):
        raise scene_io.SceneError(f"'{obj.name}' was edited while the engine ran: run Discover Parts again")
    with _object_mode(context, obj):
        return write(context, job, obj, result)


def _find_object(job: Job):
    obj = next((o for o in bpy.data.objects if o.session_uid == job.object_uid), None)
    if obj is None or obj.type != "MESH":
        raise scene_io.SceneError(f"'{job.object_name}' was deleted while the engine ran")
    return obj


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
