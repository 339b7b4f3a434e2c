"""``python -m engine bench``: the benchmark of BENCHMARK.md, written to docs/benchmarks.md.

Each shape is fitted once (auto mode); k=true mode and the cue ablations
re-segment the same fitted field, as a user's re-cluster would.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np

from .bench_parts import JUNCTION_TOLERANCE, SHARE_TOLERANCE, bench_part_volumes
from .metrics import adjusted_rand, class_agnostic_miou, parts_found
from .pipeline import RunResult, run
from .probing import activations, feature_set
from .progress import BarReporter, Reporter
from .segmentation import build_surface_graph, segment_surface
from .settings import RunSettings, run_settings
from .shapes import benchmark_shapes, loose_railing_mesh, shape_mesh

PUBLISHED_ARI = {
    "lollipop": 0.996, "mushroom": 0.960, "snowman": 0.634, "l_shape": 0.606, "tower": 0.601,
    "tpipe": 0.380, "chair": 0.371, "table": 0.249, "barbell": 0.237,
}
ABLATIONS = {"activations only": (True, False), "creases only": (False, True)}
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

    unit = result.field.normalisation.to_unit(result.welded.vertices)
    layers = activations(result.field.model, unit, __import__("torch").device("cpu"))
    features = feature_set(layers, settings.segment.feature_set)
    row["k"] = _scores(truth, k_labels)
    for name, (use_activations, use_creases) in ABLATIONS.items():
        ablation = replace(k_settings.segment, use_activations=use_activations, use_creases=use_creases)
        graph = build_surface_graph(unit, result.welded.faces, features, ablation)
        labels = segment_surface(unit, graph, ablation, 0).part_labels[result.welded.input_to_welded]
        row[name] = _scores(truth, labels)
    return row, result, settings


def bench_baselines(vertices, faces, truth) -> dict:
    from .baselines import baseline_labels

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
    if getattr(args, "memory", None) is not None:  # --memory [K ...]: the memory table only
        return run_memory_bench(args.memory or list(MEMORY_SUBDIVISIONS), args.quality, args.threads)
    import torch

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
    command = "python -m engine bench " + " ".join(
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


MEMORY_SUBDIVISIONS = (5, 6, 7)  # icospheres of 20,480, 81,920 and 327,680 faces


def memory_table(subdivisions: list[int], quality: str = "fast", threads: int = 2) -> list[dict]:
    """Peak RSS and time of ``python -m engine segment --no-parts`` on icospheres, one subprocess each.

    Returns one row per subdivision level k (20 * 4^k faces): faces, welded
    vertices, peak RSS MB of the child (its own rusage), seconds, exit code, and
    the engine's own estimate in MB (``engine.memory``). A mesh refused as too
    large shows exit code 2 and the peak of the refusal.
    """
    import trimesh

    from .memory import estimated_peak_bytes
    from .settings import preset

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


def measure_command(command: list[str]) -> tuple[float, float, int]:
    """Run a command (output discarded); its peak RSS in MB, wall seconds and exit code (Unix)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    scale = 1024**2 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return usage.ru_maxrss / scale, seconds, child.returncode


def render_memory_table(rows: list[dict], quality: str, threads: int) -> str:
    """Markdown for ``memory_table`` rows."""
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
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
    """``python -m engine bench --memory [K ...]``: print the memory table (paste it into docs/benchmarks.md)."""
    print(render_memory_table(memory_table(subdivisions, quality, threads), quality, threads))
    return 0


def _peak_rss_gb() -> float:
    """Peak resident memory of this process so far (monotonic), in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _mean(values) -> float:
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def render_markdown(rows: dict, baselines: dict, quality: str, threads: int, peak_gb: float, command: str) -> str:
    machine = f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, {platform.system()}"
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}, torch threads {threads}, CPU only.",
        f"Command: `{command}`. Peak RSS of the whole run (baselines included): {peak_gb:.2f} GB; the",
        "per-shape column below is the process peak after our pipeline had run on that shape and the ones",
        "before it (baselines run after all of ours).",
        "",
        "## Segmentation (ARI / mIoU / parts found vs true)",
        "",
        "| shape | verts | true | auto ARI | auto mIoU | auto parts | k=true ARI | k=true mIoU | published ARI* "
        "| activations only (k) | creases only (k) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        published = PUBLISHED_ARI.get(name)
        lines.append(
            f"| {name} | {r['vertices']} | {r['truth_parts']} | {r['auto']['ari']:.3f} | {r['auto']['miou']:.3f} "
            f"| {r['auto']['parts']} | {r['k']['ari']:.3f} | {r['k']['miou']:.3f} "
            f"| {published if published is not None else '-'} | {r['activations only']['ari']:.3f} "
            f"| {r['creases only']['ari']:.3f} |"
        )
    nine = [n for n in rows if n in PUBLISHED_ARI]
    if nine:
        lines.append(
            f"| **average of the nine** | | | {_mean(rows[n]['auto']['ari'] for n in nine):.3f} | "
            f"{_mean(rows[n]['auto']['miou'] for n in nine):.3f} | | {_mean(rows[n]['k']['ari'] for n in nine):.3f} | "
            f"{_mean(rows[n]['k']['miou'] for n in nine):.3f} | 0.559 | "
            f"{_mean(rows[n]['activations only']['ari'] for n in nine):.3f} | "
            f"{_mean(rows[n]['creases only']['ari'] for n in nine):.3f} |"
        )
    lines += ["", "*Published: best layer chosen per shape by ground truth (BENCHMARK.md); ours chooses nothing "
              "by ground truth.", "", "## Time per stage (seconds) and classifier", "",
              "| shape | load | fit | probe | segment | part fit | part mesh | total | re-cluster (k, saved model) "
              "| peak RSS GB | nearest-centroid surface acc. |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        t = r["timings"]
        lines.append(
            f"| {name} | {t['load']:.2f} | {t['fit']:.1f} | {t['probe']:.2f} | {t['segment']:.2f} "
            f"| {t.get('part_fit', float('nan')):.1f} | {t.get('part_mesh', float('nan')):.1f} | {r['total']:.1f} "
            f"| {r['recluster_seconds']:.2f} | {r['peak_rss_gb']:.2f} | {r['classifier']:.3f} |"
        )
    lines += render_part_tables({name: r["parts"] for name, r in rows.items() if "parts" in r})
    if baselines:
        lines += ["", "## Baselines in the same run (ARI / parts found; seconds)", ""]
        methods = [m for m in next(iter(baselines.values()))]
        lines.append("| shape | ours auto | ours k | " + " | ".join(f"{m} {mode}" for m, mode in methods) + " |")
        lines.append("| --- " * (3 + len(methods)) + "|")
        for name, b in baselines.items():
            cells = []
            for key in methods:
                cell = b[key]
                cells.append(f"error: {cell['error'][:40]}" if "error" in cell
                             else f"{cell['ari']:.3f} / {cell['parts']} ({cell['seconds']:.0f}s)")
            lines.append(f"| {name} | {rows[name]['auto']['ari']:.3f} | {rows[name]['k']['ari']:.3f} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ownership_cell(row: dict) -> str:
    if "error" in row:
        return f"error: {row['error'][:40]}"
    return f"{row['accuracy']:.3f} / {row['max_share_error']:.2f} / {row['shares_within']}"


def render_part_tables(parts: dict) -> list[str]:
    """Markdown for the per-part SDF metrics (ownership, shares, Chamfer, junction normals)."""
    if not parts:
        return []
    methods = list(next(iter(parts.values()))["rows"])
    coacd = any("coacd" in p for p in parts.values())
    columns = methods + (["CoACD pieces"] if coacd else [])
    lines = [
        "", "## Per-part SDFs: interior ownership", "",
        f"{next(iter(parts.values()))['interior_points_drawn']:,} points uniform in [-0.6, 0.6]^3, those inside the "
        "shape kept; cell: ownership accuracy / largest relative error of a true part's interior share / true "
        f"parts whose share is within {SHARE_TOLERANCE:.0%}. Parts are matched to the truth on surface labels "
        "(Hungarian). Rows marked *diagnostic* use ground-truth surface labels instead of ours: they separate "
        "volume errors from segmentation errors and are not results.", "",
        "| shape | true parts | " + " | ".join(columns) + " |",
        "| --- " * (2 + len(columns)) + "|",
    ]
    for name, p in parts.items():
        cells = [_ownership_cell(p["rows"][m]) for m in methods] + ([_ownership_cell(p["coacd"])] if coacd else [])
        lines.append(f"| {name} | {p['true_parts']} | " + " | ".join(cells) + " |")
    averages = [f"{_mean(p['rows'][m]['accuracy'] for p in parts.values()):.3f}" for m in methods]
    if coacd:
        averages.append(f"{_mean(p['coacd'].get('accuracy') for p in parts.values()):.3f}")
    lines.append(f"| **average accuracy ({len(parts)} shapes)** | | " + " | ".join(averages) + " |")
    lines += [
        "", "## Per-part SDFs: union fidelity, junction sharpness, stage times", "",
        "Chamfer-L1 (mean of both directions, 100k samples each) against the benchmark mesh; the global SDF's mesh is "
        "marching cubes of the single fitted network on the same grid as the parts. Junction normal error: mean angle "
        f"(degrees) between true and predicted normals at true surface points within {JUNCTION_TOLERANCE} of where "
        "two true part SDFs meet.", "",
        "| shape | union Chamfer | global SDF Chamfer | CoACD union Chamfer | junction normals: union | global SDF "
        "| junction points | part fit s | part mesh s | parts without mesh |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, p in parts.items():
        normals = p["junction_normals"]
        coacd_chamfer = p.get("coacd", {}).get("chamfer")
        lines.append(
            f"| {name} | {p['chamfer']['union']:.5f} | {p['chamfer']['global']:.5f} "
            f"| {'-' if coacd_chamfer is None else f'{coacd_chamfer:.5f}'} "
            f"| {normals.get('union', float('nan')):.1f} | {normals.get('global', float('nan')):.1f} "
            f"| {p['junction_points']} | {p['part_fit_seconds']:.1f} | {p['part_mesh_seconds']:.1f} "
            f"| {p['part_meshes_empty']} |"
        )
    return lines
