"""engine.settings: presets, validation with one-line errors, frozen settings and their JSON round trip."""

import dataclasses
import json

import pytest

from engine.errors import BadInputError
from engine.settings import QUALITIES, fit_settings_from_dict, part_field_preset, preset, run_settings, to_dict


@pytest.mark.parametrize("quality", QUALITIES)
def test_each_preset_is_a_valid_run(quality):
    settings = run_settings(quality, parts=3, types=2, seed=7, threads=2)
    assert settings.quality == quality and settings.seed == 7
    assert settings.segment.parts == 3 and settings.segment.types == 2
    assert settings.fit == preset(quality)
    assert settings.part_field is not None


def test_presets_grow_with_quality():
    fast, balanced, high = (preset(q) for q in QUALITIES)
    assert fast.iterations < balanced.iterations < high.iterations
    assert fast.model.width <= balanced.model.width < high.model.width
    fast_parts, balanced_parts, high_parts = (part_field_preset(q) for q in QUALITIES)
    assert fast_parts.iterations < balanced_parts.iterations < high_parts.iterations


def test_no_part_meshes_drops_the_part_field_settings():
    assert run_settings("fast", part_meshes=False).part_field is None


@pytest.mark.parametrize("kwargs, message", [
    ({"quality": "ultra"}, "unknown quality"),
    ({"device": "tpu"}, "unknown device"),
    ({"parts": 0}, "--parts"),
    ({"types": 300}, "--types"),
    ({"threads": 0}, "--threads"),
    ({"seed": -1}, "--seed"),
])
def test_bad_values_are_one_line_bad_input(kwargs, message):
    with pytest.raises(BadInputError, match=message) as error:
        run_settings(**kwargs)
    assert "\n" not in str(error.value)


def test_settings_are_frozen():
    settings = run_settings("fast")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.seed = 3


@pytest.mark.parametrize("quality", QUALITIES)
def test_fit_settings_survive_json(quality):
    fit = preset(quality)
    assert fit_settings_from_dict(json.loads(json.dumps(to_dict(fit)))) == fit


def test_unknown_keys_in_saved_settings_are_ignored():
    data = {**to_dict(preset("fast")), "a_key_from_another_version": 1.0}
    assert fit_settings_from_dict(data) == preset("fast")
