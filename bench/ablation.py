"""Cue ablations: a run's fitted field segmented again with cues switched off, as a re-cluster would.

``FieldArrays`` holds what segmenting reads of a fitted field (activations and thickness at the welded
vertices); saved with ``save``, a whole benchmark split is re-segmented in minutes without fitting again
(``python -m bench psb --fields DIR``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

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


@dataclass(frozen=True)
class FieldArrays:
    """What segmenting reads of a run's fitted field, on its welded mesh.

    unit_vertices: (u, 3) unit-cube positions, faces: (f, 3) welded, features: (u, d) standardised
    activations, thickness: (u, 2) diameter and radius, input_to_welded: (n,) welded vertex of each input vertex.
    """

    unit_vertices: np.ndarray
    faces: np.ndarray
    features: np.ndarray
    thickness: np.ndarray
    input_to_welded: np.ndarray

    @classmethod
    def from_run(cls, result: RunResult, segment: SegmentSettings, seed: int) -> FieldArrays:
        """Read the activations and thickness of ``result``'s field at its welded vertices."""
        device = torch.device(result.device)
        unit = result.field.normalisation.to_unit(result.welded.vertices)
        features = feature_set(activations(result.field.model, unit, device), segment.feature_set)
        thickness = surface_thickness(result.field.model, unit, result.welded.faces, device, seed)
        return cls(unit, result.welded.faces, features, thickness, result.welded.input_to_welded)

    def save(self, path: Path) -> None:
        """Write the arrays to ``path`` (.npz) through a temporary file, so a killed run leaves none half-written."""
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, **{name: getattr(self, name) for name in self.__dataclass_fields__})
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> FieldArrays:
        with np.load(path) as data:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})

    def labels(self, segment: SegmentSettings, seed: int) -> np.ndarray:
        """(n,) part label per input vertex: the field segmented with ``segment`` as the engine does."""
        graph = build_surface_graph(self.unit_vertices, self.faces, self.features, self.thickness, segment)
        parts = segment_surface(self.unit_vertices, self.faces, graph, segment, seed).part_labels
        return parts[self.input_to_welded]


def ablation_labels(arrays: FieldArrays, segment: SegmentSettings, ablations: dict[str, dict],
                    seed: int) -> dict[str, np.ndarray]:
    """(n,) part label per input vertex for each ablation: ``segment`` with its switches, on the field's arrays."""
    return {name: arrays.labels(replace(segment, **switches), seed) for name, switches in ablations.items()}
