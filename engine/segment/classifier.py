"""Nearest-centroid activation classifier: label any point from its activations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CentroidClassifier:
    """Feature standardisation (d,) mean/std and one (p, d) centroid per part."""

    mean: np.ndarray
    std: np.ndarray
    centroids: np.ndarray

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n, d) raw concatenated activations -> (n,) part ids."""
        z = (features - self.mean) / self.std
        squared = (z**2).sum(axis=1)[:, None] - 2.0 * z @ self.centroids.T + (self.centroids**2).sum(axis=1)[None]
        return squared.argmin(axis=1)


def fit_classifier(features: np.ndarray, labels: np.ndarray) -> CentroidClassifier:
    """Centroids of standardised features (n, d) per label (n,) in 0..p-1."""
    mean = features.mean(axis=0)
    std = np.maximum(features.std(axis=0), 1e-6)
    z = (features - mean) / std
    centroids = np.stack([z[labels == p].mean(axis=0) for p in range(labels.max() + 1)])
    return CentroidClassifier(mean=mean, std=std, centroids=centroids)


SCORED_VERTICES = 20_000


def held_out_accuracy(features: np.ndarray | Sequence[np.ndarray], labels: np.ndarray, seed: int,
                      held_out: float = 0.2, scored: int = SCORED_VERTICES) -> float:
    """Surface accuracy on a random ``held_out`` share of vertices, centroids from the rest.

    features: (n, d), or its column blocks side by side, e.g. the (n, width) activations of each
    layer: only the training rows, then the test rows, are gathered into one array (the whole
    (n, d) concatenation is never made). labels: (n,) in 0..p-1. A mesh with more than
    ``scored`` vertices is scored on that many drawn at random (a diagnostic need not read them all).
    """
    rng = np.random.default_rng(seed)
    rows = np.arange(len(labels)) if len(labels) <= scored else np.sort(rng.choice(len(labels), scored,
                                                                                  replace=False))
    is_test = rng.random(len(rows)) < held_out
    test, train = rows[is_test], rows[~is_test]
    if not len(test) or len(np.unique(labels[train])) < labels.max() + 1:
        return float("nan")
    blocks = [features] if isinstance(features, np.ndarray) else list(features)
    classifier = fit_classifier(gather_rows(blocks, train), labels[train])
    return float((classifier.predict(gather_rows(blocks, test)) == labels[test]).mean())


def gather_rows(blocks: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """``np.concatenate(blocks, axis=1)[rows]`` without the full concatenation.

    blocks: (n, d_i) arrays, rows: (n,) bool mask or (r,) int indices -> (r, sum d_i).
    """
    if len(blocks) == 1:
        return blocks[0][rows]
    count = int(np.count_nonzero(rows)) if rows.dtype == bool else len(rows)
    gathered = np.empty((count, sum(block.shape[1] for block in blocks)),
                        dtype=np.result_type(*(block.dtype for block in blocks)))
    begin = 0
    for block in blocks:
        gathered[:, begin:begin + block.shape[1]] = block[rows]
        begin += block.shape[1]
    return gathered
