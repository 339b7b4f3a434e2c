import numpy as np
import pytest

from engine.mesh.normalisation import Normalisation


def test_normalisation_round_trip_and_unit_extent():
    vertices = np.random.default_rng(0).normal(size=(100, 3)) * [3, 1, 2] + 10
    norm = Normalisation.fit(vertices)
    unit = norm.to_unit(vertices)
    assert np.ptp(unit, axis=0).max() == pytest.approx(1.0)
    np.testing.assert_allclose(norm.from_unit(unit), vertices)
