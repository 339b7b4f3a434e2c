"""A caller's labelling keeps its ids: per-vertex and per-triangle labels, one-face parts, splits."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import BadInputError
from engine.mesh.welding import weld
from engine.segment.given_parts import after_split, caller_face_labels, from_face_labels, from_vertex_labels

# Two unit squares side by side (x 0..1 and 1..2), two triangles each, sharing the edge x = 1.
VERTICES = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [2, 0, 0], [2, 1, 0]], np.float64)
FACES = np.array([[0, 1, 2], [0, 2, 3], [1, 4, 5], [1, 5, 2]], np.int64)


def test_face_labels_keep_the_callers_ids_and_come_back_unchanged():
    welded = weld(VERTICES, FACES)
    given = from_face_labels(np.array([7, 7, 40, 40]), FACES, welded)
    assert given.ids.tolist() == [7, 40] and given.vertexless == ()
    vertex_labels = given.ids[given.welded_labels][welded.input_to_welded]
    assert vertex_labels.tolist() == [7, 40, 7, 7, 40, 40]  # each vertex: the id most of its triangles carry
    np.testing.assert_array_equal(caller_face_labels(given, vertex_labels, FACES, None), [7, 7, 40, 40])


def test_a_one_face_part_is_kept_as_vertexless_not_renumbered():
    welded = weld(VERTICES, FACES)
    given = from_face_labels(np.array([3, 3, 3, 9]), FACES, welded)
    assert given.ids.tolist() == [3] and given.vertexless == (9,)
    vertex_labels = given.ids[given.welded_labels][welded.input_to_welded]
    np.testing.assert_array_equal(caller_face_labels(given, vertex_labels, FACES, None), [3, 3, 3, 9])


def test_split_pieces_get_ids_after_every_given_id_even_a_vertexless_one():
    welded = weld(VERTICES, FACES)
    given = from_face_labels(np.array([3, 3, 3, 9]), FACES, welded)
    split = given.welded_labels.copy()
    split[[4, 5]] = 1  # the right square's own vertices become a new piece of part 3
    after = after_split(given, split)
    assert after.ids.tolist() == [3, 10]
    vertex_labels = after.ids[after.welded_labels][welded.input_to_welded]
    labels = caller_face_labels(after, vertex_labels, FACES, 3)
    assert labels.tolist() == [3, 3, 10, 9]  # only the split part's triangles move


def test_vertex_labels_keep_ids_and_welded_copies_must_agree():
    welded = weld(VERTICES, FACES)
    given = from_vertex_labels(np.array([5, 5, 5, 5, 2, 2]), FACES, welded)
    assert given.ids.tolist() == [2, 5] and given.face_labels is None
    doubled = np.vstack([VERTICES, VERTICES[:1]])
    with pytest.raises(BadInputError, match="same position"):
        from_vertex_labels(np.array([5, 5, 5, 5, 2, 2, 2]), np.vstack([FACES, [[6, 1, 2]]]),
                           weld(doubled, np.vstack([FACES, [[6, 1, 2]]])))


@pytest.mark.parametrize("labels, message", [
    (np.array([1, 2, 3]), "4 integers"),
    (np.array([1.0, 2.0, 3.0, 4.0]), "integers"),
    (np.array([0, -1, 0, 0]), "negative"),
])
def test_bad_face_labels_are_refused(labels, message):
    with pytest.raises(BadInputError, match=message):
        from_face_labels(labels, FACES, weld(VERTICES, FACES))


def test_asking_for_a_part_that_has_no_vertex_is_a_clear_error():
    given = from_face_labels(np.array([3, 3, 3, 9]), FACES, weld(VERTICES, FACES))
    with pytest.raises(BadInputError, match="part 9"):
        given.dense_index(9)


def test_a_vertex_on_no_face_takes_its_nearest_vertexs_part_not_one_of_its_own():
    vertices = np.vstack([VERTICES, [[30.0, 0.0, 0.0]]])  # an unused vertex far to the right
    welded = weld(vertices, FACES)
    assert len(welded.vertices) == 6 and welded.input_to_welded[6] == welded.input_to_welded[4]
    given = from_vertex_labels(np.array([5, 5, 5, 5, 2, 2, 77]), FACES, welded)
    assert given.ids.tolist() == [2, 5]
    assert given.ids[given.welded_labels][welded.input_to_welded].tolist() == [5, 5, 5, 5, 2, 2, 2]
