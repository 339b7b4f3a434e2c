"""``python -m bench batch``: meshes per hour of ``python -m engine batch`` against its worker plan.

The inputs are the benchmark's shapes (and the loose railing) written as OBJ files. Timed on this
machine, each configuration on a fresh output folder, one after another: the single-process batch
(``scripts/batch_segment.py`` in one Blender-as-a-module process, the add-on's warm engine) as the
baseline, then the engine batch with a local process pool for every (workers, threads) plan that
fills the cores, then the same through Ray embedded. Written to docs/batch.md and as a section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trimesh

from .machine import machine_summary
from .shape_bench import benchmark_meshes

REPO = Path(__file__).resolve().parent.parent
SECTION_START, SECTION_END = "<!-- batch throughput -->", "<!-- /batch throughput -->"


def write_inputs(folder: Path) -> list[int]:
    """The benchmark meshes as OBJ files in ``folder``; returns their vertex counts."""
    counts = []
    for name, (vertices, faces, _) in benchmark_meshes(None).items():
        trimesh.Trimesh(vertices, faces, process=False).export(folder / f"{name}.obj")
        counts.append(len(vertices))
    return counts


def plans(cpus: int) -> list[tuple[int, int]]:
    """(workers, threads) with workers x threads = cpus: 1 x cpus, ..., cpus x 1 (powers of two)."""
    result, workers = [], 1
    while workers <= cpus:
        result.append((workers, cpus // workers))
        workers *= 2
    return result


def time_command(command: list[str], inputs: int, summary: Path | None) -> dict:
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.monotonic() - started
    failed = None
    if summary is not None and summary.is_file():
        failed = json.loads(summary.read_text())["totals"]["failed"]
    return {"wall_s": wall, "meshes_per_hour": 3600.0 * inputs / wall, "exit_code": done.returncode,
            "failed": failed, "error": done.stderr.strip().splitlines()[-1] if done.returncode and done.stderr else ""}


def measure(inputs: Path, count: int, quality: str, part_meshes: bool, cpus: int, with_ray: bool) -> list[dict]:
    """One row per configuration, the baseline first."""
    options = ["--quality", quality, *([] if part_meshes else ["--no-parts"])]
    rows = []
    with tempfile.TemporaryDirectory(prefix="partsdf-batch-bench-") as scratch:
        baseline = [sys.executable, str(REPO / "scripts" / "batch_segment.py"), "--input", str(inputs),
                    "--output", str(Path(scratch) / "baseline"), "--quality", quality, "--threads", str(cpus),
                    *([] if part_meshes else ["--no-part-meshes"])]
        rows.append({"config": f"scripts/batch_segment.py (one Blender process, {cpus} threads)",
                     **time_command(baseline, count, None)})
        backends = ["local", *(["ray"] if with_ray else [])]
        for backend in backends:
            for workers, threads in plans(cpus) if backend == "local" else plans(cpus)[-1:]:
                out = Path(scratch) / f"{backend}-{workers}x{threads}"
                command = [sys.executable, "-m", "engine", "batch", str(inputs), "-o", str(out), "--backend", backend,
                           "--workers", str(workers), "--threads", str(threads), *options]
                rows.append({"config": f"engine batch, {backend}, {workers} engines x {threads} threads",
                             **time_command(command, count, out / "summary.json")})
                print(rows[-1], flush=True)
    base = rows[0]["meshes_per_hour"]
    for row in rows:
        row["speedup"] = row["meshes_per_hour"] / base
    return rows


def render(rows: list[dict], vertex_counts: list[int], quality: str, part_meshes: bool, command: str) -> str:
    lines = [f"Measured {datetime.date.today().isoformat()} on {machine_summary()}: `{command}`; "
             f"{len(vertex_counts)} meshes (the benchmark shapes and the loose railing as OBJ files, "
             f"{min(vertex_counts):,}-{max(vertex_counts):,} vertices), quality {quality}, "
             f"{'with' if part_meshes else 'without'} part meshes. Wall time from the command's start to its exit.",
             "", "| configuration | wall s | meshes per hour | vs baseline | failed | exit |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row['config']} | {row['wall_s']:.1f} | {row['meshes_per_hour']:.0f} | "
                     f"{row['speedup']:.2f}x | {'' if row['failed'] is None else row['failed']} | {row['exit_code']} |")
    return "\n".join(lines) + "\n"


def insert_section(path: Path, body: str) -> None:
    """Replace (or append) the marked batch section of docs/benchmarks.md."""
    section = f"{SECTION_START}\n### Batch throughput (`python -m bench batch`, issue 15)\n\n{body}{SECTION_END}\n"
    text = path.read_text() if path.is_file() else ""
    if SECTION_START in text and SECTION_END in text:
        head, rest = text.split(SECTION_START, 1)
        text = head + section + rest.split(SECTION_END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench batch", description=__doc__.splitlines()[0])
    parser.add_argument("--quality", choices=("fast", "balanced", "high"), default="balanced")
    parser.add_argument("--no-parts", action="store_true", help="labels only")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray row")
    parser.add_argument("--output", type=Path, default=Path("docs/batch.md"))
    parser.add_argument("--benchmarks", type=Path, default=Path("docs/benchmarks.md"))
    return parser


def run_batch_bench(argv: list[str]) -> int:
    args = batch_parser().parse_args(argv)
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="partsdf-batch-inputs-") as folder:
        vertex_counts = write_inputs(Path(folder))
        rows = measure(Path(folder), len(vertex_counts), args.quality, not args.no_parts, cpus, not args.no_ray)
    command = "python -m bench batch" + (f" --quality {args.quality}" if args.quality != "balanced" else "") + (
        " --no-parts" if args.no_parts else "")
    body = render(rows, vertex_counts, args.quality, not args.no_parts, command)
    args.output.write_text("# Batch throughput\n\n" + body)
    insert_section(args.benchmarks, body)
    print(body)
    return 0 if all(row["exit_code"] == 0 for row in rows) else 1
