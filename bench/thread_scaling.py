"""``python -m bench threads``: stage times of one ``python -m engine segment`` run per CPU thread count.

Each count runs in its own engine process (``--threads T``) on the same benchmark shape, so torch's
thread pool is set once, as in a user's run; the stage times are the engine's own (segmentation.json).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import tempfile

import numpy as np

from engine.contract import SEGMENTATION

from .machine import machine_summary
from .memory_table import measure_command
from .shapes import benchmark_shapes, shape_mesh

STAGES = ("load", "fit", "probe", "segment", "part_fit", "part_mesh")


def default_thread_counts() -> list[int]:
    """1, 2, 4, ... up to this machine's cores (and the core count itself)."""
    cores = os.cpu_count() or 1
    counts = [1 << i for i in range(cores.bit_length()) if 1 << i <= cores]
    return counts if counts[-1] == cores else [*counts, cores]


def thread_scaling(thread_counts: list[int], quality: str = "balanced", shape: str = "snowman",
                   part_meshes: bool = True) -> list[dict]:
    """One row per thread count: threads asked and used, seconds per stage, wall seconds, exit code."""
    vertices, faces, _ = shape_mesh(benchmark_shapes()[shape])
    rows = []
    with tempfile.TemporaryDirectory(prefix="partsdf-threads-") as folder:
        mesh = os.path.join(folder, f"{shape}.npz")
        np.savez(mesh, vertices=vertices, faces=faces)
        for threads in thread_counts:
            out = os.path.join(folder, f"out{threads}")
            command = [sys.executable, "-m", "engine", "segment", mesh, "-o", out, "--quality", quality,
                       "--threads", str(threads)] + ([] if part_meshes else ["--no-parts"])
            _, wall, code = measure_command(command, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
            row = {"threads": threads, "wall": wall, "exit_code": code}
            if code == 0:
                document = json.loads(open(os.path.join(out, SEGMENTATION), encoding="utf-8").read())
                row["threads_used"] = document["threads"]
                row.update({stage: document["timings"].get(stage) for stage in STAGES})
            rows.append(row)
    return rows


def render_thread_table(rows: list[dict], quality: str, shape: str) -> str:
    """Markdown for ``thread_scaling`` rows, with the fit's speed-up over the first row."""
    machine = machine_summary()
    lines = [
        "## Threads",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}: `python -m engine segment {shape} "
        f"--quality {quality} --threads T`, one process per T (`python -m bench threads`); seconds per stage "
        "from segmentation.json.",
        "",
        "| threads | used | load | fit | probe | segment | part fit | part mesh | wall | fit speed-up | exit code |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    base_fit = rows[0].get("fit") if rows else None
    for row in rows:
        cells = [f"{row[s]:.2f}" if row.get(s) is not None else "-" for s in STAGES]
        speedup = f"{base_fit / row['fit']:.2f}x" if base_fit and row.get("fit") else "-"
        lines.append(f"| {row['threads']} | {row.get('threads_used', '-')} | " + " | ".join(cells)
                     + f" | {row['wall']:.1f} | {speedup} | {row['exit_code']} |")
    return "\n".join(lines) + "\n"
