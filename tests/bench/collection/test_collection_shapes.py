import numpy as np
import pytest

from bench.collection.families import FAMILIES, KINDS
from bench.collection.samples import shape_samples
from bench.collection.shapes import FIT_RADIUS, collection_shape


@pytest.fixture(scope="module")
def shapes():
    """Two shapes of every family (indices cycle through the families), with their meshes."""
    drawn = [collection_shape(0, "train", index) for index in range(2 * len(FAMILIES))]
    return [(shape, *shape.mesh(64)) for shape in drawn]


def test_every_family_is_drawn_and_every_shape_fits_the_unit_ball(shapes):
    assert {shape.family for shape, _, _ in shapes} == set(FAMILIES)
    for shape, vertices, _ in shapes:
        assert np.linalg.norm(vertices, axis=1).max() <= FIT_RADIUS + 0.02, shape.builder


def test_every_part_shows_on_the_surface(shapes):
    for shape, vertices, _ in shapes:
        owned = np.bincount(shape.instances(vertices), minlength=len(shape.kinds))
        assert (owned > 0).all(), (shape.builder, owned.tolist())


def test_kinds_are_shared_across_families():
    families_of_kind: dict[int, set[str]] = {}
    for index in range(60):
        shape = collection_shape(0, "train", index)
        for kind in shape.kinds:
            families_of_kind.setdefault(kind, set()).add(shape.family)
    shared = [KINDS[kind] for kind, families in families_of_kind.items() if len(families) >= 2]
    assert "rod" in shared and len(shared) >= 3, shared


def test_shapes_are_reproducible_and_the_splits_differ():
    points = np.random.default_rng(1).uniform(-0.5, 0.5, (500, 3))
    first, again = collection_shape(3, "train", 7), collection_shape(3, "train", 7)
    np.testing.assert_array_equal(first.sdf(points), again.sdf(points))
    assert not np.allclose(first.sdf(points), collection_shape(3, "held_out", 7).sdf(points))


def test_organic_shapes_blend_their_parts_and_man_made_ones_do_not():
    blends = {collection_shape(0, "train", index).family: collection_shape(0, "train", index).blend
              for index in range(len(FAMILIES))}
    assert blends["organic"] > 0 and blends["furniture"] == 0


def test_samples_crowd_the_surface_and_carry_the_analytic_distance():
    shape = collection_shape(0, "train", 0)
    points, distances = shape_samples(shape, 4000, np.random.default_rng(0))
    assert points.shape == (4000, 3) and distances.dtype == np.float32
    np.testing.assert_allclose(distances, shape.sdf(points.astype(np.float64)), atol=1e-6)
    assert np.mean(np.abs(distances) < 0.02) > 0.5 and (distances < 0).any()
