"""``python -m bench kitbash``: the benchmark shapes built as artists' assets are, from separate pieces.

Each shape of BENCHMARK.md is meshed four ways, all with the same ground truth (the shape's parts):

- ``welded``: one marching-cubes surface (the shape benchmark's mesh);
- ``loose``: each part its own closed mesh, touching or interpenetrating its neighbours (a kitbashed asset);
- ``screws``: ``loose`` plus small closed spheres half sunk into each part (screws, bolts, rivets), each
  labelled with the part it sits on;
- ``boards``: each part cut into slabs along its longest side, every slab its own closed mesh (a chair
  built from boards): the parts must be grouped from several pieces each.

Our auto mode and Blender's Separate by Loose Parts (the ``components`` baseline) are scored by ARI on
every variant, in one run, written to docs/kitbash.md.
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import numpy as np

from engine.mesh.marching import mesh_from_sdf
from engine.pipeline import run
from engine.progress import Reporter
from engine.settings import run_settings

from .baselines import baseline_labels
from .machine import machine_summary
from .metrics import adjusted_rand, parts_found
from .report import finite_mean
from .shapes import SDF, Shape, benchmark_shapes, shape_mesh, sphere

VARIANTS = ("welded", "loose", "screws", "boards")
SCREWS_PER_PART = 2
SCREW_RADIUS = 0.015
SCREW_RESOLUTION = 12
BOARDS_PER_PART = 3

Mesh = tuple[np.ndarray, np.ndarray, np.ndarray]


def _pieces_mesh(pieces: list[tuple[np.ndarray, np.ndarray, int]]) -> Mesh:
    """Concatenate closed pieces (vertices (n, 3), faces (m, 3), part id) into one mesh with vertex truth."""
    offsets = np.cumsum([0] + [len(vertices) for vertices, _, _ in pieces])
    vertices = np.concatenate([v for v, _, _ in pieces])
    faces = np.concatenate([f + offset for (_, f, _), offset in zip(pieces, offsets[:-1], strict=True)])
    truth = np.concatenate([np.full(len(v), part, dtype=np.int64) for v, _, part in pieces])
    return vertices, faces, truth


def loose_pieces(shape: Shape) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """One closed mesh per part of ``shape``, meshed on the shape's own grid."""
    return [(*mesh_from_sdf(part.sdf, shape.mesh_resolution), index) for index, part in enumerate(shape.parts)]


def screw_pieces(shape: Shape, parts: list[tuple[np.ndarray, np.ndarray, int]], seed: int = 0):
    """Small closed spheres centred on exposed surface points of each part (inside no other part)."""
    rng = np.random.default_rng(seed)
    vertices, faces = mesh_from_sdf(sphere([0, 0, 0], SCREW_RADIUS), SCREW_RESOLUTION, bound=2 * SCREW_RADIUS)
    screws = []
    for part_vertices, _, index in parts:
        exposed = part_vertices[shape.labels(part_vertices) == index]
        for centre in exposed[rng.choice(len(exposed), SCREWS_PER_PART, replace=False)]:
            screws.append((vertices + centre, faces, index))
    return screws


def _slab(axis: int, low: float, high: float) -> SDF:
    middle, half = (low + high) / 2, (high - low) / 2
    return lambda p: np.abs(p[:, axis] - middle) - half


def board_pieces(shape: Shape) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Each part cut into ``BOARDS_PER_PART`` slabs across its longest side, each slab a closed mesh."""
    boards = []
    for index, (vertices, _, _) in enumerate(loose_pieces(shape)):
        part = shape.parts[index]
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        axis = int(np.argmax(high - low))
        cuts = np.linspace(low[axis] - 1e-3, high[axis] + 1e-3, BOARDS_PER_PART + 1)
        for start, end in zip(cuts[:-1], cuts[1:], strict=True):
            slab = _slab(axis, start, end)
            board_vertices, board_faces = mesh_from_sdf(
                lambda p, part=part, slab=slab: np.maximum(part.sdf(p), slab(p)), shape.mesh_resolution
            )
            boards.append((board_vertices, board_faces, index))
    return boards


def kitbashed_meshes(shape: Shape) -> dict[str, Mesh]:
    """The four variants of one shape (module docstring): name -> (vertices, faces, vertex truth)."""
    parts = loose_pieces(shape)
    return {
        "welded": shape_mesh(shape),
        "loose": _pieces_mesh(parts),
        "screws": _pieces_mesh(parts + screw_pieces(shape, parts)),
        "boards": _pieces_mesh(board_pieces(shape)),
    }


def bench_variant(mesh: Mesh, quality: str, threads: int) -> dict:
    """Our auto-mode labels and Separate by Loose Parts on one mesh, scored against its truth."""
    vertices, faces, truth = mesh
    started = time.perf_counter()
    result = run(vertices, faces, run_settings(quality, seed=0, threads=threads, part_meshes=False), Reporter())
    seconds = time.perf_counter() - started
    components = baseline_labels("components", vertices, faces, None, 0)
    return {
        "ari": adjusted_rand(truth, result.vertex_labels), "parts": parts_found(result.vertex_labels),
        "truth_parts": parts_found(truth), "seconds": seconds,
        "components_ari": adjusted_rand(truth, components), "pieces": parts_found(components),
    }


def render_kitbash(rows: dict[str, dict[str, dict]], command: str) -> str:
    """docs/kitbash.md: per shape, ARI / parts found of ours and of Separate by Loose Parts per variant."""
    lines = [
        "# Kitbashed shapes", "",
        f"Measured {datetime.date.today().isoformat()} on {machine_summary()}. Command: `{command}`.",
        "Each benchmark shape meshed as one welded surface, as separate closed parts (loose), loose with two",
        f"screws (closed spheres of radius {SCREW_RADIUS}) half sunk into each part, and with each part cut into",
        f"{BOARDS_PER_PART} closed boards (bench/kitbash.py). Cells: ARI (parts found / true). *Loose Parts*:",
        "Blender's Separate by Loose Parts, one part per closed piece.", "",
        "| shape | " + " | ".join(f"{v} ours | {v} Loose Parts" for v in VARIANTS) + " |",
        "| --- | " + " | ".join("--- | ---" for _ in VARIANTS) + " |",
    ]
    for name, variants in rows.items():
        cells = []
        for variant in VARIANTS:
            r = variants[variant]
            cells.append(f"{r['ari']:.3f} ({r['parts']}/{r['truth_parts']}) | "
                         f"{r['components_ari']:.3f} ({r['pieces']})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    means = [f"{finite_mean(v[variant]['ari'] for v in rows.values()):.3f} | "
             f"{finite_mean(v[variant]['components_ari'] for v in rows.values()):.3f}" for variant in VARIANTS]
    lines.append("| **average** | " + " | ".join(means) + " |")
    at_least = {variant: sum(v[variant]["ari"] >= v["welded"]["ari"] - 0.01 for v in rows.values())
                for variant in VARIANTS[1:]}
    lines += ["", "Shapes whose variant scores at least its welded ARI (within 0.01): "
              + ", ".join(f"{variant} {count}/{len(rows)}" for variant, count in at_least.items()) + ".",
              "Seconds per run (ours, labels only): "
              + ", ".join(f"{variant} {finite_mean(v[variant]['seconds'] for v in rows.values()):.1f}"
                          for variant in VARIANTS) + "."]
    return "\n".join(lines) + "\n"


def kitbash_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench kitbash", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="*", help="shape names (default: all ten)")
    parser.add_argument("--quality", choices=("fast", "balanced", "high"), default="balanced")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("docs/kitbash.md"))
    return parser


def run_kitbash(argv: list[str]) -> int:
    args = kitbash_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    shapes = benchmark_shapes()
    rows = {}
    for name in args.shapes or list(shapes):
        rows[name] = {}
        for variant, mesh in kitbashed_meshes(shapes[name]).items():
            rows[name][variant] = bench_variant(mesh, args.quality, args.threads)
            r = rows[name][variant]
            print(f"{name} {variant}: ARI {r['ari']:.3f}, {r['parts']}/{r['truth_parts']} parts, "
                  f"{r['pieces']} pieces, {r['seconds']:.1f} s", flush=True)
    command = "python -m bench kitbash" + (f" --shapes {' '.join(args.shapes)}" if args.shapes else "")
    text = render_kitbash(rows, command)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    return 0
