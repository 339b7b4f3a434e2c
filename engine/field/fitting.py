"""Fitting a neural SDF to one mesh (clamped L1, optional eikonal term)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..mesh.sampling import training_points
from ..settings import FitSettings
from .model import SDFDecoder
from .sdf_truth import signed_distance_function

ProgressCallback = Callable[[float], None]


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
    import time

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    distance = signed_distance_function(vertices, faces, settings.sdf_backend)
    model = SDFDecoder(settings.model).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, cosine_with_warmup(settings.iterations))
    generator = torch.Generator(device="cpu").manual_seed(seed)

    sdf_seconds = train_seconds = 0.0
    loss_value = math.nan
    per_pool = math.ceil(settings.iterations / settings.pools)
    done = 0
    for _ in range(settings.pools):
        started = time.perf_counter()
        points = training_points(
            vertices, faces, settings.pool_size, settings.band_sigmas,
            settings.uniform_fraction, settings.sample_bound, rng,
        )
        targets = np.clip(distance(points), -settings.clamp, settings.clamp)
        points_t = torch.from_numpy(points).to(device)
        targets_t = torch.from_numpy(targets.astype(np.float32)).to(device)
        sdf_seconds += time.perf_counter() - started

        started = time.perf_counter()
        for _ in range(min(per_pool, settings.iterations - done)):
            index = torch.randint(len(points_t), (settings.batch_size,), generator=generator).to(device)
            loss = _loss(model, points_t[index], targets_t[index], settings)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            done += 1
            if progress is not None and done % 10 == 0:
                progress(done / settings.iterations)
        loss_value = float(loss.detach())
        train_seconds += time.perf_counter() - started
    model.eval()
    report = FitReport(
        final_loss=loss_value,
        iterations=done,
        samples=settings.pool_size * settings.pools,
        sdf_seconds=sdf_seconds,
        train_seconds=train_seconds,
    )
    return model, report


def _loss(model: SDFDecoder, points: torch.Tensor, targets: torch.Tensor, settings: FitSettings) -> torch.Tensor:
    if settings.eikonal_weight > 0.0:
        points = points.requires_grad_(True)
    predicted = model(points)
    loss = (predicted.clamp(-settings.clamp, settings.clamp) - targets).abs().mean()
    if settings.eikonal_weight > 0.0:
        (gradient,) = torch.autograd.grad(predicted.sum(), points, create_graph=True)
        loss = loss + settings.eikonal_weight * ((gradient.norm(dim=1) - 1.0) ** 2).mean()
    return loss


def cosine_with_warmup(iterations: int, warmup: int = 20, floor: float = 0.02) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, iterations - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor
