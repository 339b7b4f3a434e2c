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

from engine.mesh.marching import mesh_from_sdf
from engine.mesh.sampling import sample_surface
from engine.parts.ownership import SurfaceOwnership, labelled_surface_points, smooth_surface_labels
from engine.parts.part_fields import evaluate, fit_part_field
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
    union Chamfer and junction normal error against the global SDF, stage times."""
    rng = np.random.default_rng(0)
    device = torch.device("cpu")
    to_unit = result.field.normalisation.to_unit
    from_unit = result.field.normalisation.from_unit
    parts = int(truth.max()) + 1
    welded_labels = result.segmentation.part_labels
    welded_truth = np.zeros(len(result.welded.vertices), dtype=np.int64)
    welded_truth[result.welded.input_to_welded] = truth
    unit_vertices = to_unit(result.welded.vertices)
    welded_faces = result.welded.faces
    match = hungarian_match(truth, result.vertex_labels)
    identity = {p: p for p in range(parts)}

    points, true_owner = interior_points(shape, rng)
    unit_points = to_unit(points)
    part_field = result.parts.field
    rows: dict[str, dict] = {}

    def rule_owners(labels: np.ndarray) -> np.ndarray:
        smoothed = smooth_surface_labels(labels, welded_faces, 2)
        if len(np.unique(smoothed)) != labels.max() + 1:
            smoothed = labels
        surface, surface_labels = labelled_surface_points(unit_vertices, welded_faces, smoothed, 100_000, rng)
        return SurfaceOwnership.build(surface, surface_labels, int(labels.max()) + 1).owners(unit_points)

    rows["ours: per-part SDF network"] = ownership_row(
        true_owner, evaluate(part_field, unit_points, device).argmin(axis=1), match, parts)
    rows["ours: smoothed nearest-surface rule (no network)"] = ownership_row(
        true_owner, rule_owners(welded_labels), match, parts)
    reference = {
        "reference 1: convex-hull closing": lambda: hull_closing_owners(unit_vertices, welded_labels, unit_points),
        "reference 2: proximity mask": lambda: proximity_mask_owners(unit_vertices, welded_labels, unit_points),
        "reference 3: nearest-vertex label mask": lambda: nearest_vertex_owners(
            unit_vertices, welded_labels, unit_points),
        "reference 4: activation classifier": lambda: activation_classifier_owners(
            result.field.model, unit_vertices, welded_labels, unit_points),
    }
    for name, owners in reference.items():
        rows[name] = ownership_row(true_owner, owners(), match, parts)

    started = time.perf_counter()
    truth_field, _ = fit_part_field(result.field.model, unit_vertices, welded_faces, welded_truth,
                                    settings.fit, settings.part_field, settings.seed, device)
    truth_fit_seconds = time.perf_counter() - started
    rows["diagnostic, ground-truth surface labels: network"] = ownership_row(
        true_owner, evaluate(truth_field, unit_points, device).argmin(axis=1), identity, parts)
    rows["diagnostic, ground-truth surface labels: rule"] = ownership_row(
        true_owner, rule_owners(welded_truth), identity, parts)

    truth_surface = sample_surface(vertices, faces, SURFACE_POINTS, rng)
    union_vertices, union_faces = result.parts.meshes.union
    resolution = settings.part_field.mesh_resolution
    global_vertices, global_faces = mesh_from_sdf(
        lambda p: evaluate(result.field.model, p, device)[:, 0], resolution, UNIT_BOUND)
    chamfer = {
        "union": chamfer_l1(sample_surface(from_unit(union_vertices), union_faces, SURFACE_POINTS, rng),
                            truth_surface),
        "global": chamfer_l1(sample_surface(from_unit(global_vertices), global_faces, SURFACE_POINTS, rng),
                             truth_surface),
    }

    on_surface = surface_points_on_truth(shape, vertices, faces, rng)
    junction = on_surface[junction_mask(shape.part_sdfs(on_surface), JUNCTION_TOLERANCE)]
    true_normals = sdf_normals(shape.sdf, junction)

    def field_normals(channels: Callable[[np.ndarray], np.ndarray]):
        return sdf_normals(lambda p: channels(to_unit(p)), junction, NORMAL_STEP)

    normals = {}
    if len(junction):
        normals = {
            "union": junction_normal_error(junction, true_normals, field_normals(
                lambda u: evaluate(part_field, u, device).min(axis=1))),
            "global": junction_normal_error(junction, true_normals, field_normals(
                lambda u: evaluate(result.field.model, u, device)[:, 0])),
        }
    row = {"rows": rows, "chamfer": chamfer, "junction_normals": normals, "junction_points": len(junction),
           "interior_points": len(points), "interior_points_drawn": VOLUME_POINTS, "true_parts": parts,
           "truth_fit_seconds": truth_fit_seconds, "part_fit_seconds": result.timings["part_fit"],
           "part_mesh_seconds": result.timings["part_mesh"],
           "part_meshes_empty": sum(len(f) == 0 for _, f in result.parts.meshes.parts)}
    if coacd:
        row["coacd"] = coacd_row(vertices, faces, points, true_owner, truth, truth_surface, rng)
    return row


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
