"""``python -m bench stability``: the same shape exported twice must come back as the same parts.

Each benchmark shape is meshed at three marching-cubes resolutions and, at its own resolution, once more
with every vertex moved by Gaussian noise of ``JITTER`` times the bounding-box diagonal (what a second
export or a round trip through another tool does). Each mesh runs through auto mode (seed 0, labels
only). Reported per shape: ARI against the truth of every run, its spread (max - min), and the agreement
between runs (ARI of each run's labels carried to the reference mesh's vertices by nearest vertex,
against the reference run). Written to docs/stability.md.
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from engine.mesh.marching import mesh_from_sdf
from engine.pipeline import run
from engine.progress import Reporter
from engine.settings import run_settings

from .machine import machine_summary
from .metrics import adjusted_rand, parts_found
from .report import finite_mean
from .shapes import Shape, benchmark_shapes

RESOLUTION_FACTORS = (0.8, 1.0, 1.2)
JITTER = 1e-6
REFERENCE = "1x"  # the benchmark's own resolution


def stability_meshes(shape: Shape, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run name ('0.8x', '1x', '1.2x': the resolution factor; 'jitter') -> (vertices (n, 3), faces (m, 3))."""
    meshes = {}
    for factor in RESOLUTION_FACTORS:
        meshes[f"{factor:g}x"] = mesh_from_sdf(shape.sdf, int(round(shape.mesh_resolution * factor)))
    vertices, faces = meshes[REFERENCE]
    diagonal = float(np.linalg.norm(vertices.max(axis=0) - vertices.min(axis=0)))
    noise = np.random.default_rng(seed).normal(scale=JITTER * diagonal, size=vertices.shape)
    meshes["jitter"] = (vertices + noise, faces)
    return meshes


def agreement(reference_vertices: np.ndarray, reference_labels: np.ndarray,
              vertices: np.ndarray, labels: np.ndarray) -> float:
    """ARI between the reference labels and ``labels`` carried to the reference vertices (nearest vertex)."""
    nearest = cKDTree(vertices).query(reference_vertices)[1]
    return adjusted_rand(reference_labels, labels[nearest])


def bench_stability(shape: Shape, quality: str, threads: int) -> dict:
    """Per run of one shape: ARI against the truth, parts, seconds, agreement with the reference run."""
    settings = run_settings(quality, seed=0, threads=threads, part_meshes=False)
    runs = {}
    for name, (vertices, faces) in stability_meshes(shape).items():
        started = time.perf_counter()
        labels = run(vertices, faces, settings, Reporter()).vertex_labels
        runs[name] = {"vertices": vertices, "labels": labels, "seconds": time.perf_counter() - started,
                      "ari": adjusted_rand(shape.labels(vertices), labels), "parts": parts_found(labels)}
    reference = runs[REFERENCE]
    for r in runs.values():
        r["agreement"] = agreement(reference["vertices"], reference["labels"], r["vertices"], r["labels"])
    aris = [r["ari"] for r in runs.values()]
    return {"runs": {name: {k: v for k, v in r.items() if k not in ("vertices", "labels")} for name, r in runs.items()},
            "spread": max(aris) - min(aris), "worst_agreement": min(r["agreement"] for r in runs.values())}


def render_stability(rows: dict[str, dict], command: str) -> str:
    """docs/stability.md: one line per shape, runs as columns."""
    lines = [
        "# Stability: the same shape meshed again", "",
        f"Measured {datetime.date.today().isoformat()} on {machine_summary()}. Command: `{command}`.",
        f"Each shape meshed at {', '.join(f'{f:g}x' for f in RESOLUTION_FACTORS)} its benchmark resolution (160^3 for",
        "most shapes, 256^3 for the railing) and",
        f"at 1x with vertex jitter of {JITTER:g} of the bounding-box diagonal; auto mode, seed 0 (bench/stability.py).",
        "Cells: ARI against the truth (parts found); *agreement*: ARI of each run's labels carried to the",
        "reference (1x) mesh by nearest vertex against the reference run, the worst of the runs.", "",
    ]
    names = list(next(iter(rows.values()))["runs"])
    lines += ["| shape | " + " | ".join(names) + " | spread | worst agreement |",
              "| --- | " + " | ".join("---" for _ in names) + " | --- | --- |"]
    for shape, row in rows.items():
        cells = [f"{row['runs'][n]['ari']:.3f} ({row['runs'][n]['parts']})" for n in names]
        lines.append(f"| {shape} | " + " | ".join(cells) + f" | {row['spread']:.3f} | {row['worst_agreement']:.3f} |")
    lines.append("| **average** | " + " | ".join(f"{finite_mean(r['runs'][n]['ari'] for r in rows.values()):.3f}"
                                              for n in names)
                 + f" | {finite_mean(r['spread'] for r in rows.values()):.3f}"
                 + f" | {finite_mean(r['worst_agreement'] for r in rows.values()):.3f} |")
    lines += ["", f"Largest spread: {max(r['spread'] for r in rows.values()):.3f}. Seconds per run: "
              f"{finite_mean(run['seconds'] for r in rows.values() for run in r['runs'].values()):.1f}."]
    return "\n".join(lines) + "\n"


def stability_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench stability", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="*", help="shape names (default: all ten)")
    parser.add_argument("--quality", choices=("fast", "balanced", "high"), default="balanced")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("docs/stability.md"))
    return parser


def run_stability(argv: list[str]) -> int:
    args = stability_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    shapes = benchmark_shapes()
    rows = {}
    for name in args.shapes or list(shapes):
        rows[name] = bench_stability(shapes[name], args.quality, args.threads)
        print(name, {run: f"{r['ari']:.3f}/{r['agreement']:.3f}" for run, r in rows[name]["runs"].items()}, flush=True)
    command = "python -m bench stability" + (f" --shapes {' '.join(args.shapes)}" if args.shapes else "")
    text = render_stability(rows, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    return 0
