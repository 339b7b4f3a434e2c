import pytest
import torch

from engine.backbone.model import BackboneSettings, LatentDecoder
from engine.backbone.weights import WeightsError, load_backbone, save_backbone

SMALL = BackboneSettings(width=16, hidden_layers=3, skip_layer=2, frequencies=2, latent_size=4)


def test_saved_weights_load_to_the_same_function(tmp_path):
    torch.manual_seed(0)
    decoder = LatentDecoder(SMALL)
    save_backbone(decoder, tmp_path / "backbone", {"recipe": "test"})
    loaded, record = load_backbone(tmp_path / "backbone")
    points, codes = torch.rand(10, 3), torch.rand(10, 4)
    torch.testing.assert_close(loaded(points, codes), decoder(points, codes))
    assert record["settings"]["width"] == 16 and record["provenance"] == {"recipe": "test"}


def test_taps_are_one_activation_per_hidden_layer():
    distances, taps = LatentDecoder(SMALL).forward_with_taps(torch.rand(5, 3), torch.rand(5, 4))
    assert distances.shape == (5,) and [tap.shape for tap in taps] == [(5, 16)] * 3


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="missing: reinstall"):
        load_backbone(tmp_path / "nothing")


def test_a_corrupt_file_is_a_clear_error(tmp_path):
    save_backbone(LatentDecoder(SMALL), tmp_path / "backbone", {})
    (tmp_path / "backbone.pt").write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="cannot be read"):
        load_backbone(tmp_path / "backbone")
    save_backbone(LatentDecoder(SMALL), tmp_path / "other", {})
    (tmp_path / "other.json").write_text("{\"settings\": {\"width\": 16}")
    with pytest.raises(WeightsError, match="cannot be read"):
        load_backbone(tmp_path / "other")
