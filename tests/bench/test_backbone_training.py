import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from bench.backbone_training import BackboneRecipe, train_backbone
from bench.collection.samples import collection_samples
from bench.head_training import HeadRecipe, layer_activations, surface_rows, train_head
from engine.backbone.head import HeadSettings
from engine.backbone.latent_fit import clamped_l1, fine_tune, fit_latent
from engine.backbone.model import BackboneSettings

SMALL = BackboneRecipe(shapes=3, samples_per_shape=4096, steps=300, shapes_per_step=3, points_per_shape=512,
                       backbone=BackboneSettings(width=32, hidden_layers=3, skip_layer=2, latent_size=8))


@pytest.fixture(scope="module")
def trained():
    """Samples of three collection shapes and a small backbone trained on them: (points, distances, model, history)."""
    points, distances = collection_samples(SMALL.seed, "train", SMALL.shapes, SMALL.samples_per_shape)
    torch.set_num_threads(2)
    model, history = train_backbone(SMALL, points, distances, torch.device("cpu"))
    return points, distances, model, history


def test_the_auto_decoder_learns_the_shapes_and_repeats_itself_with_a_seed(trained):
    points, distances, _, history = trained
    assert np.mean(history[-30:]) < 0.5 * np.mean(history[:30])
    short = replace(SMALL, steps=20)
    _, again = train_backbone(short, points, distances, torch.device("cpu"))
    # Equal up to float rounding: on AVX512 CPUs the BLAS kernels' summation order can follow memory
    # alignment, so a repeat in one process may differ in the 7th digit (seen once here, on an Intel Xeon).
    np.testing.assert_allclose(again, history[:20], rtol=1e-5)
    _, other = train_backbone(replace(short, seed=1), points, distances, torch.device("cpu"))
    assert not np.allclose(other, again, rtol=1e-3)


def test_latent_fitting_finds_a_code_for_a_shape_without_touching_the_decoder(trained):
    points, distances, model, _ = trained
    decoder = model.decoder
    before = [p.detach().clone() for p in decoder.parameters()]
    target_points, target_distances = torch.from_numpy(points[1]), torch.from_numpy(distances[1])
    code = fit_latent(decoder, target_points, target_distances, steps=200, learning_rate=1e-2)
    def loss(code):
        with torch.no_grad():
            predicted = decoder(target_points, code.expand(len(target_points), -1))
            return float(clamped_l1(predicted, target_distances, 0.1))

    own, others = loss(model.codes.weight[1]), [loss(model.codes.weight[i]) for i in (0, 2)]
    assert loss(code) < 1.2 * own and loss(code) < min(others)
    assert all(torch.equal(a, b) for a, b in zip(before, decoder.parameters(), strict=True))


def test_a_fine_tune_after_the_code_fits_a_shape_closer_on_a_copy_of_the_decoder(trained):
    points, distances, model, _ = trained
    decoder = model.decoder
    before = [p.detach().clone() for p in decoder.parameters()]
    target_points, target_distances = torch.from_numpy(points[2]), torch.from_numpy(distances[2])
    code = fit_latent(decoder, target_points, target_distances, steps=100, learning_rate=1e-2)
    tuned = fine_tune(decoder, code, target_points, target_distances, steps=100, learning_rate=2e-3)

    def loss(network):
        with torch.no_grad():
            return float(clamped_l1(network(target_points, code.expand(len(target_points), -1)), target_distances, 0.1))

    assert loss(tuned) < 0.8 * loss(decoder)
    assert all(torch.equal(a, b) for a, b in zip(before, decoder.parameters(), strict=True))
    assert not any(p.requires_grad for p in tuned.parameters())


def test_torchrun_trains_with_ddp_over_two_processes(tmp_path):
    out = tmp_path / "backbone"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "bench", "train-backbone", "--shapes", "4", "--steps", "10", "--samples-per-shape", "1024",
               "--threads", "1", "--output", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["provenance"]["world_size"] == 2 and out.with_suffix(".pt").stat().st_size > 0


def test_the_dino_head_learns_without_collapsing_to_one_prototype(trained):
    points, distances, model, _ = trained
    recipe = HeadRecipe(steps=120, shapes_per_step=3, points_per_shape=256,
                        head=HeadSettings(hidden=64, features=16, prototypes=8))
    head, history = train_head(recipe, model.decoder, model.codes.weight.detach(), points, distances)
    assert np.isfinite(history).all() and np.mean(history[-20:]) < np.mean(history[:20])
    rows = surface_rows(distances)
    batch = torch.from_numpy(np.concatenate([points[s, rows[s][:300]] for s in range(3)]))
    codes = model.codes.weight.detach()[torch.arange(3).repeat_interleave(300)]
    activations = layer_activations(model.decoder, batch, codes)
    with torch.no_grad():
        features, types = head.features(activations), head(activations).argmax(dim=1)
    torch.testing.assert_close(features.norm(dim=1), torch.ones(len(features)))
    assert len(torch.unique(types)) >= 2


def test_the_patch_view_averages_each_points_nearest_neighbours_within_its_own_shape():
    from bench.head_training import patch_means

    activations = torch.arange(12.0).reshape(6, 2)
    points = torch.tensor([[0.0, 0, 0], [1, 0, 0], [5, 0, 0], [0, 0, 0], [0, 1, 0], [0, 9, 0]])
    means = patch_means(activations, points, per_shape=3, neighbours=2)
    torch.testing.assert_close(means, torch.tensor([[1.0, 2], [1, 2], [3, 4], [7, 8], [7, 8], [9, 10]]))
