"""Fitting a neural SDF (engine.field.fitting) to a small sphere, quickly and reproducibly."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import trimesh

from engine.field.fitting import fit_sdf, pool_steps
from engine.field.probing import evaluate
from engine.settings import FitSettings, ModelSettings, fit_settings_from_dict, to_dict

CPU = torch.device("cpu")
RADIUS = 0.35
SMALL = FitSettings(model=ModelSettings(width=32, hidden_layers=3, skip_layer=2, frequencies=2), iterations=100,
                    batch_size=512, learning_rate=5e-3, pool_size=6000, pools=2)


@pytest.fixture(scope="module")
def ball() -> tuple[np.ndarray, np.ndarray]:
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=RADIUS)
    return np.asarray(sphere.vertices), np.asarray(sphere.faces)


@pytest.fixture(scope="module")
def fitted(ball):
    fractions = []
    model, report = fit_sdf(*ball, SMALL, seed=1, device=CPU, progress=fractions.append)
    return model, report, fractions


def test_the_fitted_sdf_is_negative_inside_and_positive_outside(fitted):
    model, report, fractions = fitted
    rng = np.random.default_rng(2)
    directions = rng.normal(size=(2000, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    inside = directions * rng.uniform(0.0, 0.6 * RADIUS, (2000, 1))
    outside = directions * rng.uniform(1.4 * RADIUS, 0.55, (2000, 1))
    assert (evaluate(model, inside, CPU)[:, 0] < 0).mean() > 0.98
    assert (evaluate(model, outside, CPU)[:, 0] > 0).mean() > 0.98
    assert report.iterations == 100 and report.samples == 12_000
    assert 0.0 < report.final_loss < 0.03
    assert fractions == pytest.approx([k / 10 for k in range(1, 11)]) and fractions[-1] == 1.0


def test_the_same_seed_gives_the_same_weights(ball, fitted):
    model, report, _ = fitted
    again, again_report = fit_sdf(*ball, SMALL, seed=1, device=CPU)
    other, _ = fit_sdf(*ball, replace(SMALL, iterations=20), seed=2, device=CPU)
    first = model.state_dict()
    assert all(torch.equal(first[name], value) for name, value in again.state_dict().items())
    assert again_report.final_loss == report.final_loss
    assert not torch.equal(first["output.weight"], other.state_dict()["output.weight"])


def test_iterations_are_split_over_the_pools():
    assert pool_steps(61, 2) == [31, 30]
    assert pool_steps(25, 3) == [9, 9, 7]
    assert pool_steps(1, 3) == [1, 0, 0]
    assert sum(pool_steps(600, 4)) == 600


def test_fit_settings_saved_with_the_removed_eikonal_weight_still_load():
    saved = {**to_dict(SMALL), "eikonal_weight": 0.0}
    saved["band_sigmas"] = list(saved["band_sigmas"])  # as JSON gives it back
    assert fit_settings_from_dict(saved) == SMALL
