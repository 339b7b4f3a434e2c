"""A caller's own labelling (``--labels`` per vertex or ``--face-labels`` per triangle), kept by id.

The pipeline works on dense part indices 0..k-1 over the welded vertices;
the caller's ids travel beside them and come back unchanged in every output,
so a part is never renumbered or matched up by position. A part that holds
faces but wins no vertex of its own (a one-face part) cannot get a volume:
it is kept in the lists and reported, never given another part's mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BadInputError
from ..mesh.welding import WeldedMesh

MAX_ID = 2**31 - 1  # labels are written back as int32


@dataclass(frozen=True)
class GivenParts:
    """A labelling mapped onto the welded mesh.

    welded_labels: (u,) int64 dense part index 0..k-1 of each welded vertex.
    ids: (k,) int64 the caller's id of each dense part index.
    face_labels: (m,) int64 the caller's id of each input triangle, or None when labels came per vertex.
    vertexless: caller ids that hold faces but no vertex (no part volume), in increasing order.
    """

    welded_labels: np.ndarray
    ids: np.ndarray
    face_labels: np.ndarray | None
    vertexless: tuple[int, ...]

    def dense_index(self, caller_id: int) -> int:
        """The dense index of a caller's part id; raises BadInputError when it has no vertex."""
        found = np.flatnonzero(self.ids == caller_id)
        if len(found) == 0:
            raise BadInputError(f"part {caller_id} is not among the given labels (or holds no vertex of its own)")
        return int(found[0])


def _check_ids(labels: np.ndarray, count: int, what: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        raise BadInputError(f"labels must be {count} integers (one per {what}), got shape {labels.shape} "
                            f"of {labels.dtype}")
    if count and labels.min() < 0:
        raise BadInputError("labels must not be negative")
    if count and labels.max() > MAX_ID:
        raise BadInputError(f"part ids must be at most {MAX_ID} (they come back as int32), got {labels.max()}")
    return labels.astype(np.int64)


def from_vertex_labels(labels: np.ndarray, faces: np.ndarray, welded: WeldedMesh) -> GivenParts:
    """(n,) caller ids per input vertex -> GivenParts; vertices welded together must agree.

    faces: (m, 3) input triangles. Only vertices on a face count: one that no face uses
    takes the label of the welded vertex it maps to (its nearest on a face).
    """
    labels = _check_ids(labels, len(welded.input_to_welded), "vertex")
    on_face = np.zeros(len(labels), bool)
    on_face[faces] = True
    ids, dense = np.unique(labels[on_face], return_inverse=True)
    result = np.full(len(welded.vertices), -1, dtype=np.int64)
    targets = welded.input_to_welded[on_face]
    result[targets] = dense
    if np.any(result[targets] != dense):
        raise BadInputError("vertices at the same position carry different labels; give them one part")
    return GivenParts(welded_labels=result, ids=ids, face_labels=None, vertexless=())


def majority_vertex_labels(faces: np.ndarray, face_labels: np.ndarray, vertex_count: int) -> np.ndarray:
    """(vertex_count,) int64: the label most faces around each vertex carry (lowest on a tie); -1 with no face.

    faces: (m, 3) int vertex indices. face_labels: (m,) int labels.
    """
    corners = faces.reshape(-1)
    corner_labels = np.repeat(face_labels, faces.shape[1])
    pairs, counts = np.unique(np.stack([corners, corner_labels], axis=1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))
    pairs = pairs[order]
    first = np.ones(len(pairs), bool)
    first[1:] = pairs[1:, 0] != pairs[:-1, 0]
    result = np.full(vertex_count, -1, np.int64)
    result[pairs[first, 0]] = pairs[first, 1]
    return result


def from_face_labels(labels: np.ndarray, faces: np.ndarray, welded: WeldedMesh) -> GivenParts:
    """(m,) caller ids per input triangle -> GivenParts.

    Each welded vertex takes the id most of its triangles carry (lowest on a tie);
    a vertex on no triangle takes the smallest id. Ids whose faces win no vertex
    are ``vertexless``.
    """
    labels = _check_ids(labels, len(faces), "triangle")
    votes = majority_vertex_labels(welded.input_to_welded[faces], labels, len(welded.vertices))
    votes[votes < 0] = labels.min()
    ids, dense = np.unique(votes, return_inverse=True)
    vertexless = tuple(int(i) for i in np.setdiff1d(np.unique(labels), ids))
    return GivenParts(welded_labels=dense.astype(np.int64), ids=ids, face_labels=labels, vertexless=vertexless)


def after_split(given: GivenParts, split_labels: np.ndarray) -> GivenParts:
    """GivenParts after a split: new dense parts get the ids after the caller's last.

    split_labels: (u,) dense labels from ``pipeline.split_part`` (new pieces numbered after the old ones).
    """
    extra = int(split_labels.max()) + 1 - len(given.ids)
    first_free = max([int(given.ids.max()), *given.vertexless]) + 1
    ids = np.concatenate([given.ids, first_free + np.arange(max(extra, 0))])
    return GivenParts(welded_labels=split_labels, ids=ids, face_labels=given.face_labels, vertexless=given.vertexless)


def caller_face_labels(given: GivenParts | None, vertex_labels: np.ndarray, faces: np.ndarray,
                       split_id: int | None) -> np.ndarray:
    """(m,) int32 caller ids per input triangle.

    Without labels per triangle (``given`` None or per vertex) each triangle takes
    the majority of its corners. Labels given per triangle come back as they were,
    except the split part's triangles, which take the piece most of their corners are in.
    vertex_labels: (n,) caller ids per input vertex. faces: (m, 3) int.
    """
    from_corners = majority_face_labels(vertex_labels, faces)
    if given is None or given.face_labels is None:
        return from_corners.astype(np.int32)
    result = given.face_labels.copy()
    if split_id is not None:
        pieces = set(given.ids[given.ids > given.face_labels.max()].tolist()) | {split_id}  # new ids come after
        moved = (result == split_id) & np.isin(from_corners, list(pieces))
        result[moved] = from_corners[moved]
    return result.astype(np.int32)


def majority_face_labels(vertex_labels: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(m,) the label most corners of each face carry (first corner on a three-way tie)."""
    corners = vertex_labels[faces]
    second_matches_third = corners[:, 1] == corners[:, 2]
    first_is_odd_one = (corners[:, 0] != corners[:, 1]) & (corners[:, 0] != corners[:, 2]) & second_matches_third
    return np.where(first_is_odd_one, corners[:, 1], corners[:, 0])
