"""The reference work's four interior-ownership attempts (seeds/000, table 2), as baselines.

Each maps (n, 3) unit-cube query points inside the shape to the owning part,
given the mesh and its (unsmoothed) vertex part labels; none uses ground truth.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.field.model import SDFDecoder
from engine.field.probing import activations
from engine.parts.ownership import SurfaceOwnership
from engine.segment.classifier import fit_classifier

from .baselines import hull_plane_distances

PROXIMITY_RADIUS = 0.05  # unit-cube units (5 % of the longest side); fixed, not tuned


def hull_closing_owners(vertices: np.ndarray, labels: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Attempt 1, closing each part by its convex hull: the hull with the smallest plane distance owns."""
    hulls = [(vertices[labels == part], None) for part in range(int(labels.max()) + 1)]
    return hull_plane_distances(queries, hulls).argmin(axis=1).astype(np.int64)


def proximity_mask_owners(
    vertices: np.ndarray, labels: np.ndarray, queries: np.ndarray, radius: float = PROXIMITY_RADIUS
) -> np.ndarray:
    """Attempt 2, the shape SDF masked to points within ``radius`` of a part's surface.

    Every unmasked part has the same (global) SDF value, so the min picks the
    first part within the radius; a point near no part falls to part 0.
    """
    parts = int(labels.max()) + 1
    near = SurfaceOwnership.build(vertices, labels, parts).part_distances(queries) < radius
    return near.argmax(axis=1).astype(np.int64)


def nearest_vertex_owners(vertices: np.ndarray, labels: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Attempt 3, the segmentation-label mask: the label of the nearest mesh vertex."""
    return SurfaceOwnership.build(vertices, labels, int(labels.max()) + 1).owners(queries)


def activation_classifier_owners(
    model: SDFDecoder, vertices: np.ndarray, labels: np.ndarray, queries: np.ndarray
) -> np.ndarray:
    """Attempt 4, the nearest-centroid classifier on the global decoder's activations."""
    device = torch.device("cpu")
    classifier = fit_classifier(np.concatenate(activations(model, vertices, device), axis=1), labels)
    return classifier.predict(np.concatenate(activations(model, queries, device), axis=1)).astype(np.int64)
