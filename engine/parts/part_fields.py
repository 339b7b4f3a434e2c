"""Per-part SDFs: one network channel per part, each a closed solid owning its interior.

Training targets: part i's SDF is ``max(shape SDF, cell_i)``, where ``cell_i``
is negative in the region the labelled surface assigns to part i
(``engine.parts.ownership``). Its zero set is part i's own surface plus the cut faces
where it meets its neighbours, and ``min_i max(d, cell_i) = d`` because the
owning cell is never positive: the union of the parts is the shape.

The network is the fitted global decoder with its output layer widened to one
channel per part, so it starts as "every part is the whole shape" and learns
only the cuts. ClusteringSDF (seeds/004) trains such a channel-per-object field
with min-union from noisy labels; here the labels decide ownership directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import BadInputError
from ..field.model import SDFDecoder
from ..field.sdf_truth import signed_distance_function
from ..field.training import BatchLoss, ProgressCallback, Training
from ..mesh.sampling import training_points
from ..settings import FitSettings, PartFieldSettings
from .ownership import SurfaceOwnership, cell_distances, labelled_surface_points, smooth_surface_labels

INTERIOR_MARGIN = 0.02


@dataclass(frozen=True)
class PartFitReport:
    final_loss: float
    iterations: int
    target_seconds: float
    train_seconds: float


def part_target_bounds(
    points: np.ndarray,
    shape_distance: np.ndarray,
    ownership: SurfaceOwnership,
    clamp: float,
    overlap: float,
    margin: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(n, parts) float32 lower and upper bounds of each part SDF at (n, 3) points.

    The bounds meet at ``max(shape SDF, cell)`` where that lies within
    ``±clamp``; beyond it only the side is asked (at least ``clamp`` or at most
    ``-clamp``), so no output sits in a flat zone of the loss. In its own cell
    a part is asked for ``cell - overlap``, which keeps it at least ``overlap``
    below zero along its cut, so the union never grazes zero inside the shape. Inside the shape within
    ``margin`` beyond a part's cut the part is only kept above ``cell - margin``:
    there it may carry its own surface on under its neighbour, so that the
    union's crease is where two surfaces meet rather than a rounded fillet.
    """
    # Outside the clamp band every part is asked for "at least clamp" whatever its cell: skip their queries.
    cells = np.full((len(points), ownership.parts), np.inf)
    near = shape_distance < clamp
    cells[near] = cell_distances(ownership.part_distances(points[near]))
    exact = np.maximum(shape_distance[:, None], np.where(cells <= 0.0, cells - overlap, cells))
    lower = np.where(exact <= -clamp, -np.inf, np.minimum(exact, clamp))
    upper = np.where(exact >= clamp, np.inf, np.maximum(exact, -clamp))
    free = (shape_distance[:, None] < 0.0) & (cells > 0.0) & (cells < margin)
    lower = np.where(free, cells - margin, lower)
    upper = np.where(free, np.inf, upper)
    return lower.astype(np.float32), upper.astype(np.float32)


def widen_decoder(global_model: SDFDecoder, parts: int) -> SDFDecoder:
    """A new CPU decoder with ``parts`` output channels, each a copy of ``global_model``'s output.

    ``global_model`` is only read: its weights are copied to the CPU, wherever it is.
    """
    model = SDFDecoder(global_model.settings, outputs=parts)
    state = {k: v.detach().to("cpu", copy=True) for k, v in global_model.state_dict().items()}
    state["output.weight"] = state["output.weight"].repeat(parts, 1)
    state["output.bias"] = state["output.bias"].repeat(parts)
    model.load_state_dict(state)
    return model


def fit_part_field(
    global_model: SDFDecoder,
    vertices: np.ndarray,
    faces: np.ndarray,
    vertex_labels: np.ndarray,
    fit: FitSettings,
    settings: PartFieldSettings,
    seed: int,
    device: torch.device,
    progress: ProgressCallback | None = None,
) -> tuple[SDFDecoder, PartFitReport]:
    """Fit one SDF channel per part to a mesh in unit-cube coordinates.

    vertices: (n, 3) float, faces: (m, 3) int, vertex_labels: (n,) int 0..parts-1
    (every label present). ``fit`` gives the clamp, the sampling bands and the
    SDF backend of the global fit. Returns the (n, 3) -> (n, parts) decoder, a
    new model on ``device``; ``global_model`` is left as it was.
    """
    vertex_labels = np.asarray(vertex_labels, dtype=np.int64)
    parts = int(vertex_labels.max()) + 1
    if len(np.unique(vertex_labels)) != parts:
        raise BadInputError("part labels must be 0..k-1 with every part present")
    started = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    pool, lower, upper = part_targets(vertices, faces, vertex_labels, parts, fit, settings, rng)
    target_seconds = time.perf_counter() - started

    started = time.perf_counter()
    model = widen_decoder(global_model, parts).to(device)
    model.train()
    training = Training(model, settings.iterations, settings.batch_size, settings.learning_rate, seed, device,
                        progress)
    points_t = torch.from_numpy(pool).to(device)
    lower_t, upper_t = torch.from_numpy(lower).to(device), torch.from_numpy(upper).to(device)
    training.run(settings.iterations, len(points_t), bounds_loss(model, points_t, lower_t, upper_t))
    model.eval()
    report = PartFitReport(final_loss=training.final_loss, iterations=settings.iterations,
                           target_seconds=target_seconds, train_seconds=time.perf_counter() - started)
    return model, report


def part_targets(
    vertices: np.ndarray,
    faces: np.ndarray,
    vertex_labels: np.ndarray,
    parts: int,
    fit: FitSettings,
    settings: PartFieldSettings,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training pool of the part fit: (p, 3) float32 points and their (p, parts) float32 bounds.

    The labels are smoothed (unless that erases a part) and densified into
    ``SurfaceOwnership``; the pool is ``training_points`` plus
    ``interior_fraction`` of points uniform in the mesh's bounding box (grown
    by ``INTERIOR_MARGIN``); the bounds are ``part_target_bounds`` there.
    """
    smoothed = smooth_surface_labels(vertex_labels, faces, settings.smoothing_rounds)
    if len(np.unique(smoothed)) != parts:  # smoothing must not erase a small part
        smoothed = vertex_labels
    points, labels = labelled_surface_points(vertices, faces, smoothed, settings.surface_samples, rng)
    ownership = SurfaceOwnership.build(points, labels, parts)
    interior_count = int(round(settings.pool_size * settings.interior_fraction))
    pool = np.concatenate([
        training_points(vertices, faces, settings.pool_size - interior_count, fit.band_sigmas,
                        fit.uniform_fraction, fit.sample_bound, rng),
        rng.uniform(vertices.min(axis=0) - INTERIOR_MARGIN, vertices.max(axis=0) + INTERIOR_MARGIN,
                    size=(interior_count, 3)).astype(np.float32),
    ])
    distance = signed_distance_function(vertices, faces, fit.sdf_backend)
    lower, upper = part_target_bounds(
        pool, distance(pool), ownership, fit.clamp, settings.cut_overlap, settings.junction_margin,
    )
    return pool, lower, upper


def bounds_loss(model: SDFDecoder, points: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor) -> BatchLoss:
    """Loss of a batch of pool rows: mean distance of the (b, parts) outputs outside their bounds.

    points: (p, 3), lower and upper: (p, parts), the pool the batch indices point into.
    """
    parts = lower.shape[1]

    def loss(index: torch.Tensor) -> torch.Tensor:
        predicted = model(points[index]).reshape(len(index), parts)
        return (torch.relu(lower[index] - predicted) + torch.relu(predicted - upper[index])).mean()

    return loss
