"""The engine's own k-means (engine.segment.kmeans) on point sets whose clusters are known."""

import numpy as np

from bench.metrics import adjusted_rand
from engine.segment.kmeans import kmeans, plus_plus_seeds


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(400, 5) points in 8 well separated Gaussian blobs, and each point's blob."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(8, 5))
    truth = rng.integers(0, 8, 400)
    return centres[truth] + rng.normal(scale=0.3, size=(400, 5)), truth


def test_separated_blobs_are_found_exactly():
    points, truth = blobs()
    labels = kmeans(points, 8, seed=0)
    assert labels.dtype == np.int64 and labels.shape == (400,)
    assert adjusted_rand(truth, labels) == 1.0


def test_the_same_seed_gives_the_same_clusters():
    points, _ = blobs(1)
    assert np.array_equal(kmeans(points, 5, seed=3), kmeans(points, 5, seed=3))


def test_repeated_points_give_no_more_clusters_than_distinct_points():
    points = np.repeat(np.eye(3), 10, axis=0)
    labels = kmeans(points, 6, seed=0)
    assert len(np.unique(labels)) == 3 and adjusted_rand(np.repeat(np.arange(3), 10), labels) == 1.0
    assert len(plus_plus_seeds(points, 6, np.random.default_rng(0))) == 3


def test_more_clusters_than_points_is_capped():
    points = np.arange(4.0).reshape(4, 1)
    assert sorted(kmeans(points, 9, seed=0).tolist()) == [0, 1, 2, 3]
