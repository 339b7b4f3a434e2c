"""Benchmark metrics of BENCHMARK.md as pure functions over arrays.

Labels are integer arrays of the same length (one entry per mesh vertex or
query point). A negative predicted label means "unassigned": it never matches
a true part, and it is not counted as a part.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.errors import BadInputError

NormalsLike = np.ndarray | Callable[[np.ndarray], np.ndarray]


def _label_pair(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(true).reshape(-1)
    pred = np.asarray(pred).reshape(-1)
    if true.shape != pred.shape:
        raise BadInputError(f"label arrays differ in length: {true.shape[0]} true, {pred.shape[0]} predicted")
    if true.size == 0:
        raise BadInputError("label arrays are empty")
    if true.dtype.kind not in "iu" or pred.dtype.kind not in "iu":
        raise BadInputError("labels must be integer arrays")
    return true.astype(np.int64), pred.astype(np.int64)


def contingency(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlap counts between true and predicted labels.

    true, pred: (n,) int. Returns ``(table, true_values, pred_values)`` where
    table is (t, p) int64, ``table[i, j]`` the number of entries with true
    label ``true_values[i]`` and predicted label ``pred_values[j]``. Negative
    predicted labels are left out of the columns.
    """
    true, pred = _label_pair(true, pred)
    true_values, true_index = np.unique(true, return_inverse=True)
    pred_values, pred_index = np.unique(pred, return_inverse=True)
    table = np.zeros((len(true_values), len(pred_values)), dtype=np.int64)
    np.add.at(table, (true_index.reshape(-1), pred_index.reshape(-1)), 1)
    keep = pred_values >= 0
    return table[:, keep], true_values, pred_values[keep]


def adjusted_rand(true: np.ndarray, pred: np.ndarray) -> float:
    """Adjusted Rand Index (sklearn) of (n,) int labels; 1 = same partition."""
    from sklearn.metrics import adjusted_rand_score

    true, pred = _label_pair(true, pred)
    return float(adjusted_rand_score(true, pred))


def class_agnostic_miou(true: np.ndarray, pred: np.ndarray) -> float:
    """For each true part the best IoU with any predicted part, averaged over true parts.

    true, pred: (n,) int. Over-splitting a true part lowers its best IoU;
    extra predicted parts elsewhere do not count (that is ``parts_found``'s job).
    """
    table, _, _ = contingency(true, pred)
    if table.shape[1] == 0:
        return 0.0
    true_sizes = np.unique(_label_pair(true, pred)[0], return_counts=True)[1]
    pred_sizes = table.sum(axis=0)
    union = true_sizes[:, None] + pred_sizes[None, :] - table
    iou = table / np.maximum(union, 1)
    return float(iou.max(axis=1).mean())


def hungarian_match(true: np.ndarray, pred: np.ndarray) -> dict[int, int]:
    """One-to-one matching of predicted to true labels maximising total overlap.

    true, pred: (n,) int. Returns ``{predicted label: true label}``. With more
    predicted than true parts the extra predicted labels are absent from the
    dict (they match nothing); pairs with zero overlap are dropped too.
    """
    from scipy.optimize import linear_sum_assignment

    table, true_values, pred_values = contingency(true, pred)
    if table.shape[1] == 0:
        return {}
    rows, cols = linear_sum_assignment(table, maximize=True)
    return {int(pred_values[c]): int(true_values[r]) for r, c in zip(rows, cols, strict=True) if table[r, c] > 0}


def parts_found(pred: np.ndarray) -> int:
    """Number of distinct non-negative labels in (n,) int ``pred``."""
    pred = np.asarray(pred).reshape(-1)
    return int(np.unique(pred[pred >= 0]).size)


def apply_match(pred: np.ndarray, match: dict[int, int]) -> np.ndarray:
    """(n,) int predicted labels -> (n,) int true labels via ``match``; unmatched -> -1."""
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    mapped = np.full(pred.shape, -1, dtype=np.int64)
    for source, target in match.items():
        mapped[pred == source] = target
    return mapped


def ownership_accuracy(true_owner: np.ndarray, predicted_owner: np.ndarray, match: dict[int, int]) -> float:
    """Share of interior points owned by the matched ground-truth part.

    true_owner: (n,) int, the argmin over ground-truth part SDFs at each interior
    point. predicted_owner: (n,) int, the argmin over predicted part SDFs.
    match: ``{predicted: true}`` from :func:`hungarian_match` on surface labels.
    Points owned by an unmatched predicted part count as wrong.
    """
    true_owner, predicted_owner = _label_pair(true_owner, predicted_owner)
    return float(np.mean(apply_match(predicted_owner, match) == true_owner))


def chamfer_l1(points_a: np.ndarray, points_b: np.ndarray) -> float:
    """Symmetric Chamfer-L1: mean of the two mean nearest-neighbour distances.

    points_a: (n, 3) float, points_b: (m, 3) float. Distances are Euclidean
    (the "L1" is over the per-point distances, not squared ones).
    """
    from scipy.spatial import cKDTree

    a = np.asarray(points_a, dtype=np.float64)
    b = np.asarray(points_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != 3 or b.shape[1] != 3 or len(a) == 0 or len(b) == 0:
        raise BadInputError(f"chamfer needs two non-empty (n, 3) point sets, got {a.shape} and {b.shape}")
    a_to_b = cKDTree(b).query(a, workers=1)[0]
    b_to_a = cKDTree(a).query(b, workers=1)[0]
    return float(0.5 * (a_to_b.mean() + b_to_a.mean()))


def junction_mask(part_sdfs: np.ndarray, tolerance: float = 0.01) -> np.ndarray:
    """(n,) bool: points within about ``tolerance`` of where two part SDFs meet.

    part_sdfs: (n, parts) float, the ground-truth part SDFs at the points. The
    two smallest part distances d1 <= d2 differ by at most twice the distance to
    their equal-distance set (both are 1-Lipschitz), so ``d2 - d1 <= 2 *
    tolerance`` keeps every point within ``tolerance`` of a junction.
    """
    part_sdfs = np.asarray(part_sdfs, dtype=np.float64)
    if part_sdfs.ndim != 2 or part_sdfs.shape[1] < 2:
        return np.zeros(len(part_sdfs), dtype=bool)
    two = np.partition(part_sdfs, 1, axis=1)[:, :2]
    return (two[:, 1] - two[:, 0]) <= 2.0 * tolerance


def sdf_normals(sdf: Callable[[np.ndarray], np.ndarray], points: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """(n, 3) unit normals of ``sdf`` at (n, 3) points by central differences."""
    points = np.asarray(points, dtype=np.float64)
    gradient = np.empty_like(points)
    for axis in range(3):
        offset = np.zeros(3)
        offset[axis] = step
        gradient[:, axis] = (np.asarray(sdf(points + offset)) - np.asarray(sdf(points - offset))) / (2.0 * step)
    return gradient / np.maximum(np.linalg.norm(gradient, axis=1, keepdims=True), 1e-12)


def junction_normal_error(points: np.ndarray, true_normals: NormalsLike, predicted_normals: NormalsLike) -> float:
    """Mean angle in degrees between true and predicted normals at (n, 3) points.

    true_normals, predicted_normals: (n, 3) float arrays, or callables mapping
    the (n, 3) points to them (e.g. ``lambda p: sdf_normals(model_sdf, p)``).
    Normals need not be unit length; a zero normal counts as 90 degrees.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise BadInputError(f"junction points must be a non-empty (n, 3) array, got {points.shape}")
    normals = []
    for given in (true_normals, predicted_normals):
        value = np.asarray(given(points) if callable(given) else given, dtype=np.float64)
        if value.shape != points.shape:
            raise BadInputError(f"normals must be {points.shape}, got {value.shape}")
        length = np.linalg.norm(value, axis=1, keepdims=True)
        normals.append(np.divide(value, length, out=np.zeros_like(value), where=length > 0))
    cosine = np.clip(np.sum(normals[0] * normals[1], axis=1), -1.0, 1.0)
    return float(np.degrees(np.arccos(cosine)).mean())
