"""Fitting a neural SDF to one mesh (clamped L1 on fresh pools of sampled points)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..mesh.sampling import training_points
from ..settings import FitSettings
from .model import SDFDecoder
from .sdf_truth import DistanceFunction, signed_distance_function
from .training import BatchLoss, ProgressCallback, Training


@dataclass(frozen=True)
class FitReport:
    final_loss: float
    iterations: int
    samples: int
    sdf_seconds: float
    train_seconds: float


def fit_sdf(
    vertices: np.ndarray,
    faces: np.ndarray,
    settings: FitSettings,
    seed: int,
    device: torch.device,
    progress: ProgressCallback | None = None,
) -> tuple[SDFDecoder, FitReport]:
    """Fit an ``SDFDecoder`` to a mesh given in unit-cube coordinates.

    vertices: (n, 3) float, faces: (m, 3) int. The training pool is drawn
    ``settings.pools`` times (fresh samples each time) and the iterations are
    split evenly between pools. ``progress`` receives the done fraction.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    distance = signed_distance_function(vertices, faces, settings.sdf_backend)
    model = SDFDecoder(settings.model).to(device)
    training = Training(model, settings.iterations, settings.batch_size, settings.learning_rate, seed, device,
                        progress)
    sdf_seconds = train_seconds = 0.0
    for steps in pool_steps(settings.iterations, settings.pools):
        started = time.perf_counter()
        points, targets = sdf_pool(vertices, faces, distance, settings, rng, device)
        sdf_seconds += time.perf_counter() - started
        started = time.perf_counter()
        training.run(steps, len(points), clamped_l1(model, points, targets, settings.clamp))
        train_seconds += time.perf_counter() - started
    model.eval()
    report = FitReport(
        final_loss=training.final_loss,
        iterations=training.done,
        samples=settings.pool_size * settings.pools,
        sdf_seconds=sdf_seconds,
        train_seconds=train_seconds,
    )
    return model, report


def pool_steps(iterations: int, pools: int) -> list[int]:
    """(pools,) steps per pool: ``ceil(iterations / pools)`` each, the last ones cut to ``iterations`` in all."""
    per_pool = math.ceil(iterations / pools)
    return [max(0, min(per_pool, iterations - pool * per_pool)) for pool in range(pools)]


def sdf_pool(
    vertices: np.ndarray,
    faces: np.ndarray,
    distance: DistanceFunction,
    settings: FitSettings,
    rng: np.random.Generator,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fresh pool on ``device``: (p, 3) float32 points and their (p,) float32 SDF clamped to ``±clamp``."""
    points = training_points(
        vertices, faces, settings.pool_size, settings.band_sigmas,
        settings.uniform_fraction, settings.sample_bound, rng,
    )
    targets = np.clip(distance(points), -settings.clamp, settings.clamp)
    return torch.from_numpy(points).to(device), torch.from_numpy(targets.astype(np.float32)).to(device)


def clamped_l1(model: SDFDecoder, points: torch.Tensor, targets: torch.Tensor, clamp: float) -> BatchLoss:
    """Loss of a batch of pool rows: mean |clamp(model(points)) - targets| (DeepSDF's clamped L1).

    points: (p, 3) and targets: (p,), the pool the batch indices point into.
    """

    def loss(index: torch.Tensor) -> torch.Tensor:
        predicted = model(points[index])
        return (predicted.clamp(-clamp, clamp) - targets[index]).abs().mean()

    return loss
