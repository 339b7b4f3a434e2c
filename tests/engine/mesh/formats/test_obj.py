import numpy as np
import pytest

from engine.errors import BadInputError
from engine.mesh.formats import obj


def _obj_text(corner, faces, vertices):
    """OBJ with ``v`` lines then ``f`` lines whose corners ``corner(vertex0, corner_number)`` writes."""
    lines = ["# test", "mtllib none.mtl", "o cube", *(f"v {x:g} {y:g} {z:g}" for x, y, z in vertices)]
    lines += [f"vt {u} {u}" for u in range(24)] + [f"vn 0 0 {k}" for k in (1, -1)] + ["usemtl m", "s off", "g side"]
    number = 0
    for face in faces:
        tokens = []
        for v in face:
            tokens.append(corner(int(v), number))
            number += 1
        lines.append("f " + " ".join(tokens))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "corner",
    [
        lambda v, k: f"{v + 1}",
        lambda v, k: f"{v + 1}/{k + 1}",  # a UV seam at every corner: trimesh splits these vertices
        lambda v, k: f"{v + 1}//{k % 2 + 1}",
        lambda v, k: f"{v + 1}/{k + 1}/{k % 2 + 1}",
        lambda v, k: f"{v - 9}/{k - 24}/{k % 2 - 2}",  # relative indices (9 v lines, 24 vt, 2 vn before)
    ],
    ids=["v", "v/vt", "v//vn", "v/vt/vn", "negative"],
)
def test_obj_keeps_every_declared_vertex_across_seams_and_unused(cube, load_file, assert_same_mesh, corner):
    vertices, faces = load_file("cube.obj", _obj_text(corner, cube.quads, cube.vertices))
    assert_same_mesh(vertices, faces, cube.vertices, cube.fan)


def test_obj_fan_triangulates_polygons_in_place_and_keeps_face_order(load_file):
    pentagon = [[0, 1, 2, 3, 4]]
    square = np.array([[0, 0, 0], [2, 0, 0], [3, 1, 0], [1, 2, 0], [-1, 1, 0], [0, 0, 5]], float)
    text = _obj_text(lambda v, k: f"{v + 1}", faces=[[0, 1, 5], *pentagon, [1, 2, 5]], vertices=square)
    _, faces = load_file("poly.obj", text)
    np.testing.assert_array_equal(faces, [[0, 1, 5], [0, 1, 2], [0, 2, 3], [0, 3, 4], [1, 2, 5]])


def test_obj_negative_indices_count_from_the_line_they_are_on(load_file):
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 0 0 1\nf -4 -3 -1\nf 2 3 4\n"
    vertices, faces = load_file("rel.obj", text)
    assert len(vertices) == 4
    np.testing.assert_array_equal(faces, [[0, 1, 2], [0, 1, 3], [1, 2, 3]])


def test_obj_variants_give_the_same_mesh_on_both_paths(cube, load_file, assert_same_mesh):
    """Colours, w, CRLF, BOM, indentation, inline comments, continuations, l/p/vp lines leave the mesh alone."""
    plain = _obj_text(lambda v, k: f"{v + 1}/{k + 1}", cube.quads, cube.vertices)
    variant = plain.replace("v 5 5 5", "  v 5 5 5 1.0 # w").replace("v 1 1 1\n", "v 1 1 1 0.5 0.2 0.1\n")
    variant = variant.replace("\nf 7", "\n\tf 7/2 3/4 1/1 4/4 # a comment\nl 1 2\np 3\nvp 0.5\nf 7", 1)
    expected_faces = np.concatenate([cube.fan[:2], [[6, 2, 0], [6, 0, 3]], cube.fan[2:]])
    assert_same_mesh(*obj._by_line(plain, "plain.obj"), cube.vertices, cube.fan)
    assert_same_mesh(*obj._vectorised(plain), cube.vertices, cube.fan)
    assert_same_mesh(*obj._by_line(variant, "variant.obj"), cube.vertices, expected_faces)
    assert obj._vectorised(variant) is None  # v lines of 3, 4 and 6 numbers: the line reader
    same_width = variant.replace(" 1.0 # w", "").replace(" 0.5 0.2 0.1", "")
    assert_same_mesh(*obj._vectorised(same_width), cube.vertices, expected_faces)
    continued = "\ufeff" + variant.replace("f 2/1 ", "f \\\n 2/1 ", 1).replace("\n", "\r\n")
    assert "\\\r\n" in continued
    assert_same_mesh(*load_file("variant.obj", continued), cube.vertices, expected_faces)


@pytest.mark.parametrize(
    "faces_text, message",
    [
        ("f 1 2 3\nf 0 1 2\n", "line 6: face index 0 is not valid"),
        ("f 1 2 3\nf 1 2 9\n", "line 6: face index 9 is past the last vertex"),
        ("f -5 -1 -2\n", "line 5: face index -5 reaches before the first vertex"),
        ("f 1 2\n", "line 5: a face needs at least 3 vertices"),
        ("f 1 x 2\n", "line 5: 'x' is not a vertex index"),
        ("f 1/1 /2 3\n", "line 5: a face corner has no vertex index"),
        ("l 1 2\n", "no faces"),
    ],
)
def test_bad_obj_faces_are_refused_naming_the_line(load_file, faces_text, message):
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n" + faces_text
    with pytest.raises(BadInputError, match=message):
        load_file("bad.obj", text)


def test_obj_error_after_a_continuation_names_the_file_line(load_file):
    with pytest.raises(BadInputError, match="line 4: face index 0"):
        load_file("bad.obj", "v 0 0 0\nv 1 0 0 \\\n\nf 0 1 2\nv 0 1 0\nv 0 0 1\n")


def test_bad_obj_vertex_is_refused_naming_the_line(load_file):
    with pytest.raises(BadInputError, match="line 2: 'nope' is not a number"):
        load_file("bad.obj", "v 0 0 0\nv 1 nope 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\n")
