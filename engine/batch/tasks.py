"""One batch input as its own engine process: the command, the run, and the record it leaves.

Standard library only, so that a Ray worker on another machine needs nothing but the engine.
A mesh runs ``python -m engine segment`` (which writes its output folder atomically); a .blend
runs Blender (or Python with the bpy module) with ``scripts/batch_segment.py`` into a staging
folder that is renamed into place when it succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..contract import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_OK, SEGMENTATION

ENGINE_PARENT = Path(__file__).resolve().parents[2]  # the folder that holds the engine package
BATCH_SCRIPT = ENGINE_PARENT / "scripts" / "batch_segment.py"
ERROR_TAIL = 20  # lines of a failed run's stderr kept to find its error line


@dataclass(frozen=True)
class TaskOptions:
    """What every input of a batch is segmented with (saved in summary.json)."""

    quality: str = "balanced"
    parts: int | None = None
    types: int | None = None
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    part_meshes: bool = True
    features: str = "raw"
    blender: str | None = None  # Blender, or a Python with the bpy module, for .blend inputs


def task_command(source: Path, output: Path, kind: str, options: TaskOptions) -> list[str]:
    """The command line that segments one input into ``output`` (a staging folder for a .blend)."""
    shared = ["--quality", options.quality, "--seed", str(options.seed), "--device", options.device,
              "--threads", str(options.threads), "--features", options.features]
    shared += ["--parts", str(options.parts)] if options.parts else []
    shared += ["--types", str(options.types)] if options.types else []
    if kind == "mesh":
        return [sys.executable, "-m", "engine", "segment", str(source), "-o", str(output), *shared,
                *([] if options.part_meshes else ["--no-parts"])]
    front = [options.blender, str(BATCH_SCRIPT)]
    if "python" not in Path(options.blender).name.lower():
        front = [options.blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(BATCH_SCRIPT),
                 "--"]
    return [*front, "--input", str(source), "--output", str(output), *shared,
            *([] if options.part_meshes else ["--no-part-meshes"])]


def start_task(source: Path, output: Path, kind: str, options: TaskOptions) -> subprocess.Popen:
    """Start the input's process (its stdout discarded, stderr kept for the error line)."""
    if kind == "blend" and options.blender is None:
        raise FileNotFoundError("a .blend needs Blender: pass --blender with Blender or a Python with bpy")
    if kind == "blend" and not BATCH_SCRIPT.is_file():
        raise FileNotFoundError(f"{BATCH_SCRIPT} is missing: .blend inputs need the repository's scripts/")
    target = staging_folder(output) if kind == "blend" else output
    if kind == "blend":
        shutil.rmtree(target, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ENGINE_PARENT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "OMP_NUM_THREADS": str(options.threads), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(task_command(source, target, kind, options), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, errors="replace", env=environment,
                            cwd=str(ENGINE_PARENT))


def finish_task(process: subprocess.Popen, source: Path, output: Path, kind: str, started: float) -> dict:
    """Wait for the process and return its record: status ('ok' or 'failed'), exit code, error line, parts."""
    stderr = wait_interruptibly(process)
    record = input_record(source, output, kind, "failed", exit_code=process.returncode,
                          seconds=round(time.monotonic() - started, 2))
    if process.returncode == EXIT_OK:
        try:
            if kind == "blend":
                shutil.rmtree(output, ignore_errors=True)
                staging_folder(output).rename(output)
            record.update(status="ok", **output_counts(output, kind, source))
        except (OSError, ValueError, KeyError) as error:
            record.update(status="failed", error=f"the run ended but its output cannot be read: {error}")
        return record
    if kind == "blend":
        shutil.rmtree(staging_folder(output), ignore_errors=True)
    record["error"] = error_line(stderr, process.returncode)
    return record


def wait_interruptibly(process: subprocess.Popen, poll_s: float = 0.5) -> str:
    """The process's stderr once it has ended, waiting in short steps so that a KeyboardInterrupt (a
    Ray cancel sets it without breaking a blocking read) is raised within ``poll_s``."""
    while True:
        try:
            return process.communicate(timeout=poll_s)[1] or ""
        except subprocess.TimeoutExpired:
            continue


def run_task(source: str, output: str, kind: str, options: dict) -> dict:
    """Start and finish one input (a Ray task: arguments and result are plain data).

    A cancel (KeyboardInterrupt, as ``ray.cancel`` sends) stops the engine process, which leaves no output.
    """
    started = time.monotonic()
    try:
        process = start_task(Path(source), Path(output), kind, TaskOptions(**options))
    except OSError as error:
        return input_record(source, output, kind, "failed", error=str(error))
    try:
        return finish_task(process, Path(source), Path(output), kind, started)
    except BaseException:
        stop_process(process)
        raise


def input_record(source, output, kind: str, status: str, **fields) -> dict:
    """One input's line of the summary: status 'ok', 'skipped', 'failed' or 'cancelled', and ``fields``
    (exit_code, seconds, parts, types, part_types, error, attempts) over their defaults; ``part_types``: the
    type name of each part of a finished input."""
    return {"input": str(source), "output": str(output), "kind": kind, "status": status, "exit_code": None,
            "seconds": 0.0, "parts": None, "types": None, "error": "", "attempts": 1, **fields}


def stop_process(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM (the engine cancels and leaves no output), then SIGKILL after ``grace_s``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def error_line(stderr: str, exit_code: int) -> str:
    """The run's own ``error:`` line, else its last line, else what the exit code means."""
    lines = [line.strip() for line in stderr.strip().splitlines()[-ERROR_TAIL:] if line.strip()]
    own = [line for line in lines if line.startswith("error:")]
    if own:
        return own[-1].removeprefix("error:").strip()
    if exit_code is not None and exit_code < 0:
        return f"the engine process was killed (signal {-exit_code})"
    if exit_code == EXIT_CANCELLED:
        return "cancelled"
    return lines[-1] if lines else f"exit code {exit_code}"


def is_retryable(record: dict) -> bool:
    """A failure that may pass on a second try: a killed or crashed process, not a bad input."""
    return record["status"] == "failed" and record["exit_code"] not in (EXIT_BAD_INPUT, EXIT_CANCELLED)


def staging_folder(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial")


def output_counts(output: Path, kind: str, source: Path) -> dict:
    """Parts and types from the written result (for a .blend: summed over its objects)."""
    if kind == "mesh":
        document = json.loads((output / SEGMENTATION).read_text())
        return {"parts": len(document["parts"]), "types": len(document["types"]),
                "part_types": [part["type_name"] for part in document["parts"]]}
    report = json.loads((output / f"{source.stem}.json").read_text())
    objects = report.get("objects", []) if isinstance(report, dict) else []
    part_types = [part.get("type", "") for o in objects for part in o.get("parts") or []]
    return {"parts": len(part_types), "types": len(set(part_types)) if part_types else None,
            "part_types": part_types}
