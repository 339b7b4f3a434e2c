"""Per-part SDF metrics of BENCHMARK.md: volume ownership, volume shares, union Chamfer, junction normals.

All points are drawn in the benchmark's input coordinates ([-0.6, 0.6]^3) and
mapped into the run's unit cube for the networks. Ground truth (part SDFs and
surface labels) is read only here, to score; nothing in the run sees it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from engine.field.model import SDFDecoder
from engine.field.probing import evaluate
from engine.mesh.marching import mesh_from_sdf
from engine.mesh.sampling import sample_surface
from engine.parts.ownership import SurfaceOwnership, labelled_surface_points, smooth_surface_labels
from engine.parts.part_fields import fit_part_field
from engine.parts.part_meshes import UNIT_BOUND
from engine.pipeline import RunResult
from engine.settings import RunSettings

from .baselines import coacd_hulls, hull_plane_distances
from .metrics import chamfer_l1, hungarian_match, junction_mask, junction_normal_error, ownership_accuracy, sdf_normals
from .shapes import Shape
from .volume_baselines import (
    activation_classifier_owners,
    hull_closing_owners,
    nearest_vertex_owners,
    proximity_mask_owners,
)

VOLUME_POINTS = 200_000
SURFACE_POINTS = 100_000
JUNCTION_TOLERANCE = 0.01
SHARE_TOLERANCE = 0.25
NORMAL_STEP = 5e-4


def interior_points(shape: Shape, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in [-0.6, 0.6]^3 kept inside the shape, and their true owner (argmin part SDF)."""
    points = rng.uniform(-0.6, 0.6, size=(VOLUME_POINTS, 3))
    points = points[shape.sdf(points) < 0.0]
    return points, shape.part_sdfs(points).argmin(axis=1)


def surface_points_on_truth(shape: Shape, vertices, faces, rng: np.random.Generator) -> np.ndarray:
    """Surface samples of the benchmark mesh projected onto the analytic surface (two Newton steps)."""
    points = sample_surface(vertices, faces, SURFACE_POINTS, rng)
    for _ in range(2):
        points = points - shape.sdf(points)[:, None] * sdf_normals(shape.sdf, points)
    return points


def share_errors(true_owner: np.ndarray, predicted_owner: np.ndarray, match: dict[int, int], parts: int) -> np.ndarray:
    """(parts,) relative error of each true part's interior share (predicted parts merged by the match)."""
    mapped = np.array([match.get(int(p), -1) for p in range(int(predicted_owner.max()) + 1)])[predicted_owner]
    true_share = np.bincount(true_owner, minlength=parts) / len(true_owner)
    predicted_share = np.bincount(mapped[mapped >= 0], minlength=parts)[:parts] / len(true_owner)
    return np.abs(predicted_share - true_share) / np.maximum(true_share, 1e-12)


def ownership_row(true_owner, predicted_owner, match, parts) -> dict:
    errors = share_errors(true_owner, predicted_owner, match, parts)
    return {"accuracy": ownership_accuracy(true_owner, predicted_owner, match),
            "max_share_error": float(errors.max()), "shares_within": int((errors <= SHARE_TOLERANCE).sum())}


def bench_part_volumes(
    shape: Shape, vertices: np.ndarray, faces: np.ndarray, truth: np.ndarray, result: RunResult,
    settings: RunSettings, coacd: bool,
) -> dict:
    """Ownership rows (ours, rules, reference baselines, CoACD, ground-truth-label diagnostics),
    union Chamfer and junction normal error against the global SDF, stage times.

    vertices (n, 3), faces (m, 3): the benchmark mesh; truth: (n,) its true part
    labels; result, settings: our run on it. One generator (seed 0) draws every
    sample, in a fixed order.
    """
    rng = np.random.default_rng(0)
    device = torch.device("cpu")
    parts = int(truth.max()) + 1
    points, true_owner = interior_points(shape, rng)
    rows, truth_fit_seconds = ownership_rows(result, truth, points, true_owner, settings, rng, device)
    truth_surface = sample_surface(vertices, faces, SURFACE_POINTS, rng)
    chamfer = union_chamfer(result, truth_surface, settings.part_field.mesh_resolution, rng, device)
    junction = junction_points(shape, vertices, faces, rng)
    normals = junction_normal_errors(shape, junction, result, device)
    row = {"rows": rows, "chamfer": chamfer, "junction_normals": normals, "junction_points": len(junction),
           "interior_points": len(points), "interior_points_drawn": VOLUME_POINTS, "true_parts": parts,
           "truth_fit_seconds": truth_fit_seconds, "part_fit_seconds": result.timings["part_fit"],
           "part_mesh_seconds": result.timings["part_mesh"],
           "part_meshes_empty": sum(len(f) == 0 for _, f in result.parts.meshes.parts)}
    if coacd:
        row["coacd"] = coacd_row(vertices, faces, points, true_owner, truth, truth_surface, rng)
    return row


def ownership_rows(
    result: RunResult, truth: np.ndarray, points: np.ndarray, true_owner: np.ndarray, settings: RunSettings,
    rng: np.random.Generator, device: torch.device,
) -> tuple[dict[str, dict], float]:
    """Ownership rows of every method at the (q, 3) interior points, and the seconds of the diagnostic part fit.

    truth: (n,) true labels of the benchmark mesh's vertices; true_owner: (q,) true owner of each point.
    Our parts are matched to the truth on surface labels (Hungarian).
    """
    parts = int(truth.max()) + 1
    to_unit = result.field.normalisation.to_unit
    unit_vertices, unit_points = to_unit(result.welded.vertices), to_unit(points)
    welded_faces, welded_labels = result.welded.faces, result.segmentation.part_labels
    match = hungarian_match(truth, result.vertex_labels)
    network = evaluate(result.parts.field, unit_points, device).argmin(axis=1)
    rows = {
        "ours: per-part SDF network": ownership_row(true_owner, network, match, parts),
        "ours: smoothed nearest-surface rule (no network)": ownership_row(
            true_owner, rule_owners(unit_vertices, welded_faces, welded_labels, unit_points, rng), match, parts),
    }
    for name, owners in reference_owners(result.field.model, unit_vertices, welded_labels, unit_points).items():
        rows[name] = ownership_row(true_owner, owners, match, parts)
    welded_truth = np.zeros(len(result.welded.vertices), dtype=np.int64)
    welded_truth[result.welded.input_to_welded] = truth
    started = time.perf_counter()
    truth_field, _ = fit_part_field(result.field.model, unit_vertices, welded_faces, welded_truth,
                                    settings.fit, settings.part_field, settings.seed, device)
    truth_fit_seconds = time.perf_counter() - started
    identity = {p: p for p in range(parts)}
    rows["diagnostic, ground-truth surface labels: network"] = ownership_row(
        true_owner, evaluate(truth_field, unit_points, device).argmin(axis=1), identity, parts)
    rows["diagnostic, ground-truth surface labels: rule"] = ownership_row(
        true_owner, rule_owners(unit_vertices, welded_faces, welded_truth, unit_points, rng), identity, parts)
    return rows, truth_fit_seconds


def rule_owners(
    unit_vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, unit_points: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """(q,) owner of each of the (q, 3) points by the nearest labelled surface sample (no network).

    unit_vertices (n, 3), faces (m, 3), labels (n,): the welded mesh in the unit
    cube and its vertex labels, smoothed first unless smoothing loses a part.
    """
    smoothed = smooth_surface_labels(labels, faces, 2)
    if len(np.unique(smoothed)) != labels.max() + 1:
        smoothed = labels
    surface, surface_labels = labelled_surface_points(unit_vertices, faces, smoothed, 100_000, rng)
    return SurfaceOwnership.build(surface, surface_labels, int(labels.max()) + 1).owners(unit_points)


def reference_owners(
    model: SDFDecoder, unit_vertices: np.ndarray, labels: np.ndarray, unit_points: np.ndarray
) -> dict[str, np.ndarray]:
    """Row name -> (q,) owners of the reference work's four attempts, from our (n,) vertex labels."""
    return {
        "reference 1: convex-hull closing": hull_closing_owners(unit_vertices, labels, unit_points),
        "reference 2: proximity mask": proximity_mask_owners(unit_vertices, labels, unit_points),
        "reference 3: nearest-vertex label mask": nearest_vertex_owners(unit_vertices, labels, unit_points),
        "reference 4: activation classifier": activation_classifier_owners(model, unit_vertices, labels, unit_points),
    }


def union_chamfer(
    result: RunResult, truth_surface: np.ndarray, resolution: int, rng: np.random.Generator, device: torch.device
) -> dict[str, float]:
    """Chamfer-L1 to the (s, 3) true surface samples of the parts' union mesh and of the global SDF's mesh.

    The global SDF is meshed at the part meshes' ``resolution``, in the same box.
    """
    from_unit = result.field.normalisation.from_unit
    union_vertices, union_faces = result.parts.meshes.union
    global_vertices, global_faces = mesh_from_sdf(
        lambda p: evaluate(result.field.model, p, device)[:, 0], resolution, UNIT_BOUND)
    return {
        "union": chamfer_l1(sample_surface(from_unit(union_vertices), union_faces, SURFACE_POINTS, rng),
                            truth_surface),
        "global": chamfer_l1(sample_surface(from_unit(global_vertices), global_faces, SURFACE_POINTS, rng),
                             truth_surface),
    }


def junction_points(shape: Shape, vertices: np.ndarray, faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(j, 3) true surface points within ``JUNCTION_TOLERANCE`` of where two true part SDFs meet."""
    on_surface = surface_points_on_truth(shape, vertices, faces, rng)
    return on_surface[junction_mask(shape.part_sdfs(on_surface), JUNCTION_TOLERANCE)]


def junction_normal_errors(
    shape: Shape, junction: np.ndarray, result: RunResult, device: torch.device
) -> dict[str, float]:
    """Mean angle (degrees) at the (j, 3) junction points between the true normals and those of the
    parts' union (min of the part SDFs) and of the global SDF; empty without junction points."""
    if not len(junction):
        return {}
    to_unit = result.field.normalisation.to_unit
    true_normals = sdf_normals(shape.sdf, junction)

    def field_normals(channels: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return sdf_normals(lambda p: channels(to_unit(p)), junction, NORMAL_STEP)

    return {
        "union": junction_normal_error(junction, true_normals, field_normals(
            lambda u: evaluate(result.parts.field, u, device).min(axis=1))),
        "global": junction_normal_error(junction, true_normals, field_normals(
            lambda u: evaluate(result.field.model, u, device)[:, 0])),
    }


def coacd_row(vertices, faces, points, true_owner, truth, truth_surface, rng) -> dict:
    """CoACD's convex pieces through the same ownership and Chamfer metrics."""
    started = time.perf_counter()
    try:
        hulls = coacd_hulls(vertices, faces)
    except Exception as error:  # a failing baseline is a row with its reason
        return {"error": f"{type(error).__name__}: {error}"}
    seconds = time.perf_counter() - started
    parts = int(truth.max()) + 1
    vertex_hull = hull_plane_distances(vertices, hulls).argmin(axis=1)
    match = hungarian_match(truth, vertex_hull)
    owners = hull_plane_distances(points, hulls).argmin(axis=1)
    return {**ownership_row(true_owner, owners, match, parts), "hulls": len(hulls), "seconds": seconds,
            "chamfer": chamfer_l1(hull_union_surface(hulls, rng), truth_surface)}


def hull_union_surface(hulls, rng: np.random.Generator) -> np.ndarray:
    """(s, 3) samples of the union of the hulls' surfaces: hull surface points inside no other hull."""
    samples = []
    for index, (hull_vertices, hull_faces) in enumerate(hulls):
        points = sample_surface(hull_vertices, hull_faces, SURFACE_POINTS // len(hulls) + 1, rng)
        distances = hull_plane_distances(points, hulls)
        distances[:, index] = np.inf
        samples.append(points[distances.min(axis=1) > -1e-6])
    return np.concatenate(samples)
