import numpy as np

from bench.baselines import baseline_labels
from bench.kitbash import BOARDS_PER_PART, SCREWS_PER_PART, kitbashed_meshes
from bench.shapes import benchmark_shapes
from engine.mesh.welding import weld


def test_kitbashed_variants_are_the_shape_from_closed_pieces_with_the_same_parts():
    shape = benchmark_shapes()["lollipop"]
    meshes = kitbashed_meshes(shape)
    pieces = {name: len(np.unique(baseline_labels("components", vertices, faces, None, 0)))
              for name, (vertices, faces, _) in meshes.items()}
    assert pieces == {"welded": 1, "loose": 2, "screws": 2 + 2 * SCREWS_PER_PART, "boards": 2 * BOARDS_PER_PART}
    for name, (vertices, _, truth) in meshes.items():
        assert set(np.unique(truth)) == {0, 1}, name
        # every variant spans the same shape (bounding boxes agree to a grid step or two)
        np.testing.assert_allclose(vertices.min(axis=0), meshes["welded"][0].min(axis=0), atol=0.03)
    # welding keeps closed pieces apart where they touch: the boards stay six pieces
    vertices, faces, _ = meshes["boards"]
    welded = weld(vertices, faces)
    assert len(np.unique(baseline_labels("components", welded.vertices, welded.faces, None, 0))) == 6
