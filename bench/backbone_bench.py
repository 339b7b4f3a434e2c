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
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from engine.backbone.head import ProjectionHead
from engine.backbone.shared_features import LATENT_STEPS, coded_field, head_features
from engine.backbone.weights import SHIPPED, SHIPPED_HEAD, load_backbone, load_head
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


@dataclass(frozen=True)
class Comparison:
    """One mesh segmented on its own field and on the backbone."""

    name: str
    truth_parts: int
    own_ari: float
    own_alone: float
    own_parts: int
    own_seconds: float
    own_sdf_error: float
    backbone_ari: float
    backbone_alone: float
    backbone_parts: int
    backbone_seconds: float
    backbone_sdf_error: float
    dino_ari: float | None = None
    dino_alone: float | None = None
    dino_parts: int | None = None
    tuned_ari: float | None = None
    tuned_alone: float | None = None
    tuned_sdf_error: float | None = None
    tuned_seconds: float | None = None


@dataclass(frozen=True)
class FieldSegmentation:
    """Per welded vertex (n,): parts with every cue, parts (k given) with the activation cue alone, and prototype
    types (each part's majority prototype; None without a head)."""

    labels: np.ndarray
    alone: np.ndarray
    types: np.ndarray | None


def segment_on(field, unit_vertices: np.ndarray, faces: np.ndarray, parts: int, seed: int,
               head: ProjectionHead | None = None) -> FieldSegmentation:
    """Segment a welded mesh on ``field`` (a per-mesh decoder or a ``CodedDecoder``): its standardised
    activations as the cue, or the ``head``'s features of them; in auto mode with every cue, and into the
    true number of ``parts`` with creases and thickness off (the shape benchmark's *activations only*)."""
    segment = run_settings("balanced", seed=seed).segment
    layers = activations(field, unit_vertices, torch.device("cpu"))
    if head is None:
        features, prototypes = feature_set(layers, segment.feature_set), None
    else:
        shared = head_features(head, layers, torch.device("cpu"))
        features, prototypes = shared.features, shared.prototypes
    thickness = surface_thickness(field, unit_vertices, faces, torch.device("cpu"), seed)
    runs = []
    for settings in (segment, replace(segment, use_creases=False, use_thickness=False, parts=parts)):
        graph = with_clusters(build_surface_graph(unit_vertices, faces, features, thickness, settings), settings, seed)
        runs.append(segment_surface(unit_vertices, faces, graph, settings, seed).part_labels)
    types = None
    if prototypes is not None:
        majority = {part: np.bincount(prototypes[runs[0] == part]).argmax() for part in np.unique(runs[0])}
        types = np.array([majority[part] for part in runs[0]])
    return FieldSegmentation(runs[0], runs[1], types)


def near_surface_error(model, unit_vertices: np.ndarray, faces: np.ndarray, seed: int) -> float:
    """Mean |field - truth| at 20k points within the engine's tight sampling band of the surface."""
    fit = run_settings("balanced", seed=seed).fit
    distance = signed_distance_function(unit_vertices, faces, fit.sdf_backend)
    rng = np.random.default_rng(seed + 1)
    from engine.mesh.sampling import training_points

    points = training_points(unit_vertices, faces, 20_000, (0.002, 0.01), 0.0, fit.sample_bound, rng)
    return float(np.abs(evaluate(model, points, torch.device("cpu"))[:, 0] - distance(points)).mean())


def compare(name: str, vertices: np.ndarray, faces: np.ndarray, truth: np.ndarray, decoder,
            head: ProjectionHead | None = None, seed: int = 0, tune_steps: int = 0
            ) -> tuple[Comparison, dict[str, np.ndarray]]:
    """The segmentations of one mesh (vertices (n, 3), faces (m, 3), truth (n,) vertex parts), and the
    (n,) part types per input vertex of each that has them (``own``: type names; ``dino``: prototypes;
    ``tuned``: prototypes on the decoder fine-tuned for ``tune_steps`` after the code, when given)."""
    settings = run_settings("balanced", seed=seed, threads=torch.get_num_threads(), part_meshes=False)
    started = time.perf_counter()
    result = run(vertices, faces, settings, Reporter())
    own_seconds = time.perf_counter() - started
    welded = result.welded
    unit = result.field.normalisation.to_unit(welded.vertices)
    started = time.perf_counter()
    fit, cpu = settings.fit, torch.device("cpu")
    field = coded_field(decoder, unit, welded.faces, fit, seed, cpu)
    backbone = segment_on(field, unit, welded.faces, int(truth.max() + 1), seed)
    backbone_seconds = time.perf_counter() - started
    own = segment_on(result.field.model, unit, welded.faces, int(truth.max() + 1), seed)
    back = welded.input_to_welded
    segmentation = result.segmentation
    names = np.array(segmentation.type_names)[segmentation.part_types[segmentation.part_labels]]
    types = {"own": names[back]}
    dino = {}
    if head is not None:
        with_head = segment_on(field, unit, welded.faces, int(truth.max() + 1), seed, head)
        types["dino"] = with_head.types[back]
        dino = {"dino_ari": adjusted_rand(truth, with_head.labels[back]),
                "dino_alone": adjusted_rand(truth, with_head.alone[back]),
                "dino_parts": int(len(np.unique(with_head.labels)))}
        if tune_steps:
            started = time.perf_counter()
            tuned = coded_field(decoder, unit, welded.faces, fit, seed, cpu, tune_steps=tune_steps)
            tuned_seconds = time.perf_counter() - started
            on_tuned = segment_on(tuned, unit, welded.faces, int(truth.max() + 1), seed, head)
            dino |= {"tuned_ari": adjusted_rand(truth, on_tuned.labels[back]),
                     "tuned_alone": adjusted_rand(truth, on_tuned.alone[back]),
                     "tuned_sdf_error": near_surface_error(tuned, unit, welded.faces, seed),
                     "tuned_seconds": tuned_seconds}
            types["tuned"] = on_tuned.types[back]
    return Comparison(
        name, int(truth.max() + 1),
        adjusted_rand(truth, result.vertex_labels), adjusted_rand(truth, own.alone[back]),
        int(len(np.unique(result.vertex_labels))), own_seconds,
        near_surface_error(result.field.model, unit, welded.faces, seed),
        adjusted_rand(truth, backbone.labels[back]), adjusted_rand(truth, backbone.alone[back]),
        int(len(np.unique(backbone.labels))), backbone_seconds,
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


COLUMNS = (("own_ari", "own ARI", ".3f"), ("own_alone", "own ARI, activations alone (k)", ".3f"),
           ("own_parts", "own parts", "d"), ("own_seconds", "own s", ".1f"), ("own_sdf_error", "own SDF error", ".4f"),
           ("backbone_ari", "backbone ARI", ".3f"), ("backbone_alone", "backbone ARI, activations alone (k)", ".3f"),
           ("backbone_parts", "backbone parts", "d"), ("backbone_seconds", "backbone s", ".1f"),
           ("backbone_sdf_error", "backbone SDF error", ".4f"), ("dino_ari", "DINO ARI", ".3f"),
           ("dino_alone", "DINO ARI, features alone (k)", ".3f"), ("dino_parts", "DINO parts", "d"),
           ("tuned_ari", "tuned DINO ARI", ".3f"), ("tuned_alone", "tuned DINO ARI, alone (k)", ".3f"),
           ("tuned_sdf_error", "tuned SDF error", ".4f"), ("tuned_seconds", "tuned s", ".1f"))


def _cells(values: dict) -> str:
    return " | ".join("" if values.get(key) is None else format(values[key], spec) for key, _, spec in COLUMNS)


def render_comparisons(rows: list[Comparison], meshes: list[BenchMesh], consistency: dict, record: dict,
                       head_record: dict | None, command: str) -> str:
    """docs/backbone.md: a row per mesh, means per group, type consistency per family."""
    provenance = record["provenance"]
    head_line = ("no DINO head" if head_record is None else
                 f"DINO head: {head_record['settings']}, trained in {head_record['provenance'].get('seconds')} s "
                 f"({head_record['provenance']['recipe']['steps']} steps)")
    lines = ["# The shared backbone beside the per-mesh field", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {machine_summary()}: `{command}`. Backbone: "
             f"{record['settings']}, trained in {provenance.get('seconds')} s ({provenance['recipe']['shapes']} "
             f"shapes, {provenance['recipe']['steps']} steps, world size {provenance.get('world_size')}); "
             f"{head_line}. Auto mode, the same segmentation settings and cues for every column; only the "
             f"field differs. *own*: the engine as it ships (a field fitted to the mesh); *backbone*: the shared "
             f"decoder under a code optimised for {LATENT_STEPS} steps against the mesh's SDF samples, its raw "
             "activations as the cue; *DINO*: the same code, the head's features as the cue. *alone (k)*: the "
             "same features with the crease and thickness cues off, into the true number of parts (what the features "
             "themselves say, as the shape benchmark's *activations only*). SDF error: mean "
             "|field - truth| within about 0.01 of the surface (unit cube). Seconds: own = the whole engine run; "
             "backbone = SDF samples, code, probing and segmenting."
             + (" *tuned*: the decoder's weights fine-tuned on the mesh's samples after the code (``--tune-steps``), "
                "the same head's features as the cue; tuned s: samples, code and fine-tune."
                if any(r.tuned_ari is not None for r in rows) else ""), "",
             "| mesh | parts | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "| --- | --- |" + " --- |" * len(COLUMNS)]
    for row in rows:
        lines.append(f"| {row.name} | {row.truth_parts} | {_cells(vars(row))} |")
    for group in ("held-out", "benchmark"):
        chosen = [r for r, m in zip(rows, meshes, strict=True) if (m.family == "benchmark") == (group == "benchmark")]
        if chosen:
            means = {key: float(np.mean([getattr(r, key) for r in chosen])) for key, _, spec in COLUMNS
                     if spec != "d" and all(getattr(r, key) is not None for r in chosen)}
            lines.append(f"| **{group} mean** | {len(chosen)} | {_cells(means)} |")
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
    parser.add_argument("--tune-steps", type=int, default=0,
                        help="also fine-tune the decoder this many steps after the code (with the head)")
    parser.add_argument("--output", type=Path, default=Path("docs/backbone.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    decoder, record = load_backbone(args.weights)
    head, head_record = (None, None) if args.head == "none" else load_head(Path(args.head))
    meshes = held_out_meshes(0, args.held_out) + ([] if args.no_benchmark_shapes else benchmark_meshes())
    rows, types = [], []
    for number, mesh in enumerate(meshes, 1):
        row, mesh_types = compare(mesh.name, mesh.vertices, mesh.faces, mesh.truth, decoder, head,
                                  tune_steps=args.tune_steps)
        rows.append(row)
        types.append(mesh_types)
        LOG.info("[%d/%d] %s: ARI own %.3f (alone %.3f), backbone %.3f (%.3f), DINO %s (%s); %.1f s / %.1f s",
                 number, len(meshes), mesh.name, row.own_ari, row.own_alone, row.backbone_ari, row.backbone_alone,
                 row.dino_ari, row.dino_alone, row.own_seconds, row.backbone_seconds)
    consistency = type_consistency(meshes, types) if any(m.kinds is not None for m in meshes) else {}
    command = ("python -m bench backbone " + " ".join(argv)).strip()
    args.output.write_text(render_comparisons(rows, meshes, consistency, record, head_record, command))
    LOG.info("wrote %s", args.output)
    return 0
