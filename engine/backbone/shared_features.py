"""``--features dino``: part features and part types a whole library shares (issue 14).

A mesh's code is optimised against its SDF samples with the shipped backbone frozen (``latent_fit``);
the backbone's activations at the vertices under that code go through the shipped DINO head. The head's
unit features replace the per-mesh field's activations as the segmentation's activation cue, and each
part's type is the prototype most of its vertices choose: prototype ``p`` is type ``Kind p`` in every
mesh, so a batch names the same kind of part the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..field.fitting import sdf_pool
from ..field.probing import activations
from ..field.sdf_truth import signed_distance_function
from ..settings import FitSettings
from .coded import CodedDecoder, frame_scale
from .head import ProjectionHead
from .latent_fit import fine_tune, fit_latent
from .model import LatentDecoder
from .weights import load_backbone, load_head

LATENT_STEPS = 300
"""Steps of the code optimisation (docs/backbone.md measures the backbone with this many)."""


@dataclass(frozen=True)
class SharedFeatures:
    """Per welded vertex: ``features`` (n, f) float32 unit DINO features, ``prototypes`` (n,) int64 arg-max
    prototype."""

    features: np.ndarray
    prototypes: np.ndarray


@lru_cache(maxsize=1)
def shipped_models() -> tuple[LatentDecoder, ProjectionHead]:
    """The shipped backbone and DINO head, loaded once per process; ``WeightsError`` when either is bad.

    A run calls this before its long work, so a broken install is refused at once.
    """
    return load_backbone()[0], load_head()[0]


def shared_features(
    unit_vertices: np.ndarray,
    faces: np.ndarray,
    fit: FitSettings,
    seed: int,
    device: torch.device,
    progress: Callable[[float], None] | None = None,
) -> SharedFeatures:
    """DINO features and prototypes of a welded mesh (unit-cube vertices (n, 3), faces (m, 3)).

    Raises ``WeightsError`` when the shipped weights are missing or damaged.
    """
    decoder, head = (model.to(device) for model in shipped_models())
    field = coded_field(decoder, unit_vertices, faces, fit, seed, device, progress)
    return head_features(head, activations(field, unit_vertices, device), device)


def coded_field(
    decoder: LatentDecoder,
    unit_vertices: np.ndarray,
    faces: np.ndarray,
    fit: FitSettings,
    seed: int,
    device: torch.device,
    progress: Callable[[float], None] | None = None,
    tune_steps: int = 0,
) -> CodedDecoder:
    """``decoder`` (on ``device``) under a code fitted to the mesh's SDF samples (drawn as the per-mesh fit
    draws them); with ``tune_steps`` the decoder's weights are then fine-tuned on a copy (``fine_tune``)."""
    distance = signed_distance_function(unit_vertices, faces, fit.sdf_backend)
    points, targets = sdf_pool(unit_vertices, faces, distance, fit, np.random.default_rng(seed), device)
    scale = frame_scale(unit_vertices)
    points, targets = points * scale, targets * scale
    code = fit_latent(decoder, points, targets, steps=LATENT_STEPS, seed=seed, progress=progress)
    if tune_steps:
        decoder = fine_tune(decoder, code, points, targets, steps=tune_steps, seed=seed)
    return CodedDecoder(decoder, code, scale)


def head_features(head: ProjectionHead, layers: list[np.ndarray], device: torch.device) -> SharedFeatures:
    """The head's unit features and arg-max prototypes of per-layer activations (each (n, width))."""
    joined = np.concatenate(layers, axis=1)
    features = np.empty((len(joined), head.settings.features), np.float32)
    prototypes = np.empty(len(joined), np.int64)
    with torch.no_grad():
        for start in range(0, len(joined), 65536):
            rows = torch.from_numpy(joined[start:start + 65536]).to(device)
            unit = head.features(rows)
            features[start:start + len(rows)] = unit.cpu().numpy()
            prototypes[start:start + len(rows)] = head.prototypes(unit).argmax(dim=1).cpu().numpy()
    return SharedFeatures(features, prototypes)


def prototype_name(prototype: int) -> str:
    """The type name every mesh gives prototype ``prototype``."""
    return f"Kind {prototype:02d}"


def prototype_types(part_labels: np.ndarray, prototypes: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Types of parts from their vertices' prototypes: each part takes its majority prototype.

    part_labels: (n,) dense part per vertex (0..p-1); prototypes: (n,) per vertex. Returns (p,) type per
    part (dense, in prototype order) and the type names.
    """
    parts = int(part_labels.max()) + 1 if len(part_labels) else 0
    majority = np.zeros(parts, np.int64)
    for part in range(parts):
        chosen = prototypes[part_labels == part]
        majority[part] = np.bincount(chosen).argmax() if len(chosen) else 0
    kinds, part_types = np.unique(majority, return_inverse=True)
    return part_types.reshape(-1), tuple(prototype_name(int(k)) for k in kinds)
