"""Cue ablations: a run's fitted field segmented again with cues switched off, as a re-cluster would."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from engine.field.probing import activations, feature_set
from engine.field.thickness import surface_thickness
from engine.pipeline import RunResult
from engine.segment.segmentation import build_surface_graph, segment_surface
from engine.settings import SegmentSettings

CUE_ABLATIONS = {
    "without thickness": {"use_thickness": False},
    "without activations": {"use_activations": False},
    "without creases": {"use_creases": False},
}
"""Each cue switched off alone (``SegmentSettings`` fields per column)."""


def ablation_labels(result: RunResult, segment: SegmentSettings, ablations: dict[str, dict],
                    seed: int) -> dict[str, np.ndarray]:
    """(n,) part label per input vertex for each ablation: ``segment`` with its switches, on ``result``'s field."""
    device = torch.device(result.device)
    unit = result.field.normalisation.to_unit(result.welded.vertices)
    features = feature_set(activations(result.field.model, unit, device), segment.feature_set)
    thickness = surface_thickness(result.field.model, unit, result.welded.faces, device, seed)
    labels = {}
    for name, switches in ablations.items():
        settings = replace(segment, **switches)
        graph = build_surface_graph(unit, result.welded.faces, features, thickness, settings)
        parts = segment_surface(unit, result.welded.faces, graph, settings, seed).part_labels
        labels[name] = parts[result.welded.input_to_welded]
    return labels
