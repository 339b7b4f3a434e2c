import numpy as np
import torch

from engine.backbone.coded import TRAINING_RADIUS, CodedDecoder, frame_scale
from engine.backbone.model import BackboneSettings, LatentDecoder
from engine.field.probing import activations, evaluate

SMALL = BackboneSettings(width=16, hidden_layers=3, skip_layer=2, frequencies=2, latent_size=4)


def test_frame_scale_puts_the_farthest_vertex_on_the_training_radius():
    vertices = np.array([[0.5, 0.0, 0.0], [0.0, -0.25, 0.0]])
    assert np.isclose(np.linalg.norm(vertices * frame_scale(vertices), axis=1).max(), TRAINING_RADIUS)


def test_a_coded_decoder_reads_like_a_per_mesh_field_in_engine_units():
    torch.manual_seed(0)
    decoder, code = LatentDecoder(SMALL), torch.randn(4)
    field = CodedDecoder(decoder, code, 0.8)
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (50, 3)).astype(np.float32)
    with torch.no_grad():
        direct = decoder(torch.from_numpy(points) * 0.8, code.expand(50, -1)) / 0.8
    np.testing.assert_allclose(evaluate(field, points, torch.device("cpu"))[:, 0], direct.numpy(), rtol=1e-5)
    assert [layer.shape for layer in activations(field, points, torch.device("cpu"))] == [(50, 16)] * 3
