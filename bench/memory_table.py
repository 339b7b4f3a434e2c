"""``python -m bench memory``: peak memory and time of ``python -m engine segment`` by mesh size."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .machine import machine_summary

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where ``python -m engine`` imports
MEMORY_SUBDIVISIONS = (5, 6, 7)  # icospheres of 20,480, 81,920 and 327,680 faces


def memory_table(subdivisions: list[int], quality: str = "fast", threads: int = 2) -> list[dict]:
    """Peak RSS and time of ``python -m engine segment --no-parts`` on icospheres, one subprocess each.

    Returns one row per subdivision level k (20 * 4^k faces): faces, welded
    vertices, peak RSS MB of the child (its own rusage), seconds, exit code, and
    the engine's own estimate in MB (``engine.memory``). A mesh refused as too
    large shows exit code 2 and the peak of the refusal.
    """
    import trimesh

    from engine.memory import estimated_peak_bytes
    from engine.settings import preset

    rows = []
    with tempfile.TemporaryDirectory(prefix="partsdf-memory-") as folder:
        for k in subdivisions:
            sphere = trimesh.creation.icosphere(subdivisions=k)
            mesh = os.path.join(folder, f"icosphere{k}.npz")
            np.savez(mesh, vertices=np.asarray(sphere.vertices), faces=np.asarray(sphere.faces))
            command = [sys.executable, "-m", "engine", "segment", mesh, "-o", os.path.join(folder, f"out{k}"),
                       "--quality", quality, "--no-parts", "--threads", str(threads)]
            peak_mb, seconds, code = measure_command(command)
            estimate = estimated_peak_bytes(len(sphere.vertices), preset(quality).model) / 1024**2
            rows.append({"faces": len(sphere.faces), "vertices": len(sphere.vertices), "peak_rss_mb": peak_mb,
                         "seconds": seconds, "exit_code": code, "estimate_mb": estimate})
    return rows


def measure_command(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run a command in the repository (output discarded, ``env``: its environment, default this one's);
    its peak RSS in MB, wall seconds and exit code (Unix)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=REPOSITORY, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    return peak_rss_mb(usage), seconds, child.returncode


def peak_rss_mb(usage) -> float:
    """A finished child's peak RSS in MB from its ``os.wait4`` rusage (ru_maxrss: bytes on macOS, KiB on Linux)."""
    return usage.ru_maxrss / (1024**2 if sys.platform == "darwin" else 1024)


def render_memory_table(rows: list[dict], quality: str, threads: int) -> str:
    """Markdown for ``memory_table`` rows."""
    machine = machine_summary()
    lines = [
        "## Memory by mesh size",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}: `python -m engine segment ICOSPHERE.npz "
        f"--quality {quality} --no-parts --threads {threads}`, one process per mesh (peak RSS from its rusage; "
        "exit code 2: refused before work). Estimate: `engine.memory.estimated_peak_bytes`; a run refuses a mesh "
        "whose estimate does not fit in the available memory.",
        "",
        "| faces | welded vertices | peak RSS MB | estimate MB | seconds | exit code |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(f"| {row['faces']:,} | {row['vertices']:,} | {row['peak_rss_mb']:.0f} | {row['estimate_mb']:.0f} "
                     f"| {row['seconds']:.1f} | {row['exit_code']} |")
    return "\n".join(lines) + "\n"


def run_memory_bench(subdivisions: list[int], quality: str, threads: int) -> int:
    """``python -m bench memory [K ...]``: print the memory table (paste it into docs/benchmarks.md)."""
    print(render_memory_table(memory_table(subdivisions, quality, threads), quality, threads))
    return 0
