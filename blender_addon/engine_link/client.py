"""Engine subprocess client: job folder, command line, environment, events.

This module never imports bpy nor the engine: it starts ``<python> -m engine``
in a subprocess and reads its JSON-lines events (the engine's protocol, see
``contract``: STATUS, PROGRESS, WARN, ERROR, DONE) on a background thread. The UI polls
``EngineProcess.poll()`` from a modal timer; background mode calls
``EngineProcess.wait()``. Both go through the same reader.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .contract import (
    EXIT_CANCELLED,
    FACE_LABELS,
    FIELD_GENERATION,
    MODEL_FILES,
    MODEL_INFO,
    MODEL_WEIGHTS,
    decode,
    extension_root,
)

JOB_MESH, JOB_RESULT = "mesh.npz", "result"  # the add-on's own names in a job folder
CANCEL_GRACE_S = 5.0
READER_GRACE_S = 2.0
STDERR_TAIL_LINES = 40
_ACTIVE: set[EngineProcess] = set()
_ACTIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class EngineConfig:
    """Where and how the engine runs (from the add-on preferences).

    python: interpreter path ('' = the running Python, i.e. Blender's).
    device: auto/cpu/cuda/mps. threads: 0 = engine default.
    cache_dir: parent of job folders ('' = system temp).
    site_dirs: site-packages folders where Blender installed the extension's wheels.
    keep_warm: runs go to one engine kept between them (``warm``), not a process each.
    """

    python: str = ""
    device: str = "auto"
    threads: int = 0
    cache_dir: str = ""
    site_dirs: tuple[str, ...] = ()
    keep_warm: bool = False


@dataclass(frozen=True)
class RunOptions:
    """One run's settings; maps 1:1 onto the engine's ``segment`` options."""

    quality: str = "balanced"
    parts: int | None = None
    types: int | None = None
    seed: int = 0
    build_meshes: bool = True
    features: str = "raw"

    def as_dict(self) -> dict:
        return {
            "quality": self.quality,
            "parts": self.parts,
            "types": self.types,
            "seed": self.seed,
            "build_meshes": self.build_meshes,
            "features": self.features,
        }


@dataclass
class Outcome:
    """How a finished engine run ended.

    ok: DONE received, exit code 0, output folder present.
    output: the result folder (only when ok). message: one line for the user.
    """

    ok: bool
    exit_code: int | None
    message: str
    output: Path | None = None
    cancelled: bool = False
    warnings: list[str] = field(default_factory=list)


def decode_event(line: str) -> dict | None:
    """One protocol message from a stdout line, or None when it is not one."""
    try:
        return decode(line)
    except ValueError:
        return None


def decode_json_object(line: str) -> dict | None:
    """Any JSON object on a line (used for ``engine info``), or None."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def engine_env(config: EngineConfig, root: Path | None = None) -> dict:
    """Environment of the engine subprocess.

    PYTHONPATH: the extension root, then (for Blender's own Python only) the
    wheel site-packages. An external Python uses its own packages.
    """
    paths = [str(root or extension_root())]
    if not config.python:
        paths += list(config.site_dirs)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUNBUFFERED"] = "1"
    if config.threads:
        env["OMP_NUM_THREADS"] = str(config.threads)
    return env


def python_executable(config: EngineConfig) -> str:
    """The interpreter that runs the engine."""
    return config.python or sys.executable


def segment_command(
    config: EngineConfig,
    options: RunOptions,
    mesh_path: Path,
    output: Path,
    reuse: Path | None = None,
    face_labels: Path | None = None,
    split_part: int | None = None,
) -> list[str]:
    """Command line of ``engine segment`` for a job.

    reuse: a cached model folder; face_labels: given parts, one id per triangle (``.npy``);
    split_part: the part id in ``face_labels`` to split into ``options.parts`` pieces.
    """
    command = [python_executable(config), "-m", "engine", "segment", str(mesh_path), "-o", str(output)]
    if reuse is not None:
        command += ["--reuse", str(reuse)]
    if face_labels is not None:
        command += ["--face-labels", str(face_labels)]
    if split_part is not None:
        command += ["--split-part", str(split_part)]
    command += ["--events", "--quality", options.quality, "--seed", str(options.seed), "--device", config.device,
                "--features", options.features]
    if options.parts is not None:
        command += ["--parts", str(options.parts)]
    if options.types is not None:
        command += ["--types", str(options.types)]
    if config.threads:
        command += ["--threads", str(config.threads)]
    if not options.build_meshes:
        command.append("--no-parts")
    return command


def info_command(config: EngineConfig) -> list[str]:
    return [python_executable(config), "-m", "engine", "info"]


def make_job_dir(cache_dir: str = "") -> Path:
    """A fresh, private job folder (under ``cache_dir`` or the system temp folder)."""
    parent = None
    if cache_dir:
        parent = Path(cache_dir).expanduser()
        parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="partsdf-job-", dir=parent))


def write_mesh(job_dir: Path, vertices: np.ndarray, faces: np.ndarray) -> Path:
    """Write ``mesh.npz`` ((n, 3) float64 vertices, (m, 3) int64 faces) into the job folder; returns its path."""
    mesh_path = job_dir / JOB_MESH
    with open(mesh_path, "wb") as stream:
        np.savez(stream, vertices=np.asarray(vertices, np.float64), faces=np.asarray(faces, np.int64))
    return mesh_path


def model_key(vertices: np.ndarray, faces: np.ndarray, options: RunOptions) -> str:
    """Cache key of a fitted model: the object-space geometry and the settings the fit depends on.

    vertices: (n, 3) object-space coordinates (a move, rotation or scale of the object keeps the key);
    faces: (m, 3) triangles. Settings: quality and seed; and the engine's ``FIELD_GENERATION``.
    """
    digest = hashlib.sha256()
    digest.update(np.round(np.asarray(vertices, np.float64), 9).tobytes())
    digest.update(np.asarray(faces, np.int64).tobytes())
    digest.update(f"{options.quality}|{options.seed}|{FIELD_GENERATION}".encode())
    return digest.hexdigest()[:20]


def model_cache_dir(cache_dir: str = "") -> Path:
    """Where fitted models are kept between runs (``partsdf-models`` under the cache or temp folder)."""
    return (Path(cache_dir).expanduser() if cache_dir else Path(tempfile.gettempdir())) / "partsdf-models"


def cached_model(cache_dir: str, key: str) -> Path | None:
    """The cached model folder for ``key``, or None."""
    folder = model_cache_dir(cache_dir) / key
    return folder if all((folder / name).is_file() for name in (MODEL_WEIGHTS, MODEL_INFO)) else None


def store_model(result: Path, cache_dir: str, key: str) -> None:
    """Copy a result's fitted model (weights, settings, surface graph) into the cache under ``key``."""
    target = model_cache_dir(cache_dir) / key
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        for name in MODEL_FILES:
            if (result / name).is_file():
                shutil.copy2(result / name, staging / name)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def write_face_labels(job_dir: Path, labels: np.ndarray) -> Path:
    """Write (m,) int part ids, one per triangle of ``mesh.npz``, as ``face_labels.npy``; returns its path."""
    path = job_dir / FACE_LABELS
    np.save(path, np.asarray(labels, np.int64))
    return path


def remove_job_dir(job_dir: Path | None) -> None:
    if job_dir is not None:
        shutil.rmtree(job_dir, ignore_errors=True)


def stop_all(timeout: float = CANCEL_GRACE_S) -> None:
    """Stop every running engine (file load, add-on disable, quit)."""
    with _ACTIVE_LOCK:
        processes = list(_ACTIVE)
    for process in processes:
        process.stop(timeout)


class ProcessOutput:
    """Two threads that read a running process: stdout lines through ``decoder`` into a queue of messages
    (lines it cannot read are kept as ``garbage``), and the last lines of stderr (``stderr_tail``)."""

    def __init__(self, process: subprocess.Popen, decoder: Callable[[str], dict | None] = decode_event):
        self.decoder = decoder
        self.messages: queue.Queue = queue.Queue()
        self.garbage: list[str] = []
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.threads = [threading.Thread(target=self._read_stdout, args=(process.stdout,), daemon=True),
                        threading.Thread(target=self._read_stderr, args=(process.stderr,), daemon=True)]
        for thread in self.threads:
            thread.start()

    @property
    def reading(self) -> bool:
        """Whether a pipe is still open (a grandchild may hold it after the process ended)."""
        return any(thread.is_alive() for thread in self.threads)

    def _read_stdout(self, stream) -> None:
        for raw in stream:
            line = raw.strip()
            if not line:
                continue
            message = self.decoder(line)
            if message is None:
                self.garbage.append(line[:200])
            else:
                self.messages.put(message)

    def _read_stderr(self, stream) -> None:
        for raw in stream:
            self.stderr_tail.append(raw.rstrip())

    def drain(self, until: tuple[str, ...] = ()) -> list[dict]:
        """The messages received so far (non-blocking), stopping after the first whose type is in ``until``."""
        messages = []
        while True:
            try:
                messages.append(self.messages.get_nowait())
            except queue.Empty:
                return messages
            if messages[-1].get("type") in until:
                return messages

    def clear(self) -> None:
        """Forget what was read so far (a warm engine's next request starts clean)."""
        self.drain()
        self.garbage.clear()
        self.stderr_tail.clear()


class FollowedRun:
    """What a job follows, whether a process of its own (``EngineProcess``) or a request to a warm engine
    (``warm.WarmRun``): ``poll`` gives new events and sets ``outcome`` at the end; ``wait`` blocks."""

    outcome: Outcome | None = None

    @property
    def running(self) -> bool:
        return self.outcome is None

    def poll(self) -> list[dict]:
        raise NotImplementedError

    def wait(self, on_event: Callable[[dict], None] | None = None, interval: float = 0.1) -> Outcome:
        """Block until the run ends, passing each event to ``on_event``."""
        while True:
            for event in self.poll():
                if on_event is not None:
                    on_event(event)
            if self.outcome is not None:
                return self.outcome
            time.sleep(interval)


class EngineProcess(FollowedRun):
    """One engine subprocess and the threads that read it (``ProcessOutput``).

    ``poll()`` returns the events received since the last call; once the
    process has ended and its output is read, ``outcome`` is set.
    ``decoder`` turns a stdout line into a message dict (None: not understood).
    """

    def __init__(self, command: list[str], env: dict, decoder: Callable[[str], dict | None] = decode_event):
        self.command = command
        self.env = env
        self.decoder = decoder
        self.outcome: Outcome | None = None
        self._received: list[dict] = []
        self._cancel_deadline: float | None = None
        self._exited_at: float | None = None
        self._process: subprocess.Popen | None = None
        self._output: ProcessOutput | None = None

    @property
    def stderr_tail(self) -> deque[str]:
        return self._output.stderr_tail if self._output is not None else deque()

    def start(self) -> EngineProcess:
        """Start the subprocess; a missing interpreter becomes a failed outcome, not an exception."""
        try:
            self._process = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as error:
            self.outcome = Outcome(False, None, f"cannot start the engine with '{self.command[0]}': {error}")
            return self
        with _ACTIVE_LOCK:
            _ACTIVE.add(self)
        self._output = ProcessOutput(self._process, self.decoder)
        return self

    def poll(self) -> list[dict]:
        """Events received since the last call (non-blocking); sets ``outcome`` when the run is over."""
        if self._output is None:
            return []
        events = self._output.drain()
        if self.outcome is None:
            if self._process.poll() is None:
                if self._cancel_deadline is not None and time.monotonic() > self._cancel_deadline:
                    self._process.kill()
            else:
                self._exited_at = self._exited_at or time.monotonic()
                # A grandchild holding the pipes open must not keep the run alive forever.
                if not self._output.reading or time.monotonic() > self._exited_at + READER_GRACE_S:
                    events += self._output.drain()
                    self._finish(self._process.returncode, events)
                    return events
        self._received += events
        return events

    def cancel(self) -> None:
        """Ask the engine to stop (SIGINT on POSIX, terminate on Windows); killed after a grace period."""
        if self._process is None or self._process.poll() is not None or self._cancel_deadline is not None:
            return
        self._cancel_deadline = time.monotonic() + CANCEL_GRACE_S
        send_cancel(self._process)

    def stop(self, timeout: float = CANCEL_GRACE_S) -> Outcome:
        """Cancel and block until the process has ended (killing it after ``timeout``)."""
        if self.outcome is not None:
            return self.outcome
        self.cancel()
        if self._process is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        return self.wait()

    def _finish(self, exit_code: int, last_events: list[dict]) -> None:
        self._received += last_events
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self)
        self.outcome = interpret(exit_code, self._received, self._output.garbage, list(self._output.stderr_tail),
                                 self._cancel_deadline is not None)


def send_cancel(process: subprocess.Popen) -> None:
    """SIGINT on POSIX (the engine stops the running request), terminate on Windows (no SIGINT to send)."""
    try:
        if os.name == "nt":
            process.terminate()
        else:
            process.send_signal(signal.SIGINT)
    except OSError:
        pass


def interpret(
    exit_code: int, events: list[dict], garbage: list[str], stderr_tail: list[str], cancel_requested: bool
) -> Outcome:
    """The outcome of a finished run from its exit code, events, unparsed lines and stderr tail."""
    warnings = [str(e.get("message", "")) for e in events if e.get("type") == "WARN"]
    done = next((e for e in reversed(events) if e.get("type") == "DONE"), None)
    error = next((e for e in reversed(events) if e.get("type") == "ERROR"), None)
    if garbage:
        warnings.append(
            f"the engine printed {len(garbage)} line(s) that are not protocol messages: {garbage[0][:80]!r}"
        )
    if exit_code == 0 and done is not None:
        output = Path(str(done.get("output", "")))
        if output.is_dir():
            return Outcome(True, 0, "done", output=output, warnings=warnings)
        message = f"the engine reported a result folder that does not exist: {output}"
        return Outcome(False, 0, message, warnings=warnings)
    if cancel_requested or exit_code == EXIT_CANCELLED or (error and error.get("exit_code") == EXIT_CANCELLED):
        return Outcome(False, exit_code, "cancelled", cancelled=True, warnings=warnings)
    if error is not None:
        return Outcome(False, exit_code, str(error.get("message", "engine error")), warnings=warnings)
    return Outcome(False, exit_code, _failure_message(exit_code, garbage, stderr_tail), warnings=warnings)


def _failure_message(exit_code: int, garbage: list[str], stderr_tail: list[str]) -> str:
    """A clear line for a run that ended without an ERROR message of its own."""
    if exit_code is not None and exit_code < 0:
        what = f"the engine was killed by signal {-exit_code}"
    elif exit_code == 0:
        what = "the engine ended without reporting a result"
    else:
        what = f"the engine stopped with exit code {exit_code}"
    detail = ""
    if "No module named" in "\n".join(stderr_tail):
        missing = next(line for line in reversed(stderr_tail) if "No module named" in line)
        detail = f" (missing dependency: {missing.split('No module named', 1)[1].strip()})"
    elif garbage:
        detail = f" (its output was not understood: {garbage[0][:80]!r})"
    elif stderr_tail:
        detail = f" ({stderr_tail[-1][:160]})"
    return what + detail
