"""``python -m bench speed``: how long a user waits for the parts and for the part meshes.

Each mesh runs the add-on's command, ``python -m engine segment MESH -o OUT --events --threads T``,
in a fresh process. The clock starts before the process starts and reads the LABELS event (the parts
are on disk) and DONE (the part meshes are too); stage seconds come from segmentation.json, the peak
RSS from the child's rusage. ``--previous PATH`` runs the same command with the engine of PATH (a
checkout of an earlier commit, e.g. ``git worktree add /tmp/previous <commit>``) in the same run, and
CoACD runs on the same mesh, so that every ratio compares numbers taken minutes apart.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.contract import SEGMENTATION, VERTEX_LABELS, decode

from .baselines import coacd_hulls
from .machine import machine_summary
from .memory_table import REPOSITORY, peak_rss_mb
from .metrics import adjusted_rand
from .shapes import benchmark_shapes, shape_mesh

STAGES = ("load", "fit", "probe", "segment", "part_fit", "part_mesh")
FINE_RESOLUTION = 224  # the snowman on a 224^3 grid: about 200k faces


def speed_meshes() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Name -> (vertices (n, 3), faces (m, 3), true labels (n,)): the snowman, the railing, a 200k-face snowman."""
    shapes = benchmark_shapes()
    fine = replace(shapes["snowman"], mesh_resolution=FINE_RESOLUTION)
    return {"snowman": shape_mesh(shapes["snowman"]), "railing": shape_mesh(shapes["railing"]),
            f"snowman {FINE_RESOLUTION}^3": shape_mesh(fine)}


def timed_segment(mesh: Path, out: Path, threads: int, engine_root: Path, quality: str = "balanced") -> dict:
    """One CLI run with ``--events`` from ``engine_root``: seconds to LABELS and to DONE, stages, peak RSS MB,
    parts found and the (n,) vertex labels."""
    command = [sys.executable, "-m", "engine", "segment", str(mesh), "-o", str(out), "--events",
               "--threads", str(threads), "--quality", quality]
    env = {**os.environ, "PYTHONPATH": str(engine_root), "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             cwd=engine_root, env=env)
    row = {"labels_s": None, "done_s": None}
    for line in child.stdout:
        kind = decode(line)["type"]
        if kind in ("LABELS", "DONE"):
            row[f"{kind.lower()}_s"] = time.perf_counter() - started
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    row.update(exit_code=child.returncode, peak_rss_mb=peak_rss_mb(usage))
    if child.returncode == 0:
        document = json.loads((out / SEGMENTATION).read_text(encoding="utf-8"))
        row.update({stage: document["timings"].get(stage) for stage in STAGES}, parts=len(document["parts"]),
                   labels=np.load(out / VERTEX_LABELS))
    return row


def speed_table(threads: int, previous: Path | None) -> list[dict]:
    """One row per mesh and engine (this one, then ``previous``), with CoACD's seconds on that mesh."""
    rows = []
    engines = [("this", Path(REPOSITORY))] + ([("previous", previous)] if previous else [])
    with tempfile.TemporaryDirectory(prefix="partsdf-speed-") as folder:
        for name, (vertices, faces, truth) in speed_meshes().items():
            mesh = Path(folder) / "mesh.npz"
            np.savez(mesh, vertices=vertices, faces=faces)
            started = time.perf_counter()
            coacd_hulls(vertices, faces)
            coacd_seconds = time.perf_counter() - started
            for engine, root in engines:
                row = timed_segment(mesh, Path(folder) / f"out-{engine}", threads, root)
                labels = row.pop("labels", None)
                row.update(mesh=name, faces=len(faces), engine=engine, coacd_s=coacd_seconds,
                           ari=None if labels is None else adjusted_rand(truth, labels))
                rows.append(row)
    return rows


def _cell(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_speed_table(rows: list[dict], threads: int, previous: Path | None) -> str:
    """Markdown for ``speed_table`` rows; ratios against CoACD and against the previous engine on the same mesh."""
    done = {(row["mesh"], row["engine"]): row["done_s"] for row in rows}
    lines = [
        "## Speed: time to parts and to part meshes",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine_summary()}: `python -m bench speed --threads "
        f"{threads}" + (" --previous PREVIOUS" if previous else "") + "`. Each row is one `python -m engine "
        "segment MESH -o OUT --events` process (balanced preset, the add-on's command), timed from before the "
        "process starts: *parts* when the LABELS event says the labels are on disk, *meshes* at DONE. "
        "CoACD (its defaults) ran on the same mesh in the same run.",
        "",
        "| mesh | faces | engine | parts s | meshes s | load | fit | probe | segment | part fit | part mesh "
        "| peak RSS MB | parts | ARI | CoACD s | parts / CoACD | meshes / CoACD | previous / this (meshes) |",
        "| --- " * 18 + "|",
    ]
    for row in rows:
        stages = " | ".join(_cell(row.get(stage), 2) for stage in STAGES)
        coacd = row["coacd_s"]
        previous_done = done.get((row["mesh"], "previous"))
        speedup = (f"{previous_done / row['done_s']:.2f}x" if row["engine"] == "this" and previous_done
                   and row["done_s"] else "-")
        labels_ratio = f"{row['labels_s'] / coacd:.2f}" if row["labels_s"] else "-"
        done_ratio = f"{row['done_s'] / coacd:.2f}" if row["done_s"] else "-"
        lines.append(
            f"| {row['mesh']} | {row['faces']:,} | {row['engine']} | {_cell(row['labels_s'])} | "
            f"{_cell(row['done_s'])} | {stages} | {row['peak_rss_mb']:.0f} | {row.get('parts', '-')} | "
            f"{_cell(row['ari'], 3)} | {coacd:.1f} | {labels_ratio} | {done_ratio} | {speedup} |")
    return "\n".join(lines) + "\n"
