"""Memory: the peak estimate and the refusal, and the lean forms of the big array steps (same results)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh

from bench.memory_table import render_memory_table
from engine import memory
from engine.errors import BadInputError
from engine.field.model import SDFDecoder
from engine.field.probing import activations, feature_set, feature_sets
from engine.mesh.graph import unique_edges
from engine.pipeline import run
from engine.progress import Reporter
from engine.segment.classifier import gather_rows, held_out_accuracy
from engine.segment.clustering import edge_feature_change
from engine.settings import ModelSettings, preset, run_settings

FAST = preset("fast").model
FAST_RUN = run_settings("fast", part_meshes=False)
GB = 1024**3


def test_estimate_grows_with_vertices_and_width():
    small, large = memory.estimated_peak_bytes(10_000, FAST), memory.estimated_peak_bytes(500_000, FAST)
    assert memory.FLOOR_BYTES < small < large
    assert memory.estimated_peak_bytes(500_000, ModelSettings(width=192, hidden_layers=8)) > 2 * large - small
    assert memory.estimated_peak_bytes(500_000, FAST, reads_activations=False) == memory.FLOOR_BYTES
    assert memory.estimated_peak_bytes(0, FAST, part_volumes=True) == memory.FLOOR_BYTES + memory.PART_VOLUME_BYTES


def test_estimate_covers_the_measured_peaks():
    """The 96x5 network the estimate was calibrated on (the fast preset before issue 12, docs/benchmarks.md):
    within [measured, 1.25 x measured] MB, with and without part volumes."""
    calibrated = ModelSettings(width=96, hidden_layers=5, skip_layer=3)
    for vertices, parts, measured_mb in ((40_962, False, 859), (163_842, False, 1729), (487_202, False, 4419),
                                         (10_242, True, 817), (163_842, True, 1922)):
        estimate_mb = memory.estimated_peak_bytes(vertices, calibrated, part_volumes=parts) / 1024**2
        assert measured_mb <= estimate_mb <= 1.25 * measured_mb


def test_estimate_covers_the_peaks_of_today_s_fast_preset():
    """64x5 since issue 12 (`python -m bench memory 6 7`, docs/benchmarks.md): never below the measured peak."""
    for vertices, measured_mb in ((40_962, 601), (163_842, 1349)):
        estimate_mb = memory.estimated_peak_bytes(vertices, FAST) / 1024**2
        assert measured_mb <= estimate_mb <= 1.4 * measured_mb


def test_refusal_is_one_line_with_the_sizes_and_what_to_do():
    with pytest.raises(BadInputError) as raised:
        memory.check_memory(655_362, 1_310_720, FAST_RUN, available=2 * GB)
    message = str(raised.value)
    assert "\n" not in message
    assert "1,310,720 faces" in message and "2.0 GB is available" in message and "decimate it to under" in message
    suggested = int(message.split("under ")[1].split(" faces")[0].replace(",", ""))
    ratio = suggested / 1_310_720  # the suggestion fits: its estimate stays within the budget
    assert memory.estimated_peak_bytes(int(655_362 * ratio), FAST) * memory.HEADROOM <= 2 * GB


def test_no_refusal_when_it_fits_or_when_memory_is_unknown(monkeypatch):
    memory.check_memory(163_842, 327_680, FAST_RUN, available=24 * GB)
    memory.check_memory(10**7, 2 * 10**7, FAST_RUN, reads_activations=False, available=2 * GB)
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    memory.check_memory(10**8, 2 * 10**8, FAST_RUN)


def test_a_reused_field_is_estimated_with_its_own_width():
    wide = ModelSettings(width=192, hidden_layers=8)
    memory.check_memory(163_842, 327_680, FAST_RUN, available=3 * GB)
    with pytest.raises(BadInputError):
        memory.check_memory(163_842, 327_680, FAST_RUN, wide, available=3 * GB)


def test_advice_without_a_size_when_even_the_floor_does_not_fit():
    with pytest.raises(BadInputError, match="free memory"):
        memory.check_memory(1_000, 2_000, FAST_RUN, available=100 * 1024**2)


def test_available_bytes_is_positive_or_unknown():
    available = memory.available_bytes()
    assert available is None or available > 0


def test_cgroup_room_v2_v1_and_unlimited(tmp_path):
    assert memory._cgroup_room(tmp_path) is None
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("100\n")
    assert memory._cgroup_room(tmp_path) is None
    (tmp_path / "memory.max").write_text(f"{4 * GB}\n")
    assert memory._cgroup_room(tmp_path) == 4 * GB - 100
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{2 * GB}\n")
    (v1 / "memory" / "memory.usage_in_bytes").write_text(f"{GB}\n")
    assert memory._cgroup_room(v1) == GB


def test_run_refuses_before_fitting(monkeypatch):
    """The check sits right after welding: a mesh that does not fit is refused before the fit starts."""
    sphere = trimesh.creation.icosphere(subdivisions=2)
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 * 1024**2)
    monkeypatch.setattr("engine.pipeline.fit_sdf", lambda *a, **k: pytest.fail("fitting started"))
    with pytest.raises(BadInputError, match="decimate|free memory"):
        run(np.asarray(sphere.vertices), np.asarray(sphere.faces), FAST_RUN, Reporter())


@pytest.fixture(scope="module")
def layers() -> list[np.ndarray]:
    torch.manual_seed(0)
    model = SDFDecoder(ModelSettings(width=16, hidden_layers=3, skip_layer=2, frequencies=2)).eval()
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (500, 3))
    return activations(model, points, torch.device("cpu"), chunk=64)


def test_activations_fill_whole_layers_the_same_whatever_the_chunk(layers):
    torch.manual_seed(0)
    model = SDFDecoder(ModelSettings(width=16, hidden_layers=3, skip_layer=2, frequencies=2)).eval()
    points = np.random.default_rng(0).uniform(-0.5, 0.5, (500, 3))
    whole = activations(model, points, torch.device("cpu"), chunk=10_000)
    assert [layer.shape for layer in layers] == [(500, 16)] * 3
    assert all(layer.dtype == np.float32 and layer.flags.c_contiguous for layer in layers)
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(layers, whole, strict=True))


def test_feature_set_is_the_same_as_the_full_dict(layers):
    layers = [*layers[:2], np.zeros_like(layers[2])]  # a dead layer: no column survives
    sets = feature_sets(layers)
    for name in ("all", "layer_0", "layer_1"):
        chosen = feature_set(layers, name)
        assert chosen.dtype == sets[name].dtype and np.array_equal(chosen, sets[name])
    with pytest.raises(KeyError):
        feature_set(layers, "layer_9")


def test_edge_feature_change_in_blocks_is_exact(layers):
    features = feature_set(layers, "all")
    edges = unique_edges(np.random.default_rng(1).integers(0, len(features), (300, 3)))
    whole = np.linalg.norm(features[edges[:, 0]] - features[edges[:, 1]], axis=1)
    for block_values in (1, 100, 10**9):
        assert np.array_equal(edge_feature_change(features, edges, block_values), whole)


def test_classifier_on_layer_blocks_is_the_same_as_on_their_concatenation(layers):
    together = np.concatenate(layers, axis=1)
    rows = np.random.default_rng(2).random(len(together)) < 0.3
    assert np.array_equal(gather_rows(layers, rows), together[rows])
    assert np.array_equal(gather_rows(layers, np.flatnonzero(rows)), together[rows])
    labels = (together[:, 0] > np.median(together[:, 0])).astype(np.int64)
    assert held_out_accuracy(layers, labels, seed=0) == held_out_accuracy(together, labels, seed=0)


def test_memory_table_markdown():
    rows = [{"faces": 20_480, "vertices": 10_242, "peak_rss_mb": 601.2, "estimate_mb": 679.0, "seconds": 30.0,
             "exit_code": 0}]
    text = render_memory_table(rows, "fast", 2)
    assert "| 20,480 | 10,242 | 601 | 679 | 30.0 | 0 |" in text
