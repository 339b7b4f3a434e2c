import numpy as np

from engine.segment.classifier import fit_classifier, held_out_accuracy


def test_nearest_centroid_separates_two_feature_clusters():
    rng = np.random.default_rng(0)
    features = np.r_[rng.normal(0.0, 0.3, (200, 8)), rng.normal(2.0, 0.3, (200, 8))]
    labels = np.repeat([0, 1], 200)
    classifier = fit_classifier(features, labels)
    assert (classifier.predict(features) == labels).all()
    assert held_out_accuracy(features, labels, seed=0) == 1.0


def test_held_out_accuracy_is_chance_level_on_noise():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2000, 8))
    labels = rng.integers(0, 2, 2000)
    assert 0.35 < held_out_accuracy(features, labels, seed=0) < 0.65
