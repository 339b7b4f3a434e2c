"""Markdown of the shape benchmark (docs/benchmarks.md)."""

from __future__ import annotations

import datetime

import numpy as np

from .machine import machine_summary
from .part_bench import JUNCTION_TOLERANCE, SHARE_TOLERANCE

PUBLISHED_ARI = {
    "lollipop": 0.996, "mushroom": 0.960, "snowman": 0.634, "l_shape": 0.606, "tower": 0.601,
    "tpipe": 0.380, "chair": 0.371, "table": 0.249, "barbell": 0.237,
}


def finite_mean(values) -> float:
    """Mean of the values that are neither None nor nan (nan when none are)."""
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def render_markdown(rows: dict, baselines: dict, quality: str, threads: int, peak_gb: float, command: str) -> str:
    """docs/benchmarks.md: header, segmentation, stage times, per-part SDF tables and, if run, the baselines.

    rows: shape name -> its row from ``bench_shape`` (with ``peak_rss_gb`` and, for
    analytic shapes, ``parts`` from ``bench_part_volumes``); baselines: shape name ->
    ``{(method, mode): cell}`` from ``bench_baselines``, empty when not run.
    """
    lines = _header(threads, peak_gb, command)
    lines += _segmentation_table(rows)
    lines += _timing_table(rows)
    lines += render_part_tables({name: r["parts"] for name, r in rows.items() if "parts" in r})
    if baselines:
        lines += _baseline_table(rows, baselines)
    return "\n".join(lines) + "\n"


def _header(threads: int, peak_gb: float, command: str) -> list[str]:
    machine = machine_summary()
    return [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine}, torch threads {threads}, CPU only.",
        f"Command: `{command}`. Peak RSS of the whole run (baselines included): {peak_gb:.2f} GB; the",
        "per-shape column below is the process peak after our pipeline had run on that shape and the ones",
        "before it (baselines run after all of ours).",
        "",
    ]


def _segmentation_table(rows: dict) -> list[str]:
    """ARI / mIoU / parts found per shape, auto and k=true, with the average over the nine published shapes."""
    lines = [
        "## Segmentation (ARI / mIoU / parts found vs true)",
        "",
        "| shape | verts | true | auto ARI | auto mIoU | auto parts | k=true ARI | k=true mIoU | published ARI* "
        "| activations only (k) | creases only (k) | without thickness (k) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        published = PUBLISHED_ARI.get(name)
        lines.append(
            f"| {name} | {r['vertices']} | {r['truth_parts']} | {r['auto']['ari']:.3f} | {r['auto']['miou']:.3f} "
            f"| {r['auto']['parts']} | {r['k']['ari']:.3f} | {r['k']['miou']:.3f} "
            f"| {published if published is not None else '-'} | {r['activations only']['ari']:.3f} "
            f"| {r['creases only']['ari']:.3f} | {r['without thickness']['ari']:.3f} |"
        )
    nine = [n for n in rows if n in PUBLISHED_ARI]
    if nine:
        lines.append(
            f"| **average of the nine** | | | {finite_mean(rows[n]['auto']['ari'] for n in nine):.3f} | "
            f"{finite_mean(rows[n]['auto']['miou'] for n in nine):.3f} | | "
            f"{finite_mean(rows[n]['k']['ari'] for n in nine):.3f} | "
            f"{finite_mean(rows[n]['k']['miou'] for n in nine):.3f} | 0.559 | "
            f"{finite_mean(rows[n]['activations only']['ari'] for n in nine):.3f} | "
            f"{finite_mean(rows[n]['creases only']['ari'] for n in nine):.3f} | "
            f"{finite_mean(rows[n]['without thickness']['ari'] for n in nine):.3f} |"
        )
    return lines + ["", "*Published: best layer chosen per shape by ground truth (BENCHMARK.md); ours chooses "
                    "nothing by ground truth."]


def _timing_table(rows: dict) -> list[str]:
    """Seconds per stage, re-cluster time, peak RSS and classifier accuracy per shape."""
    lines = ["", "## Time per stage (seconds) and classifier", "",
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
    return lines


def _baseline_table(rows: dict, baselines: dict) -> list[str]:
    """ARI / parts found (seconds) of every baseline and mode beside ours, per shape."""
    methods = list(next(iter(baselines.values())))
    lines = ["", "## Baselines in the same run (ARI / parts found; seconds)", "",
             "| shape | ours auto | ours k | " + " | ".join(f"{m} {mode}" for m, mode in methods) + " |",
             "| --- " * (3 + len(methods)) + "|"]
    for name, b in baselines.items():
        cells = [_baseline_cell(b[key]) for key in methods]
        lines.append(f"| {name} | {rows[name]['auto']['ari']:.3f} | {rows[name]['k']['ari']:.3f} | "
                     + " | ".join(cells) + " |")
    return lines


def _baseline_cell(cell: dict) -> str:
    if "error" in cell:
        return f"error: {cell['error'][:40]}"
    return f"{cell['ari']:.3f} / {cell['parts']} ({cell['seconds']:.0f}s)"


def _ownership_cell(row: dict) -> str:
    if "error" in row:
        return f"error: {row['error'][:40]}"
    return f"{row['accuracy']:.3f} / {row['max_share_error']:.2f} / {row['shares_within']}"


def render_part_tables(parts: dict) -> list[str]:
    """Markdown for the per-part SDF metrics (ownership, shares, Chamfer, junction normals).

    parts: shape name -> its row from ``bench_part_volumes``; no lines when empty.
    """
    if not parts:
        return []
    return _ownership_table(parts) + _fidelity_table(parts)


def _ownership_table(parts: dict) -> list[str]:
    """Interior ownership accuracy / share error / shares within tolerance, per shape and method."""
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
    averages = [f"{finite_mean(p['rows'][m]['accuracy'] for p in parts.values()):.3f}" for m in methods]
    if coacd:
        averages.append(f"{finite_mean(p['coacd'].get('accuracy') for p in parts.values()):.3f}")
    lines.append(f"| **average accuracy ({len(parts)} shapes)** | | " + " | ".join(averages) + " |")
    return lines


def _fidelity_table(parts: dict) -> list[str]:
    """Union and global Chamfer, junction normal errors and part stage times, per shape."""
    lines = [
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
