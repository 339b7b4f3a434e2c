"""Nearest-centroid activation classifier: label any point from its activations."""

from __future__ import annotations

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


def held_out_accuracy(features: np.ndarray, labels: np.ndarray, seed: int, held_out: float = 0.2) -> float:
    """Surface accuracy on a random ``held_out`` share of vertices, centroids from the rest."""
    rng = np.random.default_rng(seed)
    test = rng.random(len(labels)) < held_out
    train = ~test
    if not test.any() or len(np.unique(labels[train])) < labels.max() + 1:
        return float("nan")
    classifier = fit_classifier(features[train], labels[train])
    return float((classifier.predict(features[test]) == labels[test]).mean())
