"""Hand-checkable cases for bench.metrics."""

import numpy as np
import pytest

from bench import metrics
from engine.errors import BadInputError

TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def test_perfect_and_permuted_labels_score_one():
    permuted = np.array([7, 7, 7, 7, 3, 3, 3, 3])
    for pred in (TRUE, permuted):
        assert metrics.adjusted_rand(TRUE, pred) == pytest.approx(1.0)
        assert metrics.class_agnostic_miou(TRUE, pred) == pytest.approx(1.0)
        assert metrics.parts_found(pred) == 2
    assert metrics.hungarian_match(TRUE, permuted) == {7: 0, 3: 1}


def test_over_split_lowers_miou_and_counts_parts():
    pred = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    # true part 0 (4 points) best overlaps a 2-point part: IoU 0.5; part 1 is exact.
    assert metrics.class_agnostic_miou(TRUE, pred) == pytest.approx(0.75)
    assert metrics.parts_found(pred) == 3
    match = metrics.hungarian_match(TRUE, pred)
    assert match[2] == 1 and len(match) == 2 and list(match.values()).count(0) == 1
    assert metrics.adjusted_rand(TRUE, pred) < 1.0


def test_single_predicted_part():
    pred = np.zeros(8, dtype=int)
    assert metrics.adjusted_rand(TRUE, pred) == pytest.approx(0.0)
    assert metrics.class_agnostic_miou(TRUE, pred) == pytest.approx(0.5)
    assert metrics.hungarian_match(TRUE, pred) == {0: 0}


def test_unassigned_labels_are_not_parts():
    pred = np.array([0, 0, 0, -1, 1, 1, 1, 1])
    assert metrics.parts_found(pred) == 2
    assert metrics.class_agnostic_miou(TRUE, pred) == pytest.approx((0.75 + 1.0) / 2)
    assert -1 not in metrics.hungarian_match(TRUE, pred)


def test_ownership_accuracy_uses_match_and_counts_unmatched_as_wrong():
    true_owner = np.array([0, 0, 1, 1])
    predicted_owner = np.array([5, 5, 6, 9])
    assert metrics.ownership_accuracy(true_owner, predicted_owner, {5: 0, 6: 1}) == pytest.approx(0.75)
    assert metrics.ownership_accuracy(true_owner, predicted_owner, {5: 1, 6: 0}) == pytest.approx(0.0)


def test_chamfer_l1():
    a = np.zeros((1, 3))
    b = np.array([[1.0, 0, 0], [0, 2.0, 0]])
    # a->b: 1; b->a: (1 + 2) / 2 = 1.5; mean of both directions: 1.25
    assert metrics.chamfer_l1(a, b) == pytest.approx(1.25)
    assert metrics.chamfer_l1(b, b) == 0.0
    with pytest.raises(BadInputError):
        metrics.chamfer_l1(a, np.zeros((0, 3)))


def test_junction_normal_error_in_degrees():
    points = np.zeros((2, 3))
    true = np.array([[1.0, 0, 0], [0, 2.0, 0]])
    predicted = np.array([[0, 3.0, 0], [0, 1.0, 0]])
    assert metrics.junction_normal_error(points, true, predicted) == pytest.approx(45.0)
    assert metrics.junction_normal_error(points, true, lambda p: true) == pytest.approx(0.0, abs=1e-6)


def test_junction_mask_and_sdf_normals():
    part_sdfs = np.array([[0.0, 0.015], [0.0, 0.05], [0.3, 0.31]])
    np.testing.assert_array_equal(metrics.junction_mask(part_sdfs, 0.01), [True, False, True])
    normals = metrics.sdf_normals(lambda p: np.linalg.norm(p, axis=1) - 1.0, np.array([[2.0, 0, 0]]))
    np.testing.assert_allclose(normals, [[1.0, 0, 0]], atol=1e-6)


def test_mismatched_lengths_raise():
    with pytest.raises(BadInputError):
        metrics.adjusted_rand(TRUE, TRUE[:3])
