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
from engine.backbone.head import ProjectionHead
from engine.backbone.latent_fit import fit_latent
from engine.backbone.weights import SHIPPED, SHIPPED_HEAD, load_backbone, load_head
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
    dino_ari: float | None = None
    dino_parts: int | None = None


def coded_field(decoder, unit_vertices: np.ndarray, faces: np.ndarray, seed: int,
                steps: int = LATENT_STEPS) -> CodedDecoder:
    """The backbone under a code fitted to a welded mesh (unit-cube vertices (n, 3), faces (m, 3))."""
    fit = run_settings("balanced", seed=seed).fit
    distance = signed_distance_function(unit_vertices, faces, fit.sdf_backend)
    points, targets = sdf_pool(unit_vertices, faces, distance, fit, np.random.default_rng(seed), torch.device("cpu"))
    scale = frame_scale(unit_vertices)
    return CodedDecoder(decoder, fit_latent(decoder, points * scale, targets * scale, steps=steps, seed=seed), scale)


def segment_on(field: CodedDecoder, unit_vertices: np.ndarray, faces: np.ndarray, seed: int,
               head: ProjectionHead | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(n,) part labels segmented on ``field``: its raw activations as the cue, or the ``head``'s features;
    with a head also (n,) prototype types, each part's majority prototype."""
    segment = run_settings("balanced", seed=seed).segment
    layers = activations(field, unit_vertices, torch.device("cpu"))
    if head is None:
        features = feature_set(layers, segment.feature_set)
    else:
        with torch.no_grad():
            joined = torch.from_numpy(np.concatenate(layers, axis=1))
            features, prototypes = head.features(joined).numpy(), head(joined).argmax(dim=1).numpy()
    thickness = surface_thickness(field, unit_vertices, faces, torch.device("cpu"), seed)
    graph = with_clusters(build_surface_graph(unit_vertices, faces, features, thickness, segment), segment, seed)
    labels = segment_surface(unit_vertices, graph, segment, seed).part_labels
    if head is None:
        return labels, None
    majority = {part: np.bincount(prototypes[labels == part]).argmax() for part in np.unique(labels)}
    return labels, np.array([majority[part] for part in labels])


def near_surface_error(model, unit_vertices: np.ndarray, faces: np.ndarray, seed: int) -> float:
    """Mean |field - truth| at 20k points within the engine's tight sampling band of the surface."""
    fit = run_settings("balanced", seed=seed).fit
    distance = signed_distance_function(unit_vertices, faces, fit.sdf_backend)
    rng = np.random.default_rng(seed + 1)
    from engine.mesh.sampling import training_points

    points = training_points(unit_vertices, faces, 20_000, (0.002, 0.01), 0.0, fit.sample_bound, rng)
    return float(np.abs(evaluate(model, points, torch.device("cpu"))[:, 0] - distance(points)).mean())


def compare(name: str, vertices: np.ndarray, faces: np.ndarray, truth: np.ndarray, decoder,
            head: ProjectionHead | None = None, seed: int = 0) -> tuple[Comparison, dict[str, np.ndarray]]:
    """The segmentations of one mesh (vertices (n, 3), faces (m, 3), truth (n,) vertex parts), and the
    (n,) part types per input vertex of each that has them (``own``: type names; ``dino``: prototypes)."""
    settings = run_settings("balanced", seed=seed, threads=torch.get_num_threads(), part_meshes=False)
    started = time.perf_counter()
    result = run(vertices, faces, settings, Reporter())
    own_seconds = time.perf_counter() - started
    welded = result.welded
    unit = result.field.normalisation.to_unit(welded.vertices)
    started = time.perf_counter()
    field = coded_field(decoder, unit, welded.faces, seed)
    labels, _ = segment_on(field, unit, welded.faces, seed)
    backbone_seconds = time.perf_counter() - started
    backbone_labels = labels[welded.input_to_welded]
    segmentation = result.segmentation
    names = np.array(segmentation.type_names)[segmentation.part_types[segmentation.part_labels]]
    types = {"own": names[welded.input_to_welded]}
    dino = {}
    if head is not None:
        dino_labels, prototypes = segment_on(field, unit, welded.faces, seed, head)
        types["dino"] = prototypes[welded.input_to_welded]
        dino = {"dino_ari": adjusted_rand(truth, dino_labels[welded.input_to_welded]),
                "dino_parts": int(len(np.unique(dino_labels)))}
    return Comparison(
        name, int(truth.max() + 1),
        adjusted_rand(truth, result.vertex_labels), int(len(np.unique(result.vertex_labels))), own_seconds,
        near_surface_error(result.field.model, unit, welded.faces, seed),
        adjusted_rand(truth, backbone_labels), int(len(np.unique(backbone_labels))), backbone_seconds,
        near_surface_error(field, unit, welded.faces, seed), **dino,
    ), types


@dataclass(frozen=True)
class BenchMesh:
    """A mesh to compare on: vertices (n, 3), faces (m, 3), truth (n,) part instances, kinds (n,) or None."""

    name: str
    family: str
    vertices: np.ndarray
    faces: np.ndarray
    truth: np.ndarray
    kinds: np.ndarray | None


def held_out_meshes(seed: int, count: int) -> list[BenchMesh]:
    """The first ``count`` held-out collection shapes (never trained on), meshed at 128^3."""
    meshes = []
    for index in range(count):
        shape = collection_shape(seed, "held_out", index)
        vertices, faces = shape.mesh(128)
        meshes.append(BenchMesh(f"{shape.builder} {index}", shape.family, vertices, faces,
                                shape.instances(vertices), shape.kind_labels(vertices)))
    return meshes


def benchmark_meshes() -> list[BenchMesh]:
    """The nine analytic shapes and the railing (no kinds)."""
    return [BenchMesh(name, "benchmark", *shape_mesh(shape), None) for name, shape in benchmark_shapes().items()]


def type_consistency(meshes: list[BenchMesh], types: list[dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Per family and pooled: AMI between the true part kinds and each method's types, over all its vertices."""
    from sklearn.metrics import adjusted_mutual_info_score

    table: dict[str, dict[str, float]] = {}
    families = sorted({m.family for m in meshes if m.kinds is not None})
    for family in [*families, "all"]:
        chosen = [i for i, m in enumerate(meshes) if m.kinds is not None and family in (m.family, "all")]
        truth = np.concatenate([meshes[i].kinds for i in chosen])
        table[family] = {method: float(adjusted_mutual_info_score(truth, np.concatenate(
            [types[i][method].astype(str) for i in chosen]))) for method in types[chosen[0]]}
    return table


def _mean_row(label: str, rows: list[Comparison]) -> str:
    mean = {key: np.mean([getattr(r, key) for r in rows]) for key in (
        "own_ari", "own_seconds", "own_sdf_error", "backbone_ari", "backbone_seconds", "backbone_sdf_error")}
    dino = [r.dino_ari for r in rows if r.dino_ari is not None]
    return (f"| **{label}** ({len(rows)}) |  | {mean['own_ari']:.3f} |  | {mean['own_seconds']:.1f} | "
            f"{mean['own_sdf_error']:.4f} | {mean['backbone_ari']:.3f} |  | {mean['backbone_seconds']:.1f} | "
            f"{mean['backbone_sdf_error']:.4f} | {np.mean(dino) if dino else float('nan'):.3f} |  |")


def render_comparisons(rows: list[Comparison], meshes: list[BenchMesh], consistency: dict, record: dict,
                       head_record: dict | None, command: str) -> str:
    """docs/backbone.md: a row per mesh, means per group, type consistency per family."""
    provenance = record["provenance"]
    head_line = ("no DINO head" if head_record is None else
                 f"DINO head: {head_record['settings']}, trained {head_record['provenance'].get('seconds')} s "
                 f"({head_record['provenance']['recipe']['steps']} steps)")
    lines = ["# The shared backbone beside the per-mesh field", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {machine_summary()}: `{command}`. Backbone: "
             f"{record['settings']}, trained in {provenance.get('seconds')} s ({provenance['recipe']['shapes']} "
             f"shapes, {provenance['recipe']['steps']} steps, world size {provenance.get('world_size')}); "
             f"{head_line}. Auto mode, the same segmentation settings and cues (creases, thickness) for every "
             f"column; only the field differs. *own*: the engine as it ships (a field fitted to the mesh); "
             f"*backbone*: the shared decoder under a code optimised for {LATENT_STEPS} steps against the mesh's "
             "SDF samples, its raw activations as the cue; *DINO*: the same code, the head's features as the cue. "
             "SDF error: mean |field - truth| within about 0.01 of the surface (unit cube). Seconds: own = the "
             "whole engine run; backbone = SDF samples, code, probing and segmenting.", "",
             "| mesh | parts | own ARI | own parts | own s | own SDF error | backbone ARI | backbone parts "
             "| backbone s | backbone SDF error | DINO ARI | DINO parts |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        dino = "" if row.dino_ari is None else f"{row.dino_ari:.3f} | {row.dino_parts}"
        lines.append(f"| {row.name} | {row.truth_parts} | {row.own_ari:.3f} | {row.own_parts} | "
                     f"{row.own_seconds:.1f} | {row.own_sdf_error:.4f} | {row.backbone_ari:.3f} | "
                     f"{row.backbone_parts} | {row.backbone_seconds:.1f} | {row.backbone_sdf_error:.4f} | "
                     f"{dino or ' | '} |")
    for group in ("held-out", "benchmark"):
        chosen = [r for r, m in zip(rows, meshes, strict=True) if (m.family == "benchmark") == (group == "benchmark")]
        if chosen:
            lines.append(_mean_row(f"{group} mean", chosen))
    if consistency:
        methods = list(next(iter(consistency.values())))
        lines += ["", "Type consistency over held-out shapes: adjusted mutual information between the true part "
                  "kinds and each method's part types, pooled over every vertex of every shape of a family "
                  "(*own*: today's per-mesh type names; *dino*: each part's majority prototype).", "",
                  "| family | " + " | ".join(methods) + " |", "| --- |" + " --- |" * len(methods)]
        lines += [f"| {family} | " + " | ".join(f"{scores[m]:.3f}" for m in methods) + " |"
                  for family, scores in consistency.items()]
    return "\n".join(lines) + "\n"


def run_backbone_bench(argv: list[str]) -> int:
    """``python -m bench backbone [--held-out N] [--weights PATH] [--head PATH|none] [--output PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m bench backbone", description="the shared backbone against "
                                     "the per-mesh field on held-out collection shapes and the benchmark shapes")
    parser.add_argument("--held-out", type=int, default=20, help="held-out collection shapes")
    parser.add_argument("--weights", type=Path, default=SHIPPED)
    parser.add_argument("--head", default=str(SHIPPED_HEAD), help="DINO head weights, or 'none'")
    parser.add_argument("--no-benchmark-shapes", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, default=Path("docs/backbone.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    decoder, record = load_backbone(args.weights)
    head, head_record = (None, None) if args.head == "none" else load_head(Path(args.head))
    meshes = held_out_meshes(0, args.held_out) + ([] if args.no_benchmark_shapes else benchmark_meshes())
    rows, types = [], []
    for number, mesh in enumerate(meshes, 1):
        row, mesh_types = compare(mesh.name, mesh.vertices, mesh.faces, mesh.truth, decoder, head)
        rows.append(row)
        types.append(mesh_types)
        LOG.info("[%d/%d] %s: ARI own %.3f, backbone %.3f, DINO %s; %.1f s / %.1f s", number, len(meshes),
                 mesh.name, row.own_ari, row.backbone_ari, row.dino_ari, row.own_seconds, row.backbone_seconds)
    consistency = type_consistency(meshes, types) if any(m.kinds is not None for m in meshes) else {}
    command = ("python -m bench backbone " + " ".join(argv)).strip()
    args.output.write_text(render_comparisons(rows, meshes, consistency, record, head_record, command))
    LOG.info("wrote %s", args.output)
    return 0
