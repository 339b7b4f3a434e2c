import pytest

from engine.errors import BadInputError
from engine.mesh.formats import off


def test_off_keeps_declared_vertices_and_polygons(cube, load_file, assert_same_mesh):
    rows = [f"{x:g} {y:g} {z:g} 255 0 0 255" for x, y, z in cube.vertices]
    faces = [f"4 {' '.join(map(str, q))}" for q in cube.quads[:5]]
    faces += [f"3 {' '.join(map(str, t))} 9 9 9" for t in cube.fan[10:]]
    text = "COFF\n# a comment\n\n" + f"{len(cube.vertices)} 7 0\n" + "\n".join(rows + faces) + "\n"
    assert_same_mesh(*load_file("cube.off", text), cube.vertices, cube.fan)
    assert off._vectorised(text) is not None
    assert_same_mesh(*off._by_line(text, "cube.off"), cube.vertices, cube.fan)
    with pytest.raises(BadInputError, match=r"line 14: face index 9 is outside 0..8"):
        load_file("bad.off", text.replace("4 1 7 5 2", "4 1 7 5 9"))
