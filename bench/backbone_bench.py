"""``python -m bench backbone``: the shared backbone beside today's per-mesh field (issue 14, docs/backbone.md).

For held-out collection shapes (never trained on) and the benchmark shapes, each mesh is segmented twice
in auto mode with the same segmentation: once on its own fitted field (the engine as it ships), once on
the shared backbone under a latent code optimised against the mesh's SDF samples (no decoder training).
Reported: ARI against the truth, parts found, seconds, and the SDF error of each field near the surface.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.backbone.coded import CodedDecoder, frame_scale
from engine.backbone.latent_fit import fit_latent
from engine.backbone.weights import SHIPPED, load_backbone
from engine.field.fitting import sdf_pool
from engine.field.probing import activations, evaluate, feature_set
from engine.field.sdf_truth import signed_distance_function
from engine.field.thickness import surface_thickness
from engine.pipeline import run
from engine.progress import Reporter
from engine.segment.segmentation import build_surface_graph, segment_surface, with_clusters
from engine.settings import run_settings

from .collection.shapes import collection_shape
from .machine import machine_summary
from .metrics import adjusted_rand
from .shapes import benchmark_shapes, shape_mesh

LOG = logging.getLogger(__name__)
LATENT_STEPS = 300


@dataclass(frozen=True)
class Comparison:
    """One mesh segmented on its own field and on the backbone."""

    name: str
    truth_parts: int
    own_ari: float
    own_parts: int
    own_seconds: float
    own_sdf_error: float
    backbone_ari: float
    backbone_parts: int
    backbone_seconds: float
    backbone_sdf_error: float


def backbone_segmentation(decoder, unit_vertices: np.ndarray, faces: np.ndarray, seed: int,
                          steps: int = LATENT_STEPS) -> tuple[np.ndarray, CodedDecoder]:
    """(n,) part labels of a welded mesh in unit-cube coordinates, segmented on the backbone, and its field."""
    settings = run_settings("balanced", seed=seed, threads=torch.get_num_threads(), part_meshes=False)
    device = torch.device("cpu")
    distance = signed_distance_function(unit_vertices, faces, settings.fit.sdf_backend)
    points, targets = sdf_pool(unit_vertices, faces, distance, settings.fit, np.random.default_rng(seed), device)
    scale = frame_scale(unit_vertices)
    code = fit_latent(decoder, points * scale, targets * scale, steps=steps, seed=seed)
    field = CodedDecoder(decoder, code, scale)
    segment = settings.segment
    features = feature_set(activations(field, unit_vertices, device), segment.feature_set)
    thickness = surface_thickness(field, unit_vertices, faces, device, seed)
    graph = with_clusters(build_surface_graph(unit_vertices, faces, features, thickness, segment), segment, seed)
    return segment_surface(unit_vertices, graph, segment, seed).part_labels, field


def near_surface_error(model, unit_vertices: np.ndarray, faces: np.ndarray, seed: int) -> float:
    """Mean |field - truth| at 20k points within the engine's tight sampling band of the surface."""
    fit = run_settings("balanced", seed=seed).fit
    distance = signed_distance_function(unit_vertices, faces, fit.sdf_backend)
    rng = np.random.default_rng(seed + 1)
    from engine.mesh.sampling import training_points

    points = training_points(unit_vertices, faces, 20_000, (0.002, 0.01), 0.0, fit.sample_bound, rng)
    return float(np.abs(evaluate(model, points, torch.device("cpu"))[:, 0] - distance(points)).mean())


def compare(name: str, vertices: np.ndarray, faces: np.ndarray, truth: np.ndarray, decoder, seed: int = 0
            ) -> Comparison:
    """Both segmentations of one mesh (vertices (n, 3), faces (m, 3), truth (n,) vertex parts)."""
    settings = run_settings("balanced", seed=seed, threads=torch.get_num_threads(), part_meshes=False)
    started = time.perf_counter()
    result = run(vertices, faces, settings, Reporter())
    own_seconds = time.perf_counter() - started
    welded = result.welded
    unit = result.field.normalisation.to_unit(welded.vertices)
    started = time.perf_counter()
    labels, field = backbone_segmentation(decoder, unit, welded.faces, seed)
    backbone_seconds = time.perf_counter() - started
    backbone_labels = labels[welded.input_to_welded]
    return Comparison(
        name, int(truth.max() + 1),
        adjusted_rand(truth, result.vertex_labels), int(len(np.unique(result.vertex_labels))), own_seconds,
        near_surface_error(result.field.model, unit, welded.faces, seed),
        adjusted_rand(truth, backbone_labels), int(len(np.unique(backbone_labels))), backbone_seconds,
        near_surface_error(field, unit, welded.faces, seed),
    )


def held_out_meshes(seed: int, count: int) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, vertices, faces, truth vertex parts) of the first ``count`` held-out collection shapes."""
    meshes = []
    for index in range(count):
        shape = collection_shape(seed, "held_out", index)
        vertices, faces = shape.mesh(128)
        meshes.append((f"{shape.family}/{shape.builder} {index}", vertices, faces, shape.instances(vertices)))
    return meshes


def render_comparisons(rows: list[Comparison], record: dict, command: str) -> str:
    """docs/backbone.md: one row per mesh and the means per group (held-out, benchmark)."""
    lines = ["# The shared backbone beside the per-mesh field", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {machine_summary()}: `{command}`. Backbone: "
             f"{record['settings']}, trained {record['provenance'].get('seconds')} s "
             f"({record['provenance'].get('recipe', {}).get('shapes')} shapes, "
             f"{record['provenance'].get('recipe', {}).get('steps')} steps, world size "
             f"{record['provenance'].get('world_size')}). Auto mode, the same segmentation settings; "
             f"*backbone*: a latent code optimised for {LATENT_STEPS} steps against the mesh's SDF samples, "
             "decoder frozen. SDF error: mean |field - truth| within 0.01 of the surface (unit cube).", "",
             "| mesh | parts | own ARI | own parts | own s | own SDF error | backbone ARI | backbone parts "
             "| backbone s | backbone SDF error |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row.name} | {row.truth_parts} | {row.own_ari:.3f} | {row.own_parts} | "
                     f"{row.own_seconds:.1f} | {row.own_sdf_error:.4f} | {row.backbone_ari:.3f} | "
                     f"{row.backbone_parts} | {row.backbone_seconds:.1f} | {row.backbone_sdf_error:.4f} |")
    for group in ("held-out", "benchmark"):
        chosen = [r for r in rows if (r.name in benchmark_shapes()) == (group == "benchmark")]
        if chosen:
            mean = {key: np.mean([getattr(r, key) for r in chosen]) for key in (
                "own_ari", "own_seconds", "own_sdf_error", "backbone_ari", "backbone_seconds", "backbone_sdf_error")}
            lines.append(f"| **{group} mean** ({len(chosen)}) |  | {mean['own_ari']:.3f} |  | "
                         f"{mean['own_seconds']:.1f} | {mean['own_sdf_error']:.4f} | {mean['backbone_ari']:.3f} |  | "
                         f"{mean['backbone_seconds']:.1f} | {mean['backbone_sdf_error']:.4f} |")
    return "\n".join(lines) + "\n"


def run_backbone_bench(argv: list[str]) -> int:
    """``python -m bench backbone [--held-out N] [--weights PATH] [--output PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m bench backbone", description="the shared backbone against "
                                     "the per-mesh field on held-out collection shapes and the benchmark shapes")
    parser.add_argument("--held-out", type=int, default=20, help="held-out collection shapes")
    parser.add_argument("--weights", type=Path, default=SHIPPED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("docs/backbone.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    decoder, record = load_backbone(args.weights)
    meshes = held_out_meshes(0, args.held_out)
    meshes += [(name, *shape_mesh(shape)) for name, shape in benchmark_shapes().items()]
    rows = []
    for number, (name, vertices, faces, truth) in enumerate(meshes, 1):
        rows.append(compare(name, vertices, faces, truth, decoder))
        row = rows[-1]
        LOG.info("[%d/%d] %s: ARI own %.3f, backbone %.3f; %.1f s / %.1f s", number, len(meshes), name,
                 row.own_ari, row.backbone_ari, row.own_seconds, row.backbone_seconds)
    command = "python -m bench backbone " + " ".join(argv)
    args.output.write_text(render_comparisons(rows, record, command.strip()))
    LOG.info("wrote %s", args.output)
    return 0
