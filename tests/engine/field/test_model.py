"""The decoder's shapes (engine.field.model) and reading it at points (engine.field.probing)."""

import numpy as np
import pytest
import torch

from engine.field.model import PositionalEncoding, SDFDecoder
from engine.field.probing import activations, evaluate, on_device
from engine.settings import ModelSettings

CPU = torch.device("cpu")
SMALL = ModelSettings(width=16, hidden_layers=4, skip_layer=2, frequencies=3)
POINTS = np.random.default_rng(0).uniform(-0.5, 0.5, (300, 3))


def decoder(outputs: int = 1) -> SDFDecoder:
    torch.manual_seed(0)
    return SDFDecoder(SMALL, outputs=outputs).eval()


def test_positional_encoding_keeps_the_point_and_adds_six_values_per_frequency():
    encoding = PositionalEncoding(3)
    points = torch.rand(7, 3)
    encoded = encoding(points)
    assert encoded.shape == (7, encoding.output_size) == (7, 3 + 18)
    assert torch.equal(encoded[:, :3], points)
    assert torch.allclose(encoded[:, 3], torch.sin(points[:, 0] * torch.pi))


@pytest.mark.parametrize("outputs, shape", [(1, (50,)), (3, (50, 3))])
def test_decoder_output_and_tap_shapes(outputs, shape):
    model = decoder(outputs)
    output, taps = model.forward_with_taps(torch.rand(50, 3))
    assert output.shape == shape
    assert [tap.shape for tap in taps] == [(50, SMALL.width)] * SMALL.hidden_layers
    assert torch.equal(model(torch.zeros(4, 3)), model.forward_with_taps(torch.zeros(4, 3))[0])
    encoded = model.encoding.output_size
    assert [layer.in_features for layer in model.hidden] == [encoded, 16, 16 + encoded, 16]


def test_decoder_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation"):
        SDFDecoder(ModelSettings(activation="tanh"))


@pytest.mark.parametrize("outputs", [1, 3])
def test_evaluate_gives_the_outputs_whatever_the_chunk(outputs):
    model = decoder(outputs)
    values = evaluate(model, POINTS, CPU, chunk=64)
    assert values.shape == (300, outputs) and values.dtype == np.float32
    with torch.no_grad():
        direct = model(torch.from_numpy(POINTS.astype(np.float32))).reshape(300, outputs).numpy()
    assert np.allclose(values, direct, atol=1e-6)
    assert np.allclose(values, evaluate(model, POINTS, CPU, chunk=1000), atol=1e-6)
    assert evaluate(model, POINTS[:0], CPU).shape == (0, outputs)


def test_activations_are_the_hidden_layers_and_lead_to_the_outputs():
    model = decoder(2)
    layers = activations(model, POINTS, CPU, chunk=70)
    assert [layer.shape for layer in layers] == [(300, SMALL.width)] * SMALL.hidden_layers
    assert all(layer.dtype == np.float32 for layer in layers)
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(layers, activations(model, POINTS, CPU), strict=True))
    weight, bias = model.output.weight.detach().numpy(), model.output.bias.detach().numpy()
    assert np.allclose(layers[-1] @ weight.T + bias, evaluate(model, POINTS, CPU), atol=1e-5)


def test_reading_a_model_elsewhere_leaves_the_callers_model_where_it_is():
    model = decoder()
    assert on_device(model, CPU) is model
    moved = on_device(model, torch.device("meta"))
    assert moved is not model and next(moved.parameters()).device.type == "meta"
    assert all(parameter.device == CPU for parameter in model.parameters())
