"""``python -m bench``: the shape benchmark of BENCHMARK.md, written to docs/benchmarks.md.

Each shape is fitted once (auto mode); k=true mode and the cue ablations
re-segment the same fitted field, as a user's re-cluster would.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace

import numpy as np
import torch

from engine.pipeline import RunResult, run
from engine.progress import BarReporter, Reporter
from engine.settings import RunSettings, run_settings

from .ablation import FieldArrays, ablation_labels
from .baselines import baseline_labels
from .metrics import adjusted_rand, class_agnostic_miou, parts_found
from .part_bench import bench_part_volumes
from .report import render_markdown
from .shapes import benchmark_shapes, loose_railing_mesh, shape_mesh

ABLATIONS = {  # cue switches of SegmentSettings per ablation column
    "activations only": {"use_creases": False, "use_thickness": False},
    "creases only": {"use_activations": False, "use_thickness": False},
    "without thickness": {"use_thickness": False},
}
NOTES_MARKER = "<!-- notes: kept when the benchmark is re-run -->"
BASELINE_METHODS = ("components", "kmeans_xyz", "shape_diameter", "coacd")


def benchmark_meshes(names: list[str] | None) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    shapes = benchmark_shapes()
    wanted = names or [*shapes, "railing_loose"]
    meshes = {}
    for name in wanted:
        meshes[name] = loose_railing_mesh() if name == "railing_loose" else shape_mesh(shapes[name])
    return meshes


def _scores(truth: np.ndarray, labels: np.ndarray) -> dict:
    return {
        "ari": adjusted_rand(truth, labels), "miou": class_agnostic_miou(truth, labels), "parts": parts_found(labels)
    }


def bench_shape(vertices, faces, truth, quality: str, threads: int) -> tuple[dict, RunResult, RunSettings]:
    """Auto and k=true segmentations, ablations, timings of one shape; also the run and its settings."""
    k = int(truth.max() + 1)
    settings = run_settings(quality, seed=0, threads=threads)
    started = time.perf_counter()
    result = run(vertices, faces, settings, BarReporter())
    total = time.perf_counter() - started
    row = {"vertices": len(vertices), "truth_parts": k, "auto": _scores(truth, result.vertex_labels),
           "timings": dict(result.timings), "total": total, "classifier": result.classifier_accuracy}

    k_settings = replace(settings, segment=replace(settings.segment, parts=k), part_field=None)
    started = time.perf_counter()
    recluster = run(vertices, faces, k_settings, Reporter(), reuse=result.field)
    row["recluster_seconds"] = time.perf_counter() - started
    k_labels = recluster.vertex_labels

    row["k"] = _scores(truth, k_labels)
    arrays = FieldArrays.from_run(result, k_settings.segment, seed=0)
    for name, labels in ablation_labels(arrays, k_settings.segment, ABLATIONS, seed=0).items():
        row[name] = _scores(truth, labels)
    return row, result, settings


def bench_baselines(vertices, faces, truth) -> dict:
    k = int(truth.max() + 1)
    rows = {}
    for method in BASELINE_METHODS:
        for mode, given in (("auto", None), ("k", k)):
            if method == "kmeans_xyz" and given is None:
                continue
            started = time.perf_counter()
            try:
                labels = baseline_labels(method, vertices, faces, given, 0)
            except Exception as error:  # a failing baseline is a row with its reason, not a failed bench
                rows[(method, mode)] = {"error": f"{type(error).__name__}: {error}"}
                continue
            rows[(method, mode)] = {**_scores(truth, labels), "seconds": time.perf_counter() - started}
    return rows


def run_bench(args: argparse.Namespace) -> int:
    """Run the shape benchmark and write its markdown to ``args.output`` (notes below the marker kept)."""
    torch.set_num_threads(args.threads)
    meshes = benchmark_meshes(args.shapes)
    shapes = benchmark_shapes()
    rows, baselines = {}, {}
    for name, (vertices, faces, truth) in meshes.items():
        rows[name], result, settings = bench_shape(vertices, faces, truth, args.quality, args.threads)
        rows[name]["peak_rss_gb"] = _peak_rss_gb()
        if name in shapes:  # railing_loose (overlapping closed pieces) is scored on segmentation only
            rows[name]["parts"] = bench_part_volumes(shapes[name], vertices, faces, truth, result, settings,
                                                     coacd=args.baselines)
    if args.baselines:
        for name, (vertices, faces, truth) in meshes.items():
            baselines[name] = bench_baselines(vertices, faces, truth)
    peak_gb = _peak_rss_gb()
    command = "python -m bench " + " ".join(
        ([f"--shapes {' '.join(args.shapes)}"] if args.shapes else [])
        + [f"--quality {args.quality}", f"--threads {args.threads}"] + (["--baselines"] if args.baselines else [])
    )
    text = render_markdown(rows, baselines, args.quality, args.threads, peak_gb, command)
    if args.output.is_file() and NOTES_MARKER in args.output.read_text():
        text += "\n" + NOTES_MARKER + args.output.read_text().split(NOTES_MARKER, 1)[1]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    return 0


def _peak_rss_gb() -> float:
    """Peak resident memory of this process so far (monotonic), in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
